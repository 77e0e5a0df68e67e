"""Posting money: balances, postings, floors, idempotency and the all-or-nothing batch."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import transaction

from selfcare.kit.idempotency import InvalidIdempotencyKey
from selfcare.ledger import services
from selfcare.ledger.errors import (
    CurrencyMismatch,
    IdempotencyConflict,
    ImmutablePosting,
    InsufficientFunds,
    UnbalancedTransaction,
)
from selfcare.ledger.models import LedgerAccount, Posting, Transaction
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.ledger.services import Entry, FloorRule, Leg
from tests.factories import fund, make_ledger_customer, make_system_account

pytestmark = pytest.mark.django_db


def snapshot(*accounts: LedgerAccount) -> tuple[list[int], int, int]:
    """Balances of the given accounts and the journal's row counts, to prove that nothing changed."""
    return (
        [get_balance_minor(account.pk) for account in accounts],
        Transaction.objects.count(),
        Posting.objects.count(),
    )


def charge(customer: LedgerAccount, revenue: LedgerAccount, amount_minor: int, key: str, **kwargs: object):
    return services.post_transaction(
        "charge",
        legs=[Leg(customer.pk, -amount_minor), Leg(revenue.pk, amount_minor)],
        idempotency_key=key,
        actor="test",
        **kwargs,  # type: ignore[arg-type]
    )


def test_post_transaction_moves_money_and_records_postings(frozen_clock):
    # Given a customer with 500.00 and a revenue account
    customer = make_ledger_customer("customer:c1")
    revenue = make_system_account("revenue:fees")
    fund(customer, 50_000)

    # When a fee of 120.50 is charged
    txn = services.post_transaction(
        "fee",
        legs=[Leg(customer.pk, -12_050), Leg(revenue.pk, 12_050)],
        idempotency_key="fee:c1:2026-03",
        actor="system:fees",
        cause_type="fee_period",
        cause_id="2026-03",
        memo="March fee",
    )

    # Then the transaction is stored with what caused it, at the clock's time
    stored = Transaction.objects.get(pk=txn.pk)
    assert (stored.kind, stored.idempotency_key, stored.actor) == ("fee", "fee:c1:2026-03", "system:fees")
    assert (stored.cause_type, stored.cause_id, stored.memo) == ("fee_period", "2026-03", "March fee")
    assert stored.created_at == datetime.fromisoformat("2026-03-02T06:00:00+00:00")
    # and its two postings carry the signed amounts and the running balances after them
    postings = list(
        stored.postings.order_by("id").values_list("account_id", "amount_minor", "balance_after_minor")
    )
    assert postings == [(customer.pk, -12_050, 37_950), (revenue.pk, 12_050, 12_050)]
    # and the cached balances moved by exactly the amounts
    assert get_balance_minor(customer.pk) == 37_950
    assert get_balance_minor(revenue.pk) == 12_050
    assert verify_ledger().ok


def test_running_balance_follows_each_posting_of_an_account():
    # Given a funded customer
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)

    # When two charges follow each other
    charge(customer, revenue, 300, "c-1")
    charge(customer, revenue, 200, "c-2")

    # Then each posting remembers the balance right after it
    afters = list(
        Posting.objects.filter(account=customer).order_by("id").values_list("balance_after_minor", flat=True)
    )
    assert afters == [1_000, 700, 500]


def test_more_than_two_legs_are_posted_as_one_transaction():
    # Given a customer paying 100.00 of which 20.00 is VAT
    customer = make_ledger_customer()
    revenue = make_system_account()
    vat = make_system_account()
    fund(customer, 10_000)

    # When the three-legged charge is posted
    txn = services.post_transaction(
        "charge",
        legs=[Leg(customer.pk, -10_000), Leg(revenue.pk, 8_000), Leg(vat.pk, 2_000)],
        idempotency_key="three-legs",
        actor="test",
    )

    # Then all three postings belong to it and the balances add up
    assert txn.postings.count() == 3
    assert [get_balance_minor(a.pk) for a in (customer, revenue, vat)] == [0, 8_000, 2_000]


