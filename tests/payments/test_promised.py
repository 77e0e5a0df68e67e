"""Promised payment: eligibility, tiers and fees, the grant, repayment from top-ups, the term end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfcare.kit import clock
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import get_account_by_code, verify_ledger
from selfcare.notifications.models import OutboundSms
from selfcare.payments import queries, services
from selfcare.payments.errors import PromisedAmountNotAllowed, PromisedNotAvailable
from selfcare.payments.models import PromisedPayment, PromisedPaymentRule, PromisedStatus
from tests.factories import make_system_account
from tests.payments.factories import balance_of, last_hook, make_subscriber, notify, pay, start

pytestmark = pytest.mark.django_db


def promise(user, amount_minor: int, key: str = "promise-1") -> PromisedPayment:
    return services.request_promised(
        user, amount_minor=amount_minor, idempotency_key=key, actor=f"user:{user.pk}"
    )


def top_up(user, amount_minor: int) -> None:
    payment = start(user, amount_minor=amount_minor)
    pay(payment)
    assert notify(last_hook(payment)) == "credited"


def credit_account_balance() -> int:
    return get_account_by_code("promised:credit").balance_minor


def test_an_eligible_subscriber_sees_the_tiers_and_exact_conditions(frozen_clock):
    # given a 60-day-old line with an empty balance
    _user, line = make_subscriber(tenure_days=60)

    # when the offer is computed with the default rules
    offer = queries.promised_offer(line)

    # then every default tier up to 800.00 is offered, for 3 days
    assert offer.eligible, offer.reasons
    assert [(t.amount_minor, t.fee_minor) for t in offer.tiers] == [
        (10_000, 0),
        (20_000, 700),
        (50_000, 1_500),
        (80_000, 3_000),
    ]
    assert offer.max_amount_minor == 80_000
    assert offer.due_at == clock.now() + timedelta(days=3)


def test_the_grant_credits_the_amount_less_the_fee_from_the_promised_credit_account(frozen_clock):
    # given an eligible subscriber with 0.00
    user, line = make_subscriber(tenure_days=90)

    # when they take 200.00 (fee 7.00)
    promised = promise(user, 20_000)

    # then 193.00 is on the balance, the operator is owed 200.00, and the fee is revenue
    assert balance_of(line) == 19_300
    assert credit_account_balance() == -20_000
    assert get_account_by_code("revenue:promised_fee").balance_minor == 700
    assert (promised.status, promised.outstanding_minor, promised.due_at) == (
        PromisedStatus.ACTIVE,
        20_000,
        clock.now() + timedelta(days=3),
    )
    assert OutboundSms.objects.filter(template="payments.promised_granted", msisdn=line.msisdn).count() == 1
    # and asking again with the same key returns the same promise
    assert promise(user, 20_000).pk == promised.pk
    assert Transaction.objects.filter(kind="promised_grant").count() == 1


def test_a_young_line_is_refused_with_the_reason_and_nothing_changes(frozen_clock):
    # given a line 59 days old
    user, line = make_subscriber(tenure_days=59)

    # when it asks for a promised payment
    with pytest.raises(PromisedNotAvailable) as refused:
        promise(user, 10_000)

    # then the reason is the tenure and nothing moved
    assert "at least 60 days" in refused.value.render_message()
    assert balance_of(line) == 0
    assert PromisedPayment.objects.count() == 0


def test_amounts_above_the_allowed_maximum_or_off_the_tiers_are_refused(frozen_clock):
    # given rules capping the maximum at 50% of the average monthly spend (0 spent here)
    user, _line = make_subscriber(tenure_days=90)
    PromisedPaymentRule.objects.create(
        max_amount_minor=30_000,
        tiers=[{"amount_minor": 10_000, "fee_minor": 0}, {"amount_minor": 50_000, "fee_minor": 0}],
        updated_at=clock.now(),
    )

    # then a tier above the maximum and an amount that is no tier are refused
    with pytest.raises(PromisedAmountNotAllowed):
        promise(user, 50_000)
    with pytest.raises(PromisedAmountNotAllowed):
        promise(user, 12_345, key="promise-2")
    assert PromisedPayment.objects.count() == 0


def test_the_spend_cap_limits_the_maximum_to_a_share_of_average_monthly_spend(frozen_clock):
    # given a rule: at most 100% of the average monthly spend over 3 months
    _user, line = make_subscriber(tenure_days=120, balance_minor=70_000)
    PromisedPaymentRule.objects.create(spend_multiplier_pct=100, tiers=[], updated_at=clock.now())
    revenue = make_system_account()
    from selfcare.ledger import services as ledger

    # when the line spent 600.00 in the last 3 months (average 200.00 a month)
    ledger.post_transaction(
        "usage",
        legs=[ledger.Leg(line.account.ledger_account_id, -60_000), ledger.Leg(revenue.pk, 60_000)],
        idempotency_key="spend-1",
        actor="test",
    )

    # then only the tiers up to 200.00 are offered
    offer = queries.promised_offer(line)
    assert offer.avg_monthly_spend_minor == 20_000
    assert [t.amount_minor for t in offer.tiers] == [10_000, 20_000]
    assert offer.eligible


def test_the_next_topup_repays_the_promise_in_the_same_step(frozen_clock):
    # given a promise of 200.00 taken at 0.00 (balance 193.00)
    user, line = make_subscriber(tenure_days=90)
    promised = promise(user, 20_000)

    # when the subscriber tops up 500.00
    top_up(user, 50_000)

    # then the promise is repaid from the top-up, once
    promised.refresh_from_db()
    assert (promised.status, promised.outstanding_minor) == (PromisedStatus.REPAID, 0)
    assert balance_of(line) == 19_300 + 50_000 - 20_000
    assert credit_account_balance() == 0
    assert Transaction.objects.filter(kind="promised_repay").count() == 1
    assert verify_ledger().ok

    # and a new promise is possible once the balance is low again (it is 493.00 now: above 300.00)
    offer = queries.promised_offer(line)
    assert [str(r) for r in offer.reasons] == ["There is enough money on the balance."]


def test_only_one_promise_at_a_time(frozen_clock):
    # given an active promise
    user, line = make_subscriber(tenure_days=90)
    promise(user, 10_000)

    # when a second one is asked for
    with pytest.raises(PromisedNotAvailable) as refused:
        promise(user, 10_000, key="promise-2")

    # then it is refused and nothing moved
    assert "already have a promised payment" in refused.value.render_message()
    assert balance_of(line) == 10_000
    assert PromisedPayment.objects.count() == 1


def test_at_term_end_the_balance_is_collected_and_a_remainder_becomes_overdue(frozen_clock):
    # given a promise of 500.00 (fee 15.00) of which 400.00 was spent
    user, line = make_subscriber(tenure_days=90)
    promised = promise(user, 50_000)
    revenue = make_system_account()
    from selfcare.ledger import services as ledger

    ledger.post_transaction(
        "usage",
        legs=[ledger.Leg(line.account.ledger_account_id, -40_000), ledger.Leg(revenue.pk, 40_000)],
        idempotency_key="spend-2",
        actor="test",
    )
    assert balance_of(line) == 8_500

    # when the term ends and the job runs (twice)
    clock.advance(timedelta(days=3))
    assert services.settle_due_promised() == {"repaid": 0, "overdue": 1, "written_off": 0}
    assert services.settle_due_promised() == {"repaid": 0, "overdue": 0, "written_off": 0}

    # then the 85.00 on the balance was collected and 415.00 is overdue
    promised.refresh_from_db()
    assert (promised.status, promised.outstanding_minor) == (PromisedStatus.OVERDUE, 41_500)
    assert balance_of(line) == 0
    assert credit_account_balance() == -41_500

    # and no new promise while it is overdue
    with pytest.raises(PromisedNotAvailable) as refused:
        promise(user, 10_000, key="promise-2")
    assert "overdue" in refused.value.render_message()

    # when the subscriber tops up 300.00, it all goes to the debt
    top_up(user, 30_000)
    promised.refresh_from_db()
    assert (promised.status, promised.outstanding_minor, balance_of(line)) == (
        PromisedStatus.OVERDUE,
        11_500,
        0,
    )

    # when the write-off period passes, the rest is written off
    clock.advance(timedelta(days=90))
    assert services.settle_due_promised()["written_off"] == 1
    promised.refresh_from_db()
    assert (promised.status, promised.outstanding_minor, promised.written_off_minor) == (
        PromisedStatus.WRITTEN_OFF,
        0,
        11_500,
    )
    assert credit_account_balance() == 0
    assert get_account_by_code("promised:write_off").balance_minor == -11_500
    assert verify_ledger().ok
    # and that history keeps the line from promised payments
    assert "was not repaid" in str(queries.promised_offer(line).reasons[0])


def test_a_promise_repaid_before_its_term_is_left_alone_by_the_job(frozen_clock):
    # given a promise repaid by a top-up
    user, line = make_subscriber(tenure_days=90)
    promise(user, 10_000)
    top_up(user, 20_000)

    # when the term passes
    clock.advance(timedelta(days=4))

    # then the job has nothing to do and the balance is untouched
    assert services.settle_due_promised() == {"repaid": 0, "overdue": 0, "written_off": 0}
    assert balance_of(line) == 20_000
