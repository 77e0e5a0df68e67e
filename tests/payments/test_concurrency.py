"""Payments run concurrently with themselves: real threads, own connections, committed data.

On PostgreSQL row locks (account, payment) and unique indexes (webhook event, idempotency key) decide;
on SQLite the IMMEDIATE write transaction serialises writers. Either way each payment is credited once.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from selfcare.kit import clock
from selfcare.ledger import services as ledger
from selfcare.ledger.errors import InsufficientFunds
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import get_account_by_code, verify_ledger
from selfcare.payments import services
from selfcare.payments.errors import PromisedNotAvailable
from selfcare.payments.models import FakeAcquirerWebhook, Payment, PaymentStatus, PromisedPayment
from selfcare.payments.providers.fake import acquirer
from tests.concurrency import run_in_threads
from tests.factories import make_system_account
from tests.payments.factories import balance_of, currency, make_subscriber, notify, notify_body, pay, start

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_concurrent_charges_of_100_on_a_balance_of_100_let_exactly_one_through():
    # given a prepaid line topped up to 100.00 through a card payment
    user, line = make_subscriber()
    payment = start(user, amount_minor=10_000)
    pay(payment)
    notify(FakeAcquirerWebhook.objects.get())
    revenue = make_system_account()
    customer = line.account.ledger_account_id

    # when 50 charges of 100.00 arrive at the same moment
    def charge(index: int) -> int:
        txn = ledger.post_transaction(
            "charge",
            legs=[ledger.Leg(customer, -10_000), ledger.Leg(revenue.pk, 10_000)],
            idempotency_key=f"charge-{index}",
            actor="test",
        )
        return int(txn.pk)

    results = run_in_threads(50, charge, exceptions_as_results=True)

    # then exactly one went through, the other 49 were refused, and the balance is 0.00
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, InsufficientFunds) for r in results) == 49
    assert balance_of(line) == 0
    assert verify_ledger().ok


def test_fifty_concurrent_submissions_of_one_form_make_one_payment():
    # given a subscriber whose browser posts the top-up form 50 times with its one hidden token
    user, _line = make_subscriber()

    results = run_in_threads(
        50, lambda _i: start(user, amount_minor=10_000, key="form-token").pk, exceptions_as_results=True
    )

    # then there is one payment and one acquirer payment
    assert len(set(results)) == 1
    assert Payment.objects.count() == 1
    assert acquirer.FakeAcquirerPayment.objects.count() == 1


def test_two_concurrent_promised_payment_requests_grant_exactly_one(frozen_clock):
    # given an eligible subscriber
    user, line = make_subscriber(tenure_days=90)

    # when two requests (two devices, two keys) arrive together
    def request(index: int) -> int:
        promised = services.request_promised(
            user, amount_minor=10_000, idempotency_key=f"device-{index}", actor="test"
        )
        return int(promised.pk)

    results = run_in_threads(2, request, exceptions_as_results=True)

    # then one is granted and the other refused; 100.00 was credited once
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, PromisedNotAvailable) for r in results) == 1
    assert PromisedPayment.objects.count() == 1
    assert balance_of(line) == 10_000
    assert verify_ledger().ok


PAYMENTS = 1_000
SUBSCRIBERS = 50
WORKERS = 8


def _paid_payments(rng: random.Random, subscribers: list[Any], expected: Counter[int]) -> list[str]:
    """1,000 top-ups the buyers have paid at the acquirer, in bulk (the setup is not under test; the
    single-payment path through start_topup and the hosted page is covered in test_services), and
    the notification bodies the acquirer will send for them: 1-20 each, some redeliveries of one
    event, some fresh events with the same news."""
    now = clock.now()
    payments, acquirer_payments, bodies = [], [], []
    for n in range(PAYMENTS):
        user, line = subscribers[n % SUBSCRIBERS]
        amount = 1_000 + rng.randrange(10_000)
        expected[line.pk] += amount
        payment = Payment(
            payer=user,
            request_key=f"bulk-{n}",
            request_fingerprint="-",
            account_id=line.account_id,
            msisdn=line.msisdn,
            amount_minor=amount,
            currency=currency(),
            provider="fake",
            provider_payment_id=f"fk_pay_bulk{n}",
            status=PaymentStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
        payments.append(payment)
        paid = acquirer.FakeAcquirerPayment(
            id=payment.provider_payment_id,
            amount_minor=amount,
            currency=currency(),
            reference=str(payment.public_id),
            return_url="http://testserver/",
            status=acquirer.SUCCEEDED,
            card_last4="4242",
            card_brand="visa",
            card_exp_month=12,
            card_exp_year=now.year + 1,
            created_at=now,
            updated_at=now,
        )
        acquirer_payments.append(paid)
        _event, first = acquirer.event_body(paid)
        bodies.append(first)
        for copy in range(1, rng.randint(1, 20)):
            bodies.append(first if copy % 2 else acquirer.event_body(paid)[1])
    Payment.objects.bulk_create(payments)
    acquirer.FakeAcquirerPayment.objects.bulk_create(acquirer_payments)
    return bodies


def test_a_thousand_payments_notified_one_to_twenty_times_concurrently_are_each_credited_once():
    # given 1,000 paid top-ups over 50 subscribers, amounts 10.00 .. 109.99, and their notifications
    rng = random.Random(5)
    subscribers = [make_subscriber() for _ in range(SUBSCRIBERS)]
    expected: Counter[int] = Counter()
    bodies = _paid_payments(rng, subscribers, expected)
    rng.shuffle(bodies)

    # when all the notifications arrive at once from 8 workers, in random order
    def deliver(chunk: list[str]) -> Counter[str]:
        try:
            return Counter(notify_body(body) for body in chunk)
        finally:
            connection.close()

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = sum(pool.map(deliver, [bodies[i::WORKERS] for i in range(WORKERS)]), Counter())

    # then each payment was credited exactly once and every balance is exact
    assert outcomes["credited"] == PAYMENTS
    assert outcomes["credited"] + outcomes["duplicate"] + outcomes["already_final"] == len(bodies)
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == PAYMENTS
    assert Transaction.objects.filter(kind="topup").count() == PAYMENTS
    for _user, line in subscribers:
        assert balance_of(line) == expected[line.pk]
    assert get_account_by_code("clearing:fake").balance_minor == -sum(expected.values())
    assert verify_ledger().ok
