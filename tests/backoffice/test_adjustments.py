"""Manual balance adjustments: the service, the back-office page and its permission, the history."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from selfcare.billing import services as billing
from selfcare.billing.errors import AdjustmentBelowFloor, AdjustmentInvalid, AdjustmentKeyReused
from selfcare.billing.models import BalanceAdjustment
from selfcare.cabinet import queries as cabinet
from selfcare.identity.models import AuditEvent
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from tests.concurrency import run_in_threads
from tests.factories import make_line

pytestmark = pytest.mark.django_db

ADJUST = "billing.adjust_balance"
VIEW_ACCOUNT = "lines.view_account"


def _url(account: Any) -> str:
    return f"/backoffice/lines/account/{account.pk}/adjust-balance/"


def _balance(account: Any) -> int:
    return get_balance_minor(account.ledger_account_id)


def _state(account: Any) -> tuple[int, int, int, int]:
    return (
        _balance(account),
        Transaction.objects.filter(kind="adjustment").count(),
        BalanceAdjustment.objects.count(),
        AuditEvent.objects.filter(action="billing.balance.adjust").count(),
    )


def _key_of(page: Any) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode())
    assert match is not None
    return match.group(1)


def _funded_account(amount_minor: int = 0) -> Any:
    account = make_line().account
    if amount_minor:
        billing.adjust_balance(
            account,
            amount_minor=amount_minor,
            reason="opening",
            actor="test",
            idempotency_key=f"o-{account.pk}",
        )
    return account


def test_staff_without_the_permission_get_403_and_nothing_changes(make_staff: Any, client_for: Any) -> None:
    # given an account with 1,000 and staff who may look at accounts but not adjust balances
    account = _funded_account(1_000)
    client = client_for(make_staff(VIEW_ACCOUNT))
    before = _state(account)
    # when they open the page and post the form anyway
    page = client.get(_url(account))
    posted = client.post(
        _url(account),
        {"direction": "credit", "amount_minor": "500", "reason": "goodwill", "idempotency_key": "k-denied-1"},
    )
    change = client.get(f"/backoffice/lines/account/{account.pk}/change/")
    # then both are refused, the account page offers no button, and nothing changed
    assert (page.status_code, posted.status_code, change.status_code) == (403, 403, 200)
    assert "adjust-balance" not in change.content.decode()
    assert _state(account) == before


def test_a_credit_posts_one_balanced_transaction_with_an_audit_row(make_staff: Any, client_for: Any) -> None:
    # given an account with 1,000 and staff with the permission
    account = _funded_account(1_000)
    staff = make_staff(VIEW_ACCOUNT, ADJUST)
    client = client_for(staff)
    # when they open the account, follow "Adjust balance" and credit 2,500 with a reason
    change = client.get(f"/backoffice/lines/account/{account.pk}/change/")
    page = client.get(_url(account))
    response = client.post(
        _url(account),
        {
            "direction": "credit",
            "amount_minor": "2500",
            "reason": "Compensation for the outage on 1 March",
            "idempotency_key": _key_of(page),
        },
        follow=True,
    )
    # then the page showed the balance, the result is shown, and the ledger holds the transaction
    assert _url(account) in change.content.decode()
    assert page.status_code == 200
    assert "10.00" in page.content.decode()
    assert response.redirect_chain[-1][0] == f"/backoffice/lines/account/{account.pk}/change/"
    assert "35.00" in response.content.decode()
    assert _balance(account) == 3_500
    txn = Transaction.objects.get(kind="adjustment", actor=f"staff:{staff.pk}")
    assert txn.memo == "Compensation for the outage on 1 March"
    amounts = sorted(p.amount_minor for p in txn.postings.all())
    assert amounts == [-2_500, 2_500]
    assert {p.account.code for p in txn.postings.all()} == {account.ledger_account.code, "adjustments:manual"}
    assert verify_ledger().ok
    audit = AuditEvent.objects.get(action="billing.balance.adjust", actor=f"staff:{staff.pk}")
    assert (audit.subject_type, audit.subject_id) == ("account", str(account.pk))
    assert audit.before == {"balance_minor": 1_000}
    assert audit.after is not None
    assert (audit.after["balance_minor"], audit.after["amount_minor"]) == (3_500, 2_500)
    assert audit.after["transaction"] == txn.pk


def test_the_same_form_submitted_twice_posts_once(make_staff: Any, client_for: Any) -> None:
    # given staff with the permission on the adjustment page of an account with 0
    account = _funded_account()
    client = client_for(make_staff(VIEW_ACCOUNT, ADJUST))
    key = _key_of(client.get(_url(account)))
    form = {"direction": "credit", "amount_minor": "700", "reason": "refund", "idempotency_key": key}
    # when the form is posted twice (a double click)
    first = client.post(_url(account), form)
    second = client.post(_url(account), form, follow=True)
    # then one transaction, one adjustment, one audit row; the second answer says nothing was posted
    assert first.status_code == 302
    assert "already submitted" in second.content.decode()
    assert _state(account) == (700, 1, 1, 1)
    assert verify_ledger().ok


def test_a_debit_below_the_floor_is_refused_with_a_clear_message(make_staff: Any, client_for: Any) -> None:
    # given a prepaid account with 1,000 (floor 0)
    account = _funded_account(1_000)
    client = client_for(make_staff(VIEW_ACCOUNT, ADJUST))
    before = _state(account)
    # when staff debit 1,500
    response = client.post(
        _url(account),
        {
            "direction": "debit",
            "amount_minor": "1500",
            "reason": "wrong top-up",
            "idempotency_key": "k-floor-1",
        },
    )
    # then the form comes back with the reason, and nothing changed
    assert response.status_code == 200
    text = response.content.decode()
    assert "below the lowest allowed" in text
    assert "allow below the floor" in text
    assert _state(account) == before


def test_allowing_below_the_floor_reaches_the_overdraft_room_and_never_further() -> None:
    # given a prepaid account with 1,000, floor 0 and the usage overdraft room
    overdraft = settings.SELFCARE_USAGE_OVERDRAFT_MINOR
    account = _funded_account(1_000)
    # when staff debit past the hard floor even with the override
    with pytest.raises(AdjustmentBelowFloor):
        billing.adjust_balance(
            account,
            amount_minor=-(1_000 + overdraft + 1),
            reason="too much",
            actor="staff:1",
            idempotency_key="k-hard-1",
            allow_below_floor=True,
        )
    # and then exactly to the hard floor with it
    result = billing.adjust_balance(
        account,
        amount_minor=-(1_000 + overdraft),
        reason="chargeback",
        actor="staff:1",
        idempotency_key="k-hard-2",
        allow_below_floor=True,
    )
    # then only the second is posted, the balance is at the hard floor, and the ledger verifies
    assert (result.adjustment.balance_after_minor, _balance(account)) == (-overdraft, -overdraft)
    assert BalanceAdjustment.objects.filter(account=account).count() == 2  # the opening credit and this
    assert verify_ledger().ok


def test_the_service_refuses_a_missing_reason_a_zero_amount_and_a_reused_key() -> None:
    # given an account with 1,000
    account = _funded_account(1_000)
    before = _state(account)
    # when adjustments without a reason, of zero, or reusing a key for something else are asked
    with pytest.raises(AdjustmentInvalid):
        billing.adjust_balance(
            account, amount_minor=100, reason="  ", actor="staff:1", idempotency_key="k-r1"
        )
    with pytest.raises(AdjustmentInvalid):
        billing.adjust_balance(account, amount_minor=0, reason="x", actor="staff:1", idempotency_key="k-r2")
    with pytest.raises(AdjustmentKeyReused):
        billing.adjust_balance(
            account, amount_minor=5, reason="other", actor="staff:1", idempotency_key=f"o-{account.pk}"
        )
    # then nothing changed
    assert _state(account) == before


def test_the_subscriber_history_explains_the_adjustment_in_plain_words() -> None:
    # given a credit and a debit by staff on a line's account
    line = make_line()
    account = line.account
    billing.adjust_balance(
        account, amount_minor=3_000, reason="Outage compensation", actor="staff:1", idempotency_key="h-1"
    )
    billing.adjust_balance(
        account, amount_minor=-1_000, reason="Double top-up reversed", actor="staff:1", idempotency_key="h-2"
    )
    # when the subscriber's history is described
    items = cabinet.describe_postings(list(cabinet.list_history(line, kinds=None, since=None, until=None)))
    # then both say who did it and why
    assert [(i.title, i.details, i.amount_minor) for i in items] == [
        ("Debited by the operator: correction", ["Reason: Double top-up reversed"], -1_000),
        ("Credited by the operator: correction", ["Reason: Outage compensation"], 3_000),
    ]


def test_anonymous_and_subscribers_get_the_admin_login(make_staff: Any) -> None:
    # given an account, an anonymous visitor and a signed-in subscriber (not staff)
    from selfcare.identity.models import User

    account = _funded_account(1_000)
    subscriber = User.objects.create_user("subscriber1", password="x" * 12)
    as_subscriber = Client()
    as_subscriber.force_login(subscriber)
    before = _state(account)
    # when they open the back office and post the adjustment form
    answers = [
        client.get(path)
        for client in (Client(), as_subscriber)
        for path in ("/backoffice/", _url(account), "/backoffice/lines/line/")
    ]
    posted = Client().post(
        _url(account),
        {"direction": "credit", "amount_minor": "5", "reason": "x", "idempotency_key": "k-anon"},
    )
    # then every answer is the back office's login page, and nothing changed
    for answer in [*answers, posted]:
        assert answer.status_code == 302
        assert answer["Location"].startswith("/backoffice/login/")
    assert _state(account) == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_post_once_and_never_cross_the_floor() -> None:
    # given a prepaid account with 1,000
    account = _funded_account(1_000)

    # when four requests post the same form at once, and then four different debits of 600 race
    def same(_i: int) -> Any:
        return billing.adjust_balance(
            account, amount_minor=500, reason="refund", actor="staff:1", idempotency_key="k-race"
        )

    def debit(i: int) -> Any:
        return billing.adjust_balance(
            account, amount_minor=-600, reason="reversal", actor="staff:1", idempotency_key=f"k-debit-{i}"
        )

    replays = run_in_threads(4, same)
    debits = run_in_threads(4, debit, exceptions_as_results=True)
    # then the form was posted once; of the debits, two fit in 1,500 and the others were refused
    assert sorted(r.replayed for r in replays) == [False, True, True, True]
    assert sum(1 for d in debits if isinstance(d, AdjustmentBelowFloor)) == 2
    assert _balance(account) == 1_500 - 2 * 600
    assert BalanceAdjustment.objects.filter(account=account).count() == 1 + 1 + 2
    assert verify_ledger().ok