@pytest.mark.parametrize(
    "amounts",
    [
        pytest.param([-100, 99], id="unbalanced"),
        pytest.param([100], id="single-leg"),
        pytest.param([], id="no-legs"),
        pytest.param([0, 0], id="zero-amounts"),
        pytest.param([100, 0, -100], id="one-zero-leg"),
    ],
)
def test_malformed_transactions_are_refused(amounts):
    # Given funded accounts
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    accounts = [customer, revenue, revenue]
    before = snapshot(customer, revenue)

    # When a transaction that is not a proper double entry is posted
    # Then it is refused and nothing changed
    with pytest.raises(UnbalancedTransaction):
        services.post_transaction(
            "charge",
            legs=[Leg(accounts[i].pk, amount) for i, amount in enumerate(amounts)],
            idempotency_key="malformed",
            actor="test",
        )
    assert snapshot(customer, revenue) == before


def test_invalid_idempotency_key_is_refused():
    # Given two accounts
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    before = snapshot(customer, revenue)

    # When the key has characters outside the allowed set
    # Then it is refused before anything is written
    with pytest.raises(InvalidIdempotencyKey):
        charge(customer, revenue, 100, "no spaces allowed")
    assert snapshot(customer, revenue) == before


def test_currency_mismatch_is_refused():
    # Given a rouble customer and a euro revenue account
    customer = make_ledger_customer(currency="RUB")
    euro_revenue = make_system_account(currency="EUR")
    fund(customer, 1_000)
    before = snapshot(customer, euro_revenue)

    # When money moves between them in one transaction
    # Then it is refused and nothing changed
    with pytest.raises(CurrencyMismatch):
        charge(customer, euro_revenue, 100, "cross-currency")
    assert snapshot(customer, euro_revenue) == before


def test_unknown_account_is_refused():
    # Given one real account
    revenue = make_system_account()
    before = snapshot(revenue)

    # When a leg names an account that does not exist
    # Then nothing is posted
    with pytest.raises(LedgerAccount.DoesNotExist):
        services.post_transaction(
            "charge",
            legs=[Leg(revenue.pk, 100), Leg(revenue.pk + 10_000, -100)],
            idempotency_key="ghost",
            actor="test",
        )
    assert snapshot(revenue) == before


def test_debit_below_the_floor_is_refused_and_changes_nothing():
    # Given a prepaid customer with 100.00 (floor 0, 50.00 overdraft room for usage)
    customer = make_ledger_customer(floor_minor=0, overdraft_minor=5_000)
    revenue = make_system_account()
    fund(customer, 10_000)
    before = snapshot(customer, revenue)

    # When a fee of 100.01 is charged under the ordinary rule
    # Then it is refused with the account named, and no balance or row changed
    with pytest.raises(InsufficientFunds) as refused:
        charge(customer, revenue, 10_001, "fee-too-big")
    assert refused.value.params == {"account_code": customer.code}
    assert snapshot(customer, revenue) == before


def test_debit_down_to_exactly_the_floor_is_allowed():
    # Given a postpaid customer with a 300.00 credit limit and nothing on the balance
    customer = make_ledger_customer(floor_minor=-30_000)
    revenue = make_system_account()

    # When exactly the credit limit is used
    charge(customer, revenue, 30_000, "up-to-limit")

    # Then the balance sits on the floor, and one kopeck more is refused
    assert get_balance_minor(customer.pk) == -30_000
    with pytest.raises(InsufficientFunds):
        charge(customer, revenue, 1, "past-limit")
    assert get_balance_minor(customer.pk) == -30_000


def test_usage_overdraft_allows_down_to_floor_minus_overdraft_and_not_beyond():
    # Given a prepaid customer with 10.00 and 50.00 of overdraft room for usage in flight
    customer = make_ledger_customer(floor_minor=0, overdraft_minor=5_000)
    revenue = make_system_account()
    fund(customer, 1_000)

    # When usage worth 60.00 is charged with the usage-overdraft rule
    charge(customer, revenue, 6_000, "usage-1", floor=FloorRule.USAGE_OVERDRAFT)

    # Then the balance is exactly at floor - overdraft
    assert get_balance_minor(customer.pk) == -5_000
    # and neither more usage nor an ordinary fee can go further
    before = snapshot(customer, revenue)
    with pytest.raises(InsufficientFunds):
        charge(customer, revenue, 1, "usage-2", floor=FloorRule.USAGE_OVERDRAFT)
    with pytest.raises(InsufficientFunds):
        charge(customer, revenue, 1, "fee-1")
    assert snapshot(customer, revenue) == before
    # and verify accepts a balance inside the overdraft room
    assert verify_ledger().ok


