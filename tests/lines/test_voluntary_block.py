"""The subscriber's own block (lost phone): block_line_voluntarily / unblock_line_voluntarily.

Lifting it never lifts a block for debt; every change leaves an audit row and an SMS; a refused
change leaves nothing behind.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.lines import services
from selfcare.lines.errors import LineNotBlockedBySubscriber, LineTerminated
from selfcare.lines.models import Line, LineStatus
from selfcare.notifications.models import OutboundSms
from tests.concurrency import run_in_threads
from tests.factories import make_line

pytestmark = pytest.mark.django_db


def audit_rows(line: Line) -> list[tuple[str, str, dict | None, dict | None]]:
    return list(
        AuditEvent.objects.filter(subject_type="line", subject_id=str(line.pk), action__contains="block")
        .order_by("id")
        .values_list("action", "actor", "before", "after")
    )


def sms_templates(line: Line) -> list[tuple[str, str]]:
    return list(
        OutboundSms.objects.filter(msisdn=line.msisdn).order_by("id").values_list("template", "language")
    )


def state(line: Line) -> tuple[str, str]:
    line.refresh_from_db()
    return line.status, line.status_before_block


def test_blocking_an_active_line_blocks_it_audits_and_sends_an_sms(frozen_clock):
    # Given an active line of a customer who reads Russian
    line = make_line()
    line.account.customer.language = "ru"
    line.account.customer.save(update_fields=["language"])
    clock.advance(timedelta(minutes=5))

    # When the subscriber blocks it
    blocked = services.block_line_voluntarily(line, actor="user:7")

    # Then it is blocked by the subscriber, remembering it was active, since now
    assert state(line) == ("blocked_subscriber", "active")
    assert blocked.status_changed_at == clock.now()
    # and an audit row and a Russian SMS say so
    assert audit_rows(line) == [
        ("line.block.subscriber", "user:7", {"status": "active"}, {"status": "blocked_subscriber"})
    ]
    assert sms_templates(line) == [("lines.blocked_by_subscriber", "ru")]
    assert "636" in OutboundSms.objects.get(msisdn=line.msisdn).text


def test_blocking_twice_changes_nothing_the_second_time(frozen_clock):
    # Given a line the subscriber has blocked
    line = make_line()
    services.block_line_voluntarily(line, actor="user:7")
    changed_at = Line.objects.get(pk=line.pk).status_changed_at
    clock.advance(timedelta(minutes=1))

    # When they block it again (a second tap)
    services.block_line_voluntarily(line, actor="user:7")

    # Then nothing more happened: one audit row, one SMS, the same time of change
    assert state(line) == ("blocked_subscriber", "active")
    assert Line.objects.get(pk=line.pk).status_changed_at == changed_at
    assert len(audit_rows(line)) == 1
    assert len(sms_templates(line)) == 1


def test_unblocking_returns_an_active_line_to_active(frozen_clock):
    # Given a line the subscriber has blocked
    line = make_line()
    services.block_line_voluntarily(line, actor="user:7")

    # When they lift the block
    services.unblock_line_voluntarily(line, actor="user:7")

    # Then it is active again, audited, and an SMS says it works again
    assert state(line) == ("active", "")
    assert audit_rows(line)[-1] == (
        "line.unblock.subscriber",
        "user:7",
        {"status": "blocked_subscriber"},
        {"status": "active"},
    )
    assert sms_templates(line) == [
        ("lines.blocked_by_subscriber", "en"),
        ("lines.unblocked_by_subscriber", "en"),
    ]


def test_unblocking_never_lifts_a_block_for_debt(frozen_clock):
    # Given a line blocked for debt, which its subscriber then blocks because the phone was lost
    line = make_line()
    services.set_line_status(line, status=LineStatus.BLOCKED_FOR_DEBT, actor="system:billing")
    services.block_line_voluntarily(line, actor="user:7")
    assert state(line) == ("blocked_subscriber", "blocked_debt")

    # When the subscriber lifts their block
    services.unblock_line_voluntarily(line, actor="user:7")

    # Then the line is blocked for debt again, and the SMS says outgoing services stay suspended
    assert state(line) == ("blocked_debt", "")
    assert audit_rows(line)[-1][3] == {"status": "blocked_debt"}
    assert sms_templates(line)[-1] == ("lines.unblocked_still_in_debt", "en")


def test_staff_putting_a_debtor_under_the_subscribers_block_keeps_the_debt_block_too(frozen_clock):
    # Given a line blocked for debt that staff block for the subscriber with the generic status change
    line = make_line()
    services.set_line_status(line, status=LineStatus.BLOCKED_FOR_DEBT, actor="system:billing")
    services.set_line_status(line, status=LineStatus.BLOCKED_BY_SUBSCRIBER, actor="staff:1")

    # When the subscriber's block is lifted
    services.unblock_line_voluntarily(line, actor="user:7")

    # Then the debt block is back
    assert state(line) == ("blocked_debt", "")


@pytest.mark.parametrize("status", [LineStatus.ACTIVE, LineStatus.BLOCKED_FOR_DEBT])
def test_unblocking_a_line_the_subscriber_did_not_block_is_refused(frozen_clock, status):
    # Given a line that is active, or blocked for debt only
    line = make_line()
    services.set_line_status(line, status=status, actor="system:billing")
    audit_before = AuditEvent.objects.count()

    # When the subscriber asks to lift "their" block
    with pytest.raises(LineNotBlockedBySubscriber) as refused:
        services.unblock_line_voluntarily(line, actor="user:7")

    # Then it is refused with a clear message and nothing changed: status, audit rows, SMS
    assert refused.value.code == "line_not_blocked_by_subscriber"
    assert state(line) == (status, "")
    assert AuditEvent.objects.count() == audit_before
    assert sms_templates(line) == []


def test_a_terminated_line_cannot_be_blocked(frozen_clock):
    # Given a terminated line
    line = make_line()
    services.set_line_status(line, status=LineStatus.TERMINATED, actor="staff:1")
    audit_before = AuditEvent.objects.count()

    # When someone tries to block it
    with pytest.raises(LineTerminated):
        services.block_line_voluntarily(line, actor="user:7")

    # Then nothing changed
    assert state(line) == ("terminated", "")
    assert AuditEvent.objects.count() == audit_before
    assert sms_templates(line) == []


@pytest.mark.django_db(transaction=True)
def test_blocking_from_many_requests_at_once_blocks_once():
    # Given an active line
    line = make_line()

    # When four requests block it at the same moment
    run_in_threads(4, lambda _i: services.block_line_voluntarily(line, actor="user:7"))

    # Then it was blocked once: one audit row, one SMS
    assert state(line) == ("blocked_subscriber", "active")
    assert len(audit_rows(line)) == 1
    assert [template for template, _language in sms_templates(line)] == ["lines.blocked_by_subscriber"]
