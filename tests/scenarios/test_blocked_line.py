"""Blocked lines.

Blocked by the subscriber (a lost phone): chargeable outgoing usage is refused, incoming is not;
refusals are final. Blocked for debt (fair blocking): what the buckets already paid for still works
until the period ends; only usage that would cost money is refused.
"""

from __future__ import annotations

import pytest

from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.lines import services as lines
from selfcare.usage import queries, services
from tests.factories import TEST_ACTOR, fund, make_line
from tests.scenarios.conftest import at
from tests.usage.factories import make_bundle_tariff, usage

pytestmark = pytest.mark.django_db


def test_a_line_blocked_by_the_subscriber(zones, story):
    # Given a bundle line with 100.00, blocked by its subscriber
    with story("2026-03-02T09:00:00"):
        line = make_line(tariff=make_bundle_tariff(zones, voice_s=600, sms=5), msisdn="+79004445566")
        fund(line.account.ledger_account, 10_000)
        lines.set_line_status(line, status="blocked_subscriber", actor=TEST_ACTOR)
    usage_transactions = Transaction.objects.filter(kind="usage").count()

    # When the network still reports usage
    with story("2026-03-02T23:00:00"):
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-02T10:00:00"), record_id="c1", duration_s=60,
                      counterparty="+79161234567"),
                usage(line.msisdn, "sms_out", at("2026-03-02T10:01:00"), record_id="s1",
                      counterparty="+79161234567"),
                usage(line.msisdn, "data", at("2026-03-02T10:02:00"), record_id="d1", volume_bytes=5000),
                usage(line.msisdn, "voice_in", at("2026-03-02T10:03:00"), record_id="c2", duration_s=60,
                      counterparty="+79161234567"),
                usage(line.msisdn, "sms_in", at("2026-03-02T10:04:00"), record_id="s2",
                      counterparty="+79161234567"),
            ]
        )  # fmt: skip

    # Then outgoing usage is refused, incoming accepted, and nothing is drawn or charged
    assert [(r.status, r.reason) for r in result.results] == [
        ("rejected", "line_blocked"),
        ("rejected", "line_blocked"),
        ("rejected", "line_blocked"),
        ("accepted", ""),
        ("accepted", ""),
    ]
    assert {
        b.usage_kind: b.remaining for b in queries.list_line_buckets(line.pk, at=at("2026-03-02T23:00:00"))
    } == {
        "voice": 600,
        "sms": 5,
        "data": 10 * 1024**3,
    }
    assert get_balance_minor(line.account.ledger_account_id) == 10_000
    assert Transaction.objects.filter(kind="usage").count() == usage_transactions

    # When the line is unblocked and the refused call is sent again next to a new one
    with story("2026-03-03T09:00:00"):
        lines.set_line_status(line, status="active", actor=TEST_ACTOR)
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-02T10:00:00"), record_id="c1", duration_s=60,
                      counterparty="+79161234567"),
                usage(line.msisdn, "voice_out", at("2026-03-03T08:00:00"), record_id="c3", duration_s=60,
                      counterparty="+79161234567"),
            ]
        )  # fmt: skip

    # Then the refused one stays refused (a duplicate) and the new one draws a minute
    assert [r.status for r in result.results] == ["duplicate", "accepted"]
    voice = next(
        b for b in queries.list_line_buckets(line.pk, at=at("2026-03-03T09:00:00")) if b.usage_kind == "voice"
    )
    assert voice.remaining == 540
    assert verify_ledger().ok


def test_a_line_blocked_for_debt_keeps_what_its_buckets_paid_for(zones, story):
    # Given a bundle line with 2 minutes left in its voice bucket (opened while the line was in good
    # standing) and nothing on the balance, blocked for debt
    with story("2026-03-02T09:00:00"):
        line = make_line(tariff=make_bundle_tariff(zones, voice_s=120, sms=5), msisdn="+79004445577")
        services.grant_buckets(line)
        lines.set_line_status(line, status="blocked_debt", actor=TEST_ACTOR)
    usage_transactions = Transaction.objects.filter(kind="usage").count()

    # When it makes a 2-minute call (inside the bucket) and then a 1-minute call (beyond it)
    with story("2026-03-02T23:00:00"):
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-02T10:00:00"), record_id="f1", duration_s=120,
                      counterparty="+79161234567"),
                usage(line.msisdn, "voice_out", at("2026-03-02T11:00:00"), record_id="f2", duration_s=60,
                      counterparty="+79161234567"),
            ]
        )  # fmt: skip

    # Then the first is accepted from the bucket, the second refused, and no money moves
    assert [(r.status, r.reason, r.price_minor) for r in result.results] == [
        ("accepted", "", 0),
        ("rejected", "line_blocked", 0),
    ]
    voice = next(
        b for b in queries.list_line_buckets(line.pk, at=at("2026-03-02T23:00:00")) if b.usage_kind == "voice"
    )
    assert voice.remaining == 0
    assert get_balance_minor(line.account.ledger_account_id) == 0
    assert Transaction.objects.filter(kind="usage").count() == usage_transactions
    assert verify_ledger().ok