def test_ordinary_debit_does_not_use_the_overdraft_room():
    # Given a prepaid customer with 10.00 and overdraft room
    customer = make_ledger_customer(floor_minor=0, overdraft_minor=5_000)
    revenue = make_system_account()
    fund(customer, 1_000)
    before = snapshot(customer, revenue)

    # When a fee of 10.01 is charged under the ordinary rule
    # Then it is refused although the overdraft room would cover it
    with pytest.raises(InsufficientFunds):
        charge(customer, revenue, 1_001, "fee")
    assert snapshot(customer, revenue) == before


def test_credit_to_an_account_below_its_floor_is_allowed():
    # Given a customer who used the overdraft room
    customer = make_ledger_customer(floor_minor=0, overdraft_minor=5_000)
    revenue = make_system_account()
    charge(customer, revenue, 3_000, "usage", floor=FloorRule.USAGE_OVERDRAFT)

    # When a top-up of 10.00 leaves the balance still below zero
    fund(customer, 1_000)

    # Then it is posted: money coming in is never refused
    assert get_balance_minor(customer.pk) == -2_000


def test_system_accounts_have_no_floor():
    # Given two system accounts
    clearing = make_system_account()
    revenue = make_system_account()

    # When money moves out of an empty one
    charge(clearing, revenue, 1_000_000, "clearing")

    # Then its balance goes negative
    assert get_balance_minor(clearing.pk) == -1_000_000


def test_duplicate_key_posts_nothing_and_returns_the_first_transaction():
    # Given a charge already posted under a key
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    first = charge(customer, revenue, 300, "charge:42")
    before = snapshot(customer, revenue)

    # When the same charge is posted again under the same key
    again = charge(customer, revenue, 300, "charge:42")

    # Then the first transaction is returned and nothing new is posted
    assert again.pk == first.pk
    assert again.idempotency_key == "charge:42"
    assert snapshot(customer, revenue) == before
    assert get_balance_minor(customer.pk) == 700


def test_duplicate_key_is_recognised_even_when_the_balance_no_longer_allows_it():
    # Given a charge that used up the whole balance
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 300)
    first = charge(customer, revenue, 300, "charge:all")

    # When it is replayed (the balance is now 0)
    again = charge(customer, revenue, 300, "charge:all")

    # Then the replay answers with the first transaction instead of InsufficientFunds
    assert again.pk == first.pk
    assert get_balance_minor(customer.pk) == 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"amount_minor": 301}, id="other-amount"),
        pytest.param({"kind": "fee"}, id="other-kind"),
        pytest.param({"cause_id": "other"}, id="other-cause"),
        pytest.param({"swap": True}, id="other-direction"),
    ],
)
def test_same_key_with_different_content_is_a_conflict_and_changes_nothing(change):
    # Given a charge already posted under a key
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    services.post_transaction(
        "charge",
        legs=[Leg(customer.pk, -300), Leg(revenue.pk, 300)],
        idempotency_key="charge:43",
        actor="test",
        cause_type="usage",
        cause_id="u-1",
    )
    before = snapshot(customer, revenue)

    # When the key is reused for something else
    amount = change.get("amount_minor", 300)
    debit, credit = (revenue, customer) if change.get("swap") else (customer, revenue)
    # Then it is refused and nothing changed
    with pytest.raises(IdempotencyConflict):
        services.post_transaction(
            change.get("kind", "charge"),
            legs=[Leg(debit.pk, -amount), Leg(credit.pk, amount)],
            idempotency_key="charge:43",
            actor="test",
            cause_type="usage",
            cause_id=change.get("cause_id", "u-1"),
        )
    assert snapshot(customer, revenue) == before


def test_same_key_replayed_with_another_actor_or_memo_is_the_same_operation():
    # Given a charge posted by one actor
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    first = charge(customer, revenue, 300, "charge:44", memo="first try")

    # When a retry comes from another worker with another memo (legs listed in another order)
    again = services.post_transaction(
        "charge",
        legs=[Leg(revenue.pk, 300), Leg(customer.pk, -300)],
        idempotency_key="charge:44",
        actor="worker-2",
        memo="retry",
    )

    # Then it is recognised as the same operation
    assert again.pk == first.pk
    assert get_balance_minor(customer.pk) == 700


def entry(
    key: str, debit: LedgerAccount, credit: LedgerAccount, amount_minor: int, **kwargs: object
) -> Entry:
    return Entry(
        kind="charge",
        idempotency_key=key,
        legs=[Leg(debit.pk, -amount_minor), Leg(credit.pk, amount_minor)],
        actor="test",
        **kwargs,  # type: ignore[arg-type]
    )


