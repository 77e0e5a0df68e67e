"""Card top-ups end to end through the fake acquirer: credited exactly once, only on a verified word."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import get_account_by_code, verify_ledger
from selfcare.lines.services import set_line_status
from selfcare.payments import services
from selfcare.payments.errors import AmountOutOfRange, InvalidWebhook, LineNotPayable, PaymentKeyReused
from selfcare.payments.models import (
    FakeAcquirerPayment,
    Payment,
    PaymentAlert,
    PaymentStatus,
    WebhookEvent,
)
from selfcare.payments.providers.fake import acquirer
from tests.payments.factories import (
    DECLINE,
    INSUFFICIENT,
    THREE_DS,
    balance_of,
    last_hook,
    make_subscriber,
    notify,
    pay,
    start,
)

pytestmark = pytest.mark.django_db


def clearing_balance() -> int:
    return get_account_by_code("clearing:fake").balance_minor


def test_a_paid_topup_is_credited_once_when_the_signed_webhook_arrives(frozen_clock):
    # given a subscriber with 10.00 who starts a top-up of 500.00
    user, line = make_subscriber(balance_minor=1_000)
    payment = start(user, amount_minor=50_000)
    assert payment.status == PaymentStatus.PENDING
    assert payment.confirmation_url == f"http://testserver/fake-acquirer/pay/{payment.provider_payment_id}/"

    # when they pay with the success card: nothing is credited before the notification
    pay(payment)
    assert balance_of(line) == 1_000

    # when the acquirer's signed notification arrives, twice
    hook = last_hook(payment)
    first, second = notify(hook), notify(hook)

    # then the balance grew by exactly 500.00 once, against the provider's clearing account
    assert (first, second) == ("credited", "duplicate")
    assert balance_of(line) == 51_000
    assert clearing_balance() == -50_000
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.card_last4, payment.card_brand) == ("4242", "visa")
    txn = Transaction.objects.get(pk=payment.ledger_transaction_id)
    assert (txn.kind, txn.idempotency_key) == ("topup", f"payment:fake:{payment.provider_payment_id}")
    assert Transaction.objects.filter(kind="topup", cause_id=str(payment.pk)).count() == 1
    assert (
        AuditEvent.objects.filter(action="payment.credited", subject_id=str(payment.public_id)).count() == 1
    )
    assert verify_ledger().ok


def test_the_same_idempotency_key_returns_the_same_payment_and_refuses_other_content():
    # given a started top-up
    user, _line = make_subscriber()
    payment = start(user, amount_minor=20_000, key="form-token-1")

    # when the form is posted again with the same token
    again = start(user, amount_minor=20_000, key="form-token-1")

    # then it is the same payment at the same provider payment
    assert again.pk == payment.pk
    assert again.provider_payment_id == payment.provider_payment_id
    assert FakeAcquirerPayment.objects.count() == 1

    # and the same key for another amount is refused, creating nothing
    with pytest.raises(PaymentKeyReused):
        start(user, amount_minor=30_000, key="form-token-1")
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("card", "failure"),
    [(DECLINE, "card_declined"), (INSUFFICIENT, "insufficient_funds")],
    ids=["declined", "insufficient-funds"],
)
def test_a_refused_card_credits_nothing(card, failure):
    # given a top-up of 100.00
    user, line = make_subscriber()
    payment = start(user, amount_minor=10_000)

    # when the card is refused and the acquirer says so
    pay(payment, card)
    assert notify(last_hook(payment)) == "failed"

    # then the payment failed with the reason and the balance did not move
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, failure)
    assert balance_of(line) == 0
    assert not Transaction.objects.filter(kind="topup").exists()


def test_a_3ds_card_is_credited_only_after_the_challenge():
    # given a top-up paid with the 3-D Secure card
    user, line = make_subscriber()
    payment = start(user, amount_minor=10_000)
    pay(payment, THREE_DS)

    # when the "requires action" notification arrives
    assert notify(last_hook(payment)) == "pending"

    # then nothing is credited yet
    assert balance_of(line) == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING

    # when the buyer confirms on the bank's page and the notification arrives
    acquirer.complete_challenge(payment.provider_payment_id, passed=True)
    assert notify(last_hook(payment)) == "credited"

    # then the money is there
    assert balance_of(line) == 10_000


@pytest.mark.parametrize("tamper", ["body", "secret", "stale", "future"])
def test_webhooks_that_fail_verification_credit_nothing(tamper, frozen_clock):
    # given a paid top-up whose notification is waiting
    user, line = make_subscriber()
    payment = start(user, amount_minor=10_000)
    pay(payment)
    hook = last_hook(payment)
    now = int(clock.now().timestamp())
    signing = {
        # the body says 1,000,000.00 but the signature is over the real body
        "body": {"body": hook.body.replace('"amount_minor":10000', '"amount_minor":100000000').encode()},
        "secret": {"secret": "not-the-shared-secret"},
        "stale": {"timestamp": now - 301},
        "future": {"timestamp": now + 301},
    }[tamper]

    # when it arrives tampered with
    with pytest.raises(InvalidWebhook):
        notify(hook, **signing)

    # then nothing is credited or even recorded
    assert balance_of(line) == 0
    assert WebhookEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_a_webhook_just_inside_the_tolerance_is_accepted(frozen_clock):
    # given a paid top-up
    user, line = make_subscriber()
    payment = start(user, amount_minor=10_000)
    pay(payment)

    # when its notification was signed 300 seconds ago
    outcome = notify(last_hook(payment), timestamp=int(clock.now().timestamp()) - 300)

    # then it counts
    assert outcome == "credited"
    assert balance_of(line) == 10_000


def test_late_and_out_of_order_notifications_change_nothing_after_the_credit():
    # given a credited top-up
    user, line = make_subscriber()
    payment = start(user, amount_minor=10_000)
    pay(payment)
    assert notify(last_hook(payment)) == "credited"

    # when a stale "pending" event and a redelivered copy arrive afterwards
    [copy] = acquirer.redeliver(payment.provider_payment_id, copies=1)
    stale = acquirer.send_stale_event(payment.provider_payment_id)

    # then both are recognised and nothing moves
    assert notify(stale) == "already_final"
    assert notify(copy) == "duplicate"
    assert balance_of(line) == 10_000
    assert Transaction.objects.filter(kind="topup").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [("amount_minor", 1_000, "amount_mismatch"), ("currency", "USD", "currency_mismatch")],
)
def test_a_confirmation_for_another_amount_or_currency_credits_nothing_and_alerts(field, value, kind):
    # given a top-up of 100.00 whose acquirer-side payment says something else
    user, line = make_subscriber()
    payment = start(user, amount_minor=10_000)
    FakeAcquirerPayment.objects.filter(pk=payment.provider_payment_id).update(**{field: value})
    pay(payment)

    # when the (validly signed) success notification arrives, twice
    assert notify(last_hook(payment)) == "mismatch"
    assert notify(last_hook(payment)) == "duplicate"

    # then nothing is credited, the payment waits for staff, and there is one alert
    assert balance_of(line) == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVIEW
    alert = PaymentAlert.objects.get()
    assert (alert.kind, alert.payment_id) == (kind, payment.pk)
    assert alert.details["expected_amount_minor"] == 10_000


def test_a_payment_whose_webhook_never_arrives_is_credited_by_reconciliation(frozen_clock):
    # given a paid top-up whose notification is lost
    user, line = make_subscriber()
    payment = start(user, amount_minor=25_000)
    pay(payment)

    # when reconciliation runs before the waiting time, nothing is asked yet
    assert services.reconcile_pending() == {}
    assert balance_of(line) == 0

    # when it runs after SELFCARE_PAYMENT_RECONCILE_AFTER_MIN
    clock.advance(timedelta(minutes=11))
    assert services.reconcile_pending() == {"credited": 1}

    # then the payment is credited once, and the late webhook finds it done
    assert balance_of(line) == 25_000
    assert notify(last_hook(payment)) == "already_final"
    assert balance_of(line) == 25_000


def test_reconciliation_gives_up_an_abandoned_payment_and_a_late_success_still_counts(frozen_clock):
    # given a top-up whose buyer never typed a card
    user, line = make_subscriber()
    payment = start(user, amount_minor=10_000)

    # when a day passes
    clock.advance(timedelta(minutes=24 * 60 + 1))
    assert services.reconcile_pending() == {"expired": 1}
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.CANCELED, "expired")

    # when the buyer pays after all (the acquirer's page was still open)
    pay(payment)
    assert notify(last_hook(payment)) == "credited"

    # then the money the provider took is on the balance
    assert balance_of(line) == 10_000


def test_topping_up_another_number_credits_that_number():
    # given two subscribers
    payer, payer_line = make_subscriber()
    _other, other_line = make_subscriber()

    # when one pays for the other's number
    payment = start(payer, other_line, amount_minor=15_000)
    pay(payment)
    notify(last_hook(payment))

    # then the other number got the money
    assert balance_of(other_line) == 15_000
    assert balance_of(payer_line) == 0
    assert payment.payer_id == payer.pk


def test_a_line_blocked_for_debt_can_be_topped_up_but_a_terminated_one_cannot():
    # given a line blocked for debt and a terminated one
    payer, _line = make_subscriber()
    _a, blocked = make_subscriber()
    set_line_status(blocked, status="blocked_debt", actor="test")
    _b, ended = make_subscriber()
    set_line_status(ended, status="terminated", actor="test")

    # then the first can be paid for and the second cannot
    assert start(payer, blocked, amount_minor=10_000).status == PaymentStatus.PENDING
    with pytest.raises(LineNotPayable):
        start(payer, ended, amount_minor=10_000)
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("amount", [999, 1_500_001])
def test_amounts_outside_the_operator_limits_are_refused(amount):
    user, _line = make_subscriber()
    with pytest.raises(AmountOutOfRange):
        start(user, amount_minor=amount)
    assert Payment.objects.count() == 0
