"""Saved cards (with consent, token and last four only), autopay below a threshold, failure and
expiry notices, and the one-tap replacement of an expiring card."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import transaction

from selfcare.billing import services as billing
from selfcare.kit import clock
from selfcare.ledger import services as ledger
from selfcare.lines import services as lines
from selfcare.notifications.models import OutboundSms
from selfcare.payments import services
from selfcare.payments.models import AutopaySettings, Payment, PaymentKind, PaymentStatus, SavedCard
from selfcare.usage import services as usage_services
from tests.billing.helpers import daily_tariff
from tests.factories import make_system_account, next_number
from tests.payments.factories import THREE_DS, balance_of, last_hook, make_subscriber, notify, pay, start
from tests.usage.factories import make_numbering, make_payg_tariff, usage

pytestmark = pytest.mark.django_db


def saved_card(user, card: str = "4242424242424242", *, exp_year: int | None = None) -> SavedCard:
    payment = start(user, amount_minor=10_000, save_card=True)
    pay(payment, card, exp_year=exp_year)
    if card == THREE_DS:
        from selfcare.payments.providers.fake import acquirer

        acquirer.complete_challenge(payment.provider_payment_id, passed=True)
    assert notify(last_hook(payment)) == "credited"
    return SavedCard.objects.get(owner=user, removed_at__isnull=True)


def spend(line, amount: int) -> None:
    revenue = make_system_account()
    ledger.post_transaction(
        "usage",
        legs=[ledger.Leg(line.account.ledger_account_id, -amount), ledger.Leg(revenue.pk, amount)],
        idempotency_key=f"spend-{next_number()}",
        actor="test",
    )


def autopay(user, card: SavedCard, *, threshold: int = 5_000, amount: int = 30_000, per_month: int = 2):
    return services.set_autopay(
        user,
        card_id=card.pk,
        threshold_minor=threshold,
        amount_minor=amount,
        max_per_month=per_month,
        enabled=True,
        actor=f"user:{user.pk}",
    )


def test_a_card_is_saved_only_with_consent_and_only_as_token_last4_brand_expiry(frozen_clock):
    # given two top-ups, one with consent to save the card
    user, _line = make_subscriber()
    without = start(user, amount_minor=10_000)
    pay(without)
    notify(last_hook(without))
    assert SavedCard.objects.count() == 0

    # when the second one is paid
    card = saved_card(user)

    # then the card is kept as the acquirer's token with last four, brand and expiry
    assert (card.last4, card.brand, card.exp_month, card.exp_year) == ("4242", "visa", 12, 2028)
    assert card.token.startswith("fk_card_")


def test_autopay_tops_up_when_the_balance_falls_below_the_threshold(frozen_clock):
    # given autopay of 300.00 below 50.00 and a balance of 100.00
    user, line = make_subscriber()
    card = saved_card(user)
    autopay(user, card)

    # when the balance is still above the threshold nothing happens
    assert services.check_autopay(line.account_id) is None

    # when a charge takes it to 40.00
    spend(line, 6_000)
    payment = services.check_autopay(line.account_id)

    # then the saved card is charged 300.00 and credited at once
    assert payment is not None
    assert (payment.kind, payment.status, payment.amount_minor) == (
        PaymentKind.AUTOPAY,
        PaymentStatus.SUCCEEDED,
        30_000,
    )
    assert balance_of(line) == 34_000
    # and a second check finds the balance fine again
    assert services.check_autopay(line.account_id) is None


def test_autopay_runs_at_most_n_times_a_month(frozen_clock):
    # given autopay at most 2 times a month, and a line that keeps spending
    user, line = make_subscriber()
    autopay(user, saved_card(user), threshold=5_000, amount=10_000, per_month=2)
    made = []
    for _ in range(3):
        spend(line, balance_of(line) - 1_000)
        made.append(services.check_autopay(line.account_id))

    # then the third time is refused
    assert [p is not None for p in made] == [True, True, False]
    assert Payment.objects.filter(kind=PaymentKind.AUTOPAY).count() == 2

    # and next month it works again
    with clock.frozen(datetime.fromisoformat("2026-04-01T09:00:00+03:00")):
        assert services.check_autopay(line.account_id) is not None


def test_a_failed_autopay_notifies_the_subscriber(frozen_clock):
    # given autopay on a card that needs 3-D Secure (refused without the cardholder)
    user, line = make_subscriber()
    autopay(user, saved_card(user, THREE_DS))
    spend(line, 9_000)

    # when autopay tries
    payment = services.check_autopay(line.account_id)

    # then it failed, nothing was credited, and an SMS tells the subscriber
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "authentication_required")
    assert balance_of(line) == 1_000
    sms = OutboundSms.objects.get(template="payments.autopay_failed")
    assert sms.msisdn == line.msisdn


def test_a_card_expiring_next_month_is_announced_once_and_replaced_in_one_tap(frozen_clock):
    # given (on 2 March 2026) a saved card expiring in April 2026 with autopay on it
    user, line = make_subscriber()
    old = saved_card(user)
    SavedCard.objects.filter(pk=old.pk).update(exp_month=4, exp_year=2026)
    settings_row = autopay(user, old)

    # when the daily job runs in March, twice
    sent = [services.announce_expiring_cards(), services.announce_expiring_cards()]

    # then one SMS went out, with the link to the cards page
    assert sent == [1, 0]
    sms = OutboundSms.objects.get(template="payments.card_expiring")
    assert "4242" in sms.text
    assert "http://testserver/payments/cards/" in sms.text

    # when the subscriber taps "replace" and pays with a new card
    payment = start(user, amount_minor=10_000, replaces_card=old)
    pay(payment, "5555555555554444")
    assert notify(last_hook(payment)) == "credited"

    # then the new card carries the autopay and the old one is gone
    new = SavedCard.objects.get(removed_at__isnull=True)
    assert (new.last4, new.brand) == ("4444", "mastercard")
    settings_row.refresh_from_db()
    assert settings_row.card_id == new.pk
    old.refresh_from_db()
    assert old.removed_at == clock.now()
    assert AutopaySettings.objects.count() == 1
    assert balance_of(line) == 20_000


# --- Autopay right after a charge (the ledger's balance-fell hook, registered by payments) -------------


def test_a_usage_charge_below_the_threshold_tops_up_as_soon_as_it_commits(
    frozen_clock, django_capture_on_commit_callbacks
):
    # Given autopay of 300.00 below 50.00 on a pay-as-you-go line (2.50 a minute off-net) with 100.00
    zones = make_numbering()
    user, line = make_subscriber()
    lines.assign_tariff(line, tariff=make_payg_tariff(zones), actor="test")
    autopay(user, saved_card(user))
    assert balance_of(line) == 10_000

    # When, two hours later, the network reports a 24-minute call (60.00) and the batch commits
    call_at = clock.now() + timedelta(hours=1)
    with clock.frozen(call_at + timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        result = usage_services.rate_batch(
            [usage(line.msisdn, "voice_out", call_at, duration_s=24 * 60, counterparty="+79161234567")]
        )

    # Then the saved card was charged 300.00 at once, without waiting for the sweep
    assert [(r.status, r.reason, r.price_minor) for r in result.results] == [("accepted", "", 6_000)]
    autopays = Payment.objects.filter(kind=PaymentKind.AUTOPAY)
    assert [(p.status, p.amount_minor) for p in autopays] == [(PaymentStatus.SUCCEEDED, 30_000)]
    assert balance_of(line) == 10_000 - 6_000 + 30_000


def test_a_fee_charge_below_the_threshold_tops_up_as_soon_as_it_commits(
    frozen_clock, django_capture_on_commit_callbacks
):
    # Given autopay of 300.00 below 50.00, a balance of 100.00 and a daily fee of 60.00
    user, line = make_subscriber()
    autopay(user, saved_card(user))
    lines.assign_tariff(line, tariff=daily_tariff(6_000), actor="test")

    # When the fee job charges the day and commits
    with django_capture_on_commit_callbacks(execute=True):
        assert billing.charge_fees().charged == 1

    # Then autopay tops up 300.00 right away
    autopays = Payment.objects.filter(kind=PaymentKind.AUTOPAY)
    assert [(p.status, p.amount_minor) for p in autopays] == [(PaymentStatus.SUCCEEDED, 30_000)]
    assert balance_of(line) == 10_000 - 6_000 + 30_000


def test_a_charge_that_stays_above_the_threshold_or_is_rolled_back_starts_no_autopay(
    frozen_clock, django_capture_on_commit_callbacks
):
    # Given autopay below 50.00 and a balance of 100.00
    user, line = make_subscriber()
    autopay(user, saved_card(user))

    # When a charge leaves 60.00, and a charge to 10.00 is rolled back with the work that made it
    with django_capture_on_commit_callbacks(execute=True):
        spend(line, 4_000)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                spend(line, 5_000)
                raise RuntimeError("the rating batch failed after charging")
        except RuntimeError:
            pass

    # Then no autopay started and the balance is 60.00
    assert Payment.objects.filter(kind=PaymentKind.AUTOPAY).count() == 0
    assert balance_of(line) == 6_000