def test_batch_posts_every_entry_in_order():
    # Given two customers with money
    alice = make_ledger_customer()
    bob = make_ledger_customer()
    revenue = make_system_account()
    fund(alice, 1_000)
    fund(bob, 1_000)

    # When a batch of three charges is posted
    posted = services.post_transactions(
        [
            entry("b-1", alice, revenue, 100),
            entry("b-2", bob, revenue, 200),
            entry("b-3", alice, revenue, 300),
        ]
    )

    # Then the transactions come back in order with their postings and running balances
    assert [t.idempotency_key for t in posted] == ["b-1", "b-2", "b-3"]
    assert all(t.pk for t in posted)
    assert [get_balance_minor(a.pk) for a in (alice, bob, revenue)] == [600, 800, 600]
    alice_afters = list(
        Posting.objects.filter(account=alice).order_by("id").values_list("balance_after_minor", flat=True)
    )
    assert alice_afters == [1_000, 900, 600]
    assert verify_ledger().ok


def test_batch_is_all_or_nothing_when_one_entry_breaks_a_floor():
    # Given two customers, one of whom cannot pay
    alice = make_ledger_customer()
    bob = make_ledger_customer()
    revenue = make_system_account()
    fund(alice, 1_000)
    fund(bob, 100)
    before = snapshot(alice, bob, revenue)

    # When the batch's last entry would take bob below zero
    # Then the whole batch is refused and none of it is posted
    with pytest.raises(InsufficientFunds):
        services.post_transactions(
            [
                entry("x-1", alice, revenue, 100),
                entry("x-2", alice, revenue, 100),
                entry("x-3", bob, revenue, 101),
            ]
        )
    assert snapshot(alice, bob, revenue) == before
    assert not Transaction.objects.filter(idempotency_key__in=["x-1", "x-2", "x-3"]).exists()


def test_batch_floor_check_counts_earlier_entries_of_the_same_batch():
    # Given a customer with 5.00
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 500)
    before = snapshot(customer, revenue)

    # When two charges of 3.00 come in one batch (each alone would fit)
    # Then the batch is refused
    with pytest.raises(InsufficientFunds):
        services.post_transactions(
            [entry("y-1", customer, revenue, 300), entry("y-2", customer, revenue, 300)]
        )
    assert snapshot(customer, revenue) == before


def test_batch_with_replayed_keys_posts_only_the_new_entries():
    # Given one charge already posted
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    first = charge(customer, revenue, 100, "r-1")

    # When a batch repeats it next to a new one, and repeats the new one inside itself
    posted = services.post_transactions(
        [
            entry("r-1", customer, revenue, 100),
            entry("r-2", customer, revenue, 200),
            entry("r-2", customer, revenue, 200),
        ]
    )

    # Then the old one is returned as it was and the new one is posted once
    assert posted[0].pk == first.pk
    assert posted[1].pk == posted[2].pk
    assert posted[1].pk != first.pk
    assert get_balance_minor(customer.pk) == 700
    assert Transaction.objects.filter(idempotency_key="r-2").count() == 1


def test_batch_with_a_conflicting_key_is_refused_whole():
    # Given one charge already posted
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    charge(customer, revenue, 100, "z-1")
    before = snapshot(customer, revenue)

    # When a batch reuses that key for another amount next to a valid new entry
    # Then nothing of the batch is posted
    with pytest.raises(IdempotencyConflict):
        services.post_transactions(
            [entry("z-2", customer, revenue, 50), entry("z-1", customer, revenue, 999)]
        )
    assert snapshot(customer, revenue) == before


def test_batch_repeating_a_key_with_different_content_is_refused():
    # Given a customer
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    before = snapshot(customer, revenue)

    # When one batch carries the same key twice with different amounts
    # Then it is refused before anything is written
    with pytest.raises(IdempotencyConflict):
        services.post_transactions([entry("d-1", customer, revenue, 50), entry("d-1", customer, revenue, 60)])
    assert snapshot(customer, revenue) == before


def test_empty_batch_posts_nothing():
    # Given an empty ledger, when an empty batch is posted, then nothing happens
    assert services.post_transactions([]) == []
    assert Transaction.objects.count() == 0


