"""`selfcare ledger verify`: exit 0 with a one-line summary only when every invariant holds."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from selfcare.ledger import services
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import verify_ledger
from selfcare.ledger.services import FloorRule, Leg
from tests.factories import fund, make_ledger_customer, make_system_account

pytestmark = pytest.mark.django_db


def run_verify(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ledger", "verify", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def corrupt_balance(code: str, balance_minor: int) -> None:
    # The one way to break a cached balance: write it behind the posting service's back.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_ledgeraccount SET balance_minor = %s WHERE code = %s", [balance_minor, code]
        )


def test_verify_on_an_empty_ledger_succeeds():
    # Given no ledger rows at all, when verify runs, then it reports zero of everything
    out, err = run_verify()
    assert out == (
        "ledger verify: OK — 0 transactions, 0 postings, 0 accounts; 0 unbalanced, 0 balance mismatches, "
        "0 below floor, 0 running-balance mismatches\n"
    )
    assert err == ""


def test_verify_prints_one_summary_line_on_a_clean_ledger():
    # Given two customers with a few postings
    alice = make_ledger_customer("customer:alice")
    bob = make_ledger_customer("customer:bob", floor_minor=0, overdraft_minor=1_000)
    revenue = make_system_account("revenue:test")
    topups = make_system_account("clearing:test")
    fund(alice, 5_000, source=topups)
    fund(bob, 100, source=topups)
    services.post_transaction(
        "usage",
        legs=[Leg(bob.pk, -600), Leg(revenue.pk, 600)],
        idempotency_key="usage:bob:1",
        actor="test",
        floor=FloorRule.USAGE_OVERDRAFT,
    )

    # When `selfcare ledger verify` runs
    out, err = run_verify()

    # Then it succeeds with exactly one line of summary (bob's -5.00 is within his overdraft room)
    assert out == (
        "ledger verify: OK — 3 transactions, 6 postings, 4 accounts; 0 unbalanced, 0 balance mismatches, "
        "0 below floor, 0 running-balance mismatches\n"
    )
    assert err == ""


def test_verify_with_details_lists_nothing_on_a_clean_ledger():
    # Given a clean ledger
    fund(make_ledger_customer(), 100)

    # When verify runs with --details
    out, err = run_verify("--details")

    # Then there is nothing to list
    assert out.count("\n") == 1
    assert out.startswith("ledger verify: OK")
    assert err == ""


def test_verify_fails_and_names_the_account_whose_cached_balance_was_corrupted():
    # Given a clean ledger whose cached balance is then changed by raw SQL
    customer = make_ledger_customer("customer:tampered")
    fund(customer, 1_000)
    corrupt_balance("customer:tampered", 1_500)

    # When verify runs
    # Then it exits with code 1, names the account on stderr, and prints the FAILED summary
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("ledger", "verify", stdout=out, stderr=err)
    assert failed.value.returncode == 1
    assert "customer:tampered" in err.getvalue()
    assert err.getvalue().splitlines() == [
        "balance mismatch: customer:tampered: cached 1500 != postings 1000",
        "running balance mismatch: customer:tampered: cached 1500 != last running 1000",
    ]
    assert out.getvalue() == (
        "ledger verify: FAILED — 1 transactions, 2 postings, 2 accounts; 0 unbalanced, 1 balance mismatches, "
        "0 below floor, 1 running-balance mismatches\n"
    )


def test_verify_reports_a_balance_below_its_floor():
    # Given a prepaid account pushed below floor minus overdraft behind the service's back
    customer = make_ledger_customer("customer:sunk", floor_minor=0, overdraft_minor=1_000)
    revenue = make_system_account()
    fund(customer, 500)
    services.post_transaction(
        "usage",
        legs=[Leg(customer.pk, -500), Leg(revenue.pk, 500)],
        idempotency_key="sink",
        actor="test",
    )
    services.set_account_limits(customer.pk, floor_minor=100, overdraft_minor=0)

    # When the ledger is verified
    report = verify_ledger()

    # Then the account is listed as below its floor and nothing else is wrong
    assert not report.ok
    assert report.below_floor == ["customer:sunk: 0 < 100"]
    assert report.balance_mismatches == []
    assert report.unbalanced_transactions == []


def test_verify_reports_a_transaction_that_does_not_sum_to_zero():
    # Given a transaction with one lone posting inserted by raw SQL (inserts are not blocked)
    customer = make_ledger_customer("customer:lonely")
    fund(customer, 100)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_transaction (kind, idempotency_key, fingerprint, created_at, actor, "
            "cause_type, cause_id, memo) VALUES ('forged', 'forged-1', '', %s, 'intruder', '', '', '')",
            [customer.created_at],
        )
    forged_id = Transaction.objects.get(idempotency_key="forged-1").pk

    # When verify runs
    # Then it fails and names the transaction
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("ledger", "verify", stdout=out, stderr=err)
    assert err.getvalue() == f"unbalanced transaction: {forged_id}\n"
    assert "1 unbalanced" in out.getvalue()
