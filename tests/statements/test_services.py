"""Ordering: the SMS code, the period window, idempotency, the fee through the ledger, e-mail."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail

from selfcare.identity.models import AuditEvent
from selfcare.identity.services import Client
from selfcare.ledger.errors import InsufficientFunds
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import get_balance_minor
from selfcare.statements import services
from selfcare.statements.errors import (
    InvalidPeriod,
    NoCategories,
    NoEmail,
    OrderKeyReused,
    UnknownFormat,
    WrongCode,
)
from selfcare.statements.models import StatementOrder
from tests.factories import fund
from tests.statements.conftest import last_code, make_subscriber

pytestmark = pytest.mark.django_db
CLIENT = Client(ip="192.0.2.30", user_agent="pytest")


def order(user: Any, *, code: str, key: str = "k1", **fields: Any) -> StatementOrder:
    values: dict[str, Any] = {
        "period_start": date(2026, 2, 1),
        "period_end": date(2026, 2, 28),
        "categories": ["calls", "sms"],
        "fmt": "csv",
        "by_email": False,
        "code": code,
        "idempotency_key": key,
        "client": CLIENT,
        **fields,
    }
    return services.order_statement(user, **values)


def code_for(user: Any, django_capture_on_commit_callbacks: Any) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        services.request_order_code(user, client=CLIENT)
    return last_code(user.msisdn)


def test_an_order_needs_the_code_sent_for_statements(frozen_clock, django_capture_on_commit_callbacks):
    user, _line = make_subscriber()
    # Given a code sent for something else (a sign-in code) it is refused, and nothing is ordered
    with pytest.raises(WrongCode):
        order(user, code="000000")
    assert StatementOrder.objects.count() == 0
    # When the statement code is used
    code = code_for(user, django_capture_on_commit_callbacks)
    placed = order(user, code=code)
    # Then the order is queued in the user's language and audited
    assert (placed.status, placed.categories, placed.format, placed.language) == (
        "queued",
        ["calls", "sms"],
        "csv",
        "en",
    )
    assert AuditEvent.objects.filter(action="statement.order", outcome="ok").count() == 1
    # and the same code cannot place a second order
    with pytest.raises(WrongCode):
        order(user, code=code, key="k2")
    assert StatementOrder.objects.count() == 1


def test_the_same_key_returns_the_first_order_and_a_different_order_is_refused(
    frozen_clock, django_capture_on_commit_callbacks
):
    user, _line = make_subscriber()
    first = order(user, code=code_for(user, django_capture_on_commit_callbacks))
    assert order(user, code="spent") == first
    with pytest.raises(OrderKeyReused):
        order(user, code="spent", fmt="pdf")
    assert StatementOrder.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"period_start": date(2025, 9, 1)}, InvalidPeriod),  # more than six months back
        ({"period_end": date(2026, 3, 3)}, InvalidPeriod),  # tomorrow
        ({"period_start": date(2026, 3, 1), "period_end": date(2026, 2, 1)}, InvalidPeriod),
        ({"categories": []}, NoCategories),
        ({"categories": ["calls", "mms"]}, NoCategories),
        ({"fmt": "docx"}, UnknownFormat),
        ({"by_email": True}, NoEmail),  # the customer has no address
    ],
)
def test_bad_orders_are_refused_before_the_code_is_spent(frozen_clock, fields, error):
    user, _line = make_subscriber()
    with pytest.raises(error):
        order(user, code="123456", **fields)
    assert StatementOrder.objects.count() == 0
    assert AuditEvent.objects.filter(action="otp.check").count() == 0


def test_the_earliest_day_is_six_calendar_months_back(frozen_clock):
    assert services.earliest_day(date(2026, 3, 2)) == date(2025, 9, 2)
    assert services.earliest_day(date(2026, 8, 31)) == date(2026, 2, 28)


def test_a_paid_order_posts_its_fee_and_one_the_balance_cannot_pay_changes_nothing(
    frozen_clock, settings, django_capture_on_commit_callbacks
):
    settings.SELFCARE_STATEMENT_FEE_MINOR = 5_000
    user, line = make_subscriber()
    ledger_id = line.account.ledger_account_id
    fund(line.account.ledger_account, 3_000)
    # Given a balance below the price, the order is refused and no money moves
    with pytest.raises(InsufficientFunds):
        order(user, code=code_for(user, django_capture_on_commit_callbacks))
    assert (StatementOrder.objects.count(), get_balance_minor(ledger_id)) == (0, 3_000)
    assert AuditEvent.objects.filter(action="statement.order", outcome="no_funds").count() == 1
    # When the balance allows it
    fund(line.account.ledger_account, 7_000)
    frozen_clock.advance(__import__("datetime").timedelta(minutes=2))
    placed = order(user, code=code_for(user, django_capture_on_commit_callbacks), key="k2")
    # Then the fee is one ledger transaction, linked to the order
    assert get_balance_minor(ledger_id) == 5_000
    txn = Transaction.objects.get(pk=placed.fee_transaction_id)
    assert (txn.kind, txn.cause_type, txn.cause_id, placed.fee_minor) == (
        "statement_fee",
        "statement_order",
        str(placed.public_id),
        5_000,
    )


def test_ready_statement_is_announced_by_sms_and_by_email_with_a_link_not_the_file(
    frozen_clock, django_capture_on_commit_callbacks
):
    user, _line = make_subscriber(email="anna@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        placed = order(user, code=code_for(user, django_capture_on_commit_callbacks), by_email=True)
    placed.refresh_from_db()
    assert placed.status == "ready"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@example.com"]
    assert f"http://testserver/statements/{placed.public_id}/" in message.body
    assert message.attachments == []
    assert "call detail" in message.subject
    from selfcare.notifications.services import list_recent_console_messages

    texts = [m.text for m in list_recent_console_messages(10) if m.msisdn == user.msisdn]
    assert texts[0] == (
        "Selfcare Mobile: your call detail for 01.02.2026 - 28.02.2026 is ready. Download it in your account."
    )


def test_a_company_line_gets_its_events_but_never_the_company_money(
    frozen_clock, django_capture_on_commit_callbacks
):
    from tests.factories import make_account, make_customer, make_line

    company = make_customer(name="ACME", kind="organization")
    line = make_line(account=make_account(customer=company))
    user, line = make_subscriber(line)
    with django_capture_on_commit_callbacks(execute=True):
        placed = order(
            user, code=code_for(user, django_capture_on_commit_callbacks), categories=["calls", "other"]
        )
    placed.refresh_from_db()
    body = (services.statements_dir() / placed.file_name).read_text(encoding="utf-8-sig")
    assert "opening_balance" not in body
    assert ",money," not in body
    assert services.email_for(line) == ""


def test_generation_is_claimed_once(frozen_clock, django_capture_on_commit_callbacks):
    user, _line = make_subscriber()
    placed = order(user, code=code_for(user, django_capture_on_commit_callbacks))
    assert services.generate_statement(placed.pk) is not None
    assert services.generate_statement(placed.pk) is None
    assert AuditEvent.objects.filter(action="statement.generate").count() == 1


def test_orders_whose_job_was_lost_are_made_by_the_sweep(frozen_clock, django_capture_on_commit_callbacks):
    # Given an order whose job never ran (its queue was lost) and one whose worker died mid-way
    user, _line = make_subscriber()
    lost_in_queue = order(user, code=code_for(user, django_capture_on_commit_callbacks), key="a")
    frozen_clock.advance(timedelta(minutes=1))  # the next code may be asked a minute later
    lost_worker = order(user, code=code_for(user, django_capture_on_commit_callbacks), key="b")
    StatementOrder.objects.filter(pk=lost_worker.pk).update(
        status="generating", started_at=frozen_clock.now()
    )

    # When the sweep runs 11 minutes later: the queued one is made, the running one is left alone
    frozen_clock.advance(timedelta(minutes=11))
    first = services.requeue_stalled_statements()
    statuses = dict(StatementOrder.objects.values_list("pk", "status"))
    assert first == 1
    assert statuses == {lost_in_queue.pk: "ready", lost_worker.pk: "generating"}

    # When it runs past the hour a generation may take, with a fresh order placed just now
    frozen_clock.advance(timedelta(minutes=50))
    fresh = order(user, code=code_for(user, django_capture_on_commit_callbacks), key="c")
    second = services.requeue_stalled_statements()

    # Then the stalled generation is made again, once, and the fresh order waits for its own job
    statuses = dict(StatementOrder.objects.values_list("pk", "status"))
    assert second == 1
    assert statuses == {lost_in_queue.pk: "ready", lost_worker.pk: "ready", fresh.pk: "queued"}
    assert AuditEvent.objects.filter(action="statement.requeue").count() == 2
    assert AuditEvent.objects.filter(action="statement.generate").count() == 2
