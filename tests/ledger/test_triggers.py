"""The journal is append-only below the ORM (database triggers) and in it (the ORM guard).

The suite runs once on SQLite and once on PostgreSQL, so every test here proves the trigger of the
engine it runs on.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from selfcare.ledger import services
from selfcare.ledger.errors import ImmutablePosting
from selfcare.ledger.models import Posting, Transaction
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.ledger.services import Leg
from tests.factories import make_ledger_customer, make_system_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted() -> Transaction:
    customer = make_ledger_customer()
    revenue = make_system_account()
    return services.post_transaction(
        "topup",
        legs=[Leg(customer.pk, 1_000), Leg(revenue.pk, -1_000)],
        idempotency_key="append-only-1",
        actor="test",
    )


def raw(sql: str, params: list[object]) -> None:
    # A savepoint, so that the refused statement does not poison the test's transaction on PostgreSQL.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def journal_state(txn: Transaction) -> list[tuple[int, int, int]]:
    return list(
        Posting.objects.filter(transaction=txn)
        .order_by("id")
        .values_list("account_id", "amount_minor", "balance_after_minor")
    )


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(
            "UPDATE ledger_posting SET amount_minor = 5 WHERE transaction_id = %s", id="update-amount"
        ),
        pytest.param(
            "UPDATE ledger_posting SET account_id = account_id WHERE transaction_id = %s", id="update-no-op"
        ),
        pytest.param("DELETE FROM ledger_posting WHERE transaction_id = %s", id="delete"),
    ],
)
def test_raw_sql_cannot_change_a_posting(posted, sql):
    # Given a posted transaction
    before = journal_state(posted)

    # When raw SQL tries to change or remove its postings
    # Then the database refuses, and the postings are as they were
    with pytest.raises(IntegrityError, match="append-only"):
        raw(sql, [posted.pk])
    assert journal_state(posted) == before
    assert verify_ledger().ok


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("UPDATE ledger_transaction SET kind = 'refund' WHERE id = %s", id="update"),
        pytest.param("DELETE FROM ledger_transaction WHERE id = %s", id="delete"),
    ],
)
def test_raw_sql_cannot_change_a_transaction(posted, sql):
    # Given a posted transaction
    # When raw SQL tries to change or remove it
    # Then the database refuses, and it is unchanged
    with pytest.raises(IntegrityError, match="append-only"):
        raw(sql, [posted.pk])
    stored = Transaction.objects.get(pk=posted.pk)
    assert (stored.kind, stored.idempotency_key) == ("topup", "append-only-1")


def test_raw_sql_can_still_insert_and_accounts_stay_writable(posted):
    # Given a posted transaction
    customer_id = journal_state(posted)[0][0]

    # When the cached balance is updated by raw SQL (as the posting service does under its lock)
    raw("UPDATE ledger_ledgeraccount SET balance_minor = balance_minor WHERE id = %s", [customer_id])

    # Then accounts are not append-only: only the journal is
    assert get_balance_minor(customer_id) == 1_000


def test_orm_refuses_to_save_an_existing_posting(posted):
    # Given a stored posting
    posting = Posting.objects.filter(transaction=posted).order_by("id").first()
    assert posting is not None

    # When it is changed and saved
    posting.amount_minor = 1
    # Then the ORM guard refuses before any SQL is sent
    with pytest.raises(ImmutablePosting):
        posting.save()
    assert journal_state(posted)[0][1] == 1_000


def test_orm_refuses_to_save_an_existing_transaction(posted):
    # Given a stored transaction, when it is changed and saved, then the guard refuses
    posted.memo = "edited"
    with pytest.raises(ImmutablePosting):
        posted.save()
    assert Transaction.objects.get(pk=posted.pk).memo == ""


@pytest.mark.parametrize(
    ("model", "change"),
    [(Posting, {"amount_minor": 1}), (Transaction, {"memo": "x"})],
    ids=["posting", "transaction"],
)
def test_orm_refuses_queryset_update_and_delete(posted, model, change):
    # Given stored journal rows
    count = model.objects.count()

    # When a queryset update or delete is attempted
    # Then the guard refuses both and the rows stay
    with pytest.raises(ImmutablePosting):
        model.objects.all().update(**change)
    with pytest.raises(ImmutablePosting):
        model.objects.all().delete()
    assert model.objects.count() == count
    assert journal_state(posted)[0][1] == 1_000


@pytest.mark.parametrize("model", [Posting, Transaction], ids=["posting", "transaction"])
def test_orm_refuses_instance_delete(posted, model):
    # Given a stored row
    instance = model.objects.order_by("id").first()
    count = model.objects.count()

    # When it is deleted through the instance
    # Then the guard refuses and the row stays
    with pytest.raises(ImmutablePosting):
        instance.delete()
    assert model.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_triggers_hold_for_committed_rows():
    # Given a transaction committed to the database (not inside a test's rolled-back transaction)
    customer = make_ledger_customer()
    revenue = make_system_account()
    txn = services.post_transaction(
        "topup",
        legs=[Leg(customer.pk, 700), Leg(revenue.pk, -700)],
        idempotency_key="committed-1",
        actor="test",
    )

    # When raw SQL tries to rewrite its postings
    # Then the database refuses and the committed journal is intact
    with pytest.raises(IntegrityError):
        raw("UPDATE ledger_posting SET amount_minor = 5", [])
    with pytest.raises(IntegrityError):
        raw("DELETE FROM ledger_transaction", [])
    assert journal_state(txn) == [(customer.pk, 700, 700), (revenue.pk, -700, -700)]
