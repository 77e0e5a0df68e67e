"""A stateful property: whatever mix of top-ups, charges, promised payments, repayments, term ends,
redelivered webhooks and lost ones (settled by the reconciliation worker after a restart) happens,
the balance a simple model predicts equals the ledger after every step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from selfcare.kit import clock
from selfcare.ledger import services as ledger
from selfcare.ledger.errors import InsufficientFunds
from selfcare.ledger.queries import get_account_by_code, verify_ledger
from selfcare.payments import services
from selfcare.payments.errors import PromisedNotAvailable
from selfcare.payments.models import FakeAcquirerWebhook, PromisedPayment, PromisedStatus
from tests.factories import make_system_account, next_number
from tests.payments.factories import balance_of, last_hook, make_subscriber, notify, pay, start

pytestmark = pytest.mark.django_db

TIER_FEES = {10_000: 0, 20_000: 700, 50_000: 1_500}


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.user, self.line = make_subscriber(tenure_days=90)
        self.revenue = make_system_account()
        self.credit_start = (
            get_account_by_code("promised:credit").balance_minor if self._credit_exists() else 0
        )
        self.balance = 0
        self.owed = 0  # the open promised payment's outstanding amount
        self.promise_due = None
        self.overdue = False
        self.delivered: list[FakeAcquirerWebhook] = []

    @staticmethod
    def _credit_exists() -> bool:
        try:
            get_account_by_code("promised:credit")
        except Exception:
            return False
        return True

    def _credit_topup(self, amount: int) -> None:
        self.balance += amount
        repaid = min(self.owed, max(0, self.balance))
        self.balance -= repaid
        self.owed -= repaid
        if not self.owed:
            self.promise_due, self.overdue = None, False

    @rule(amount=st.integers(1_000, 60_000))
    def top_up(self, amount: int) -> None:
        payment = start(self.user, amount_minor=amount)
        pay(payment)
        hook = last_hook(payment)
        assert notify(hook) == "credited"
        self.delivered.append(hook)
        self._credit_topup(amount)

    @rule(amount=st.integers(1_000, 60_000))
    def top_up_webhook_lost_then_worker_reconciles(self, amount: int) -> None:
        payment = start(self.user, amount_minor=amount)
        pay(payment)
        # the notification never arrives; a restarted worker's reconciliation job finds the payment
        clock.advance(timedelta(minutes=11))
        assert services.reconcile_pending()["credited"] == 1
        self.delivered.append(last_hook(payment))
        self._credit_topup(amount)

    @rule(data=st.data())
    def webhook_redelivered(self, data: st.DataObject) -> None:
        if not self.delivered:
            return
        hook = data.draw(st.sampled_from(self.delivered))
        assert notify(hook) in ("duplicate", "already_final")

    @rule(amount=st.integers(100, 40_000))
    def charge(self, amount: int) -> None:
        try:
            ledger.post_transaction(
                "usage",
                legs=[
                    ledger.Leg(self.line.account.ledger_account_id, -amount),
                    ledger.Leg(self.revenue.pk, amount),
                ],
                idempotency_key=f"charge-{next_number()}",
                actor="test",
            )
        except InsufficientFunds:
            assert self.balance < amount
        else:
            assert self.balance >= amount
            self.balance -= amount

    @rule(amount=st.sampled_from(sorted(TIER_FEES)))
    def promise(self, amount: int) -> None:
        eligible = self.owed == 0 and self.balance < 30_000 and not self._written_off()
        try:
            services.request_promised(
                self.user, amount_minor=amount, idempotency_key=f"p-{next_number()}", actor="test"
            )
        except PromisedNotAvailable:
            assert not eligible
        else:
            assert eligible
            self.balance += amount - TIER_FEES[amount]
            self.owed = amount
            self.promise_due = clock.now() + timedelta(days=3)

    def _written_off(self) -> bool:
        return PromisedPayment.objects.filter(
            account_id=self.line.account_id, status=PromisedStatus.WRITTEN_OFF
        ).exists()

    @rule(days=st.sampled_from([1, 3, 30, 60]))
    def time_passes_and_the_term_job_runs(self, days: int) -> None:
        clock.advance(timedelta(days=days, minutes=1))
        services.settle_due_promised()
        if self.promise_due is None or clock.now() < self.promise_due:
            return
        if not self.overdue:
            collected = min(self.owed, max(0, self.balance))
            self.balance -= collected
            self.owed -= collected
            self.overdue = self.owed > 0
        elif clock.now() >= self.promise_due + timedelta(days=90):
            self.owed = 0  # written off
        if not self.owed:
            self.promise_due, self.overdue = None, False

    @invariant()
    def model_balance_equals_the_ledger(self) -> None:
        assert balance_of(self.line) == self.balance
        open_promised = PromisedPayment.objects.filter(
            account_id=self.line.account_id, status__in=["active", "overdue"]
        ).first()
        assert (open_promised.outstanding_minor if open_promised else 0) == self.owed

    def teardown(self) -> None:
        assert verify_ledger().ok


def test_model_balance_equals_the_ledger_after_every_step(frozen_clock):
    run_state_machine_as_test(
        MoneyMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