def test_batch_entry_keeps_its_own_back_dated_time(frozen_clock):
    # Given a customer and a moment in the past (the demo back-dates its history)
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)
    past = datetime.fromisoformat("2026-01-15T12:00:00+00:00")

    # When an entry carries its own created_at
    [txn] = services.post_transactions([entry("past-1", customer, revenue, 100, created_at=past)])

    # Then the transaction and its postings carry that time
    assert Transaction.objects.get(pk=txn.pk).created_at == past
    assert set(Posting.objects.filter(transaction=txn).values_list("created_at", flat=True)) == {past}


def test_open_account_is_idempotent_by_code_and_gives_customers_a_zero_floor():
    # Given a customer ledger account opened once
    first = services.open_account("customer:same", kind="customer", currency="RUB")

    # When it is opened again with the same code
    again = services.open_account("customer:same", kind="customer", currency="RUB")

    # Then it is the same account, with the prepaid floor of zero; system accounts have none
    assert again.pk == first.pk
    assert first.floor_minor == 0
    assert services.open_account("system:x", kind="system", currency="RUB").floor_minor is None


def test_set_account_limits_changes_the_floor():
    # Given a postpaid customer with a 100.00 credit limit used up
    customer = make_ledger_customer(floor_minor=-10_000)
    revenue = make_system_account()
    charge(customer, revenue, 10_000, "limit-used")

    # When the limit is raised to 200.00
    services.set_account_limits(customer.pk, floor_minor=-20_000, overdraft_minor=0)

    # Then another 100.00 can be charged, and no more
    charge(customer, revenue, 10_000, "limit-used-2")
    with pytest.raises(InsufficientFunds):
        charge(customer, revenue, 1, "limit-used-3")
    assert get_balance_minor(customer.pk) == -20_000


def test_returned_transactions_are_the_stored_rows(frozen_clock):
    # Given a customer
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 1_000)

    # When a batch is posted
    posted = services.post_transactions(
        [entry("same-1", customer, revenue, 100, memo="first"), entry("same-2", customer, revenue, 200)]
    )

    # Then each returned transaction is field for field the row in the database, and behaves as one
    # loaded from it: it is stored (saving it again is refused) and reaches its postings
    for txn in posted:
        stored = Transaction.objects.get(pk=txn.pk)
        fields = [field.attname for field in Transaction._meta.concrete_fields]
        assert [getattr(txn, name) for name in fields] == [getattr(stored, name) for name in fields]
        assert txn == stored
        assert txn._state.adding is False
        assert sorted(txn.postings.values_list("amount_minor", flat=True)) == sorted(
            stored.postings.values_list("amount_minor", flat=True)
        )
    assert posted[0].memo == "first"
    assert posted[0].created_at == datetime.fromisoformat("2026-03-02T06:00:00+00:00")
    posted[0].memo = "changed"
    with pytest.raises(ImmutablePosting):
        posted[0].save()


def rolled_back(work) -> None:
    """Run `work` in a transaction whose caller then fails: everything in it is rolled back."""
    try:
        with transaction.atomic():
            work()
            raise RuntimeError("the caller fails after posting")
    except RuntimeError:
        pass


def test_the_balance_fell_hook_hears_of_committed_debits_of_customer_accounts_only(
    frozen_clock, django_capture_on_commit_callbacks
):
    # Given a customer with 100.00, a revenue account, and a hook registered like payments' autopay
    customer = make_ledger_customer()
    revenue = make_system_account()
    fund(customer, 10_000)
    heard: list[list[int]] = []
    unregister = services.on_balance_fell(heard.append)
    try:
        # When a charge of 30.00 commits
        with django_capture_on_commit_callbacks(execute=True):
            charge(customer, revenue, 3_000, "hook-1")
        # Then the hook hears of the customer once, not of the revenue account that rose
        assert heard == [[customer.pk]]

        # When money comes in, a charge is refused, and a charge is rolled back with its caller
        with django_capture_on_commit_callbacks(execute=True):
            fund(customer, 1_000)
            with pytest.raises(InsufficientFunds):
                charge(customer, revenue, 50_000, "hook-2")
        with django_capture_on_commit_callbacks(execute=True):
            rolled_back(lambda: charge(customer, revenue, 1_000, "hook-3"))

        # Then the hook heard of none of them
        assert heard == [[customer.pk]]
        assert get_balance_minor(customer.pk) == 8_000
    finally:
        unregister()

    # And once unregistered it hears nothing more
    with django_capture_on_commit_callbacks(execute=True):
        charge(customer, revenue, 1_000, "hook-4")
    assert heard == [[customer.pk]]
