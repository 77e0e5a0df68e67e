"""Posting runs concurrently with itself (DESIGN.md §5.3): no lost update, no double post, no overdraw.

Real threads with their own database connections against committed data (transaction=True). On
PostgreSQL the account row lock (SELECT ... FOR UPDATE) serialises postings; on SQLite the IMMEDIATE
write transaction does. Each thread closes its connection so that the test database can be dropped.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from selfcare.ledger import services
from selfcare.ledger.errors import InsufficientFunds
from selfcare.ledger.models import Posting, Transaction
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.ledger.services import Leg
from tests.concurrency import run_in_threads
from tests.factories import fund, make_ledger_customer, make_system_account

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 16
POSTINGS_PER_THREAD = 200


def test_many_threads_posting_to_one_account_end_with_the_exact_balance():
    # Given a customer with 10,000.00 and two system accounts
    customer = make_ledger_customer()
    topups = make_system_account()
    revenue = make_system_account()
    fund(customer, 1_000_000)

    # When 16 threads post 200 transactions each against it: even threads top up, odd ones charge
    def work(thread: int) -> None:
        for n in range(POSTINGS_PER_THREAD):
            amount = thread + 1
            other = topups if thread % 2 == 0 else revenue
            sign = 1 if thread % 2 == 0 else -1
            services.post_transaction(
                "topup" if sign > 0 else "charge",
                legs=[Leg(customer.pk, sign * amount), Leg(other.pk, -sign * amount)],
                idempotency_key=f"load:{thread}:{n}",
                actor=f"thread-{thread}",
            )

    run_in_threads(THREADS, work)

    # Then every posting landed exactly once and the balance is exact
    topped_up = sum(t + 1 for t in range(0, THREADS, 2)) * POSTINGS_PER_THREAD  # 64 * 200
    charged = sum(t + 1 for t in range(1, THREADS, 2)) * POSTINGS_PER_THREAD  # 72 * 200
    assert get_balance_minor(customer.pk) == 1_000_000 + topped_up - charged == 998_400
    assert get_balance_minor(topups.pk) == -topped_up
    assert get_balance_minor(revenue.pk) == charged
    assert Posting.objects.filter(account=customer).count() == 1 + THREADS * POSTINGS_PER_THREAD
    # and the running balances form one unbroken chain (no two postings saw the same balance)
    afters = list(
        Posting.objects.filter(account=customer)
        .order_by("id")
        .values_list("amount_minor", "balance_after_minor")
    )
    running = 0
    for amount, after in afters:
        running += amount
        assert after == running
    report = verify_ledger()
    assert report.ok, report.summary()
    assert report.transactions == 1 + THREADS * POSTINGS_PER_THREAD


def test_concurrent_duplicates_of_one_key_post_exactly_once():
    # Given a funded customer
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 10_000)

    # When 16 threads post the same charge under the same key at the same moment
    def work(_thread: int) -> int:
        txn = services.post_transaction(
            "charge",
            legs=[Leg(customer.pk, -2_500), Leg(revenue.pk, 2_500)],
            idempotency_key="payment:same-key",
            actor="test",
        )
        return int(txn.pk)

    pks = run_in_threads(THREADS, work)

    # Then all of them get the one transaction, and the money moved once
    assert len(set(pks)) == 1
    assert Transaction.objects.filter(idempotency_key="payment:same-key").count() == 1
    assert get_balance_minor(customer.pk) == 7_500
    assert verify_ledger().ok


def test_concurrent_debits_cannot_overdraw_an_account_with_a_floor():
    # Given a prepaid customer with exactly 1.00
    customer = make_ledger_customer(floor_minor=0)
    revenue = make_system_account()
    fund(customer, 100)

    # When 50 charges of 1.00 race each other (16 connections at a time)
    def charge(n: int) -> str:
        try:
            services.post_transaction(
                "charge",
                legs=[Leg(customer.pk, -100), Leg(revenue.pk, 100)],
                idempotency_key=f"race:{n}",
                actor="test",
            )
            return "posted"
        except InsufficientFunds:
            return "refused"
        finally:
            connection.close()

    start = threading.Barrier(THREADS)

    def wait_then_charge(n: int) -> str:
        if n < THREADS:
            start.wait()
        return charge(n)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = Counter(pool.map(wait_then_charge, range(50)))

    # Then exactly one succeeds, the balance is zero and never went below
    assert outcomes == Counter({"posted": 1, "refused": 49})
    assert get_balance_minor(customer.pk) == 0
    assert Transaction.objects.filter(idempotency_key__startswith="race:").count() == 1
    report = verify_ledger()
    assert report.ok, report.summary()
