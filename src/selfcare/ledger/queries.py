"""Reads of the ledger: balances, history and the invariant check behind `selfcare ledger verify`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.expressions import RawSQL

from selfcare.ledger.models import LedgerAccount, Posting, Transaction


def get_balance_minor(account_id: int) -> int:
    return int(LedgerAccount.objects.values_list("balance_minor", flat=True).get(pk=account_id))


def get_account_by_code(code: str) -> LedgerAccount:
    return LedgerAccount.objects.get(code=code)


@dataclass(frozen=True)
class VerifyReport:
    transactions: int
    postings: int
    accounts: int
    unbalanced_transactions: list[int]
    balance_mismatches: list[str]
    below_floor: list[str]
    running_balance_mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not (
            self.unbalanced_transactions
            or self.balance_mismatches
            or self.below_floor
            or self.running_balance_mismatches
        )

    def summary(self) -> str:
        status = "OK" if self.ok else "FAILED"
        return (
            f"ledger verify: {status} — {self.transactions} transactions, {self.postings} postings, "
            f"{self.accounts} accounts; {len(self.unbalanced_transactions)} unbalanced, "
            f"{len(self.balance_mismatches)} balance mismatches, {len(self.below_floor)} below floor, "
            f"{len(self.running_balance_mismatches)} running-balance mismatches"
        )


def verify_ledger(*, sample_limit: int = 20) -> VerifyReport:
    """Prove the invariants of DESIGN.md §6 with set-based SQL (fast on millions of postings)."""
    posting = Posting._meta.db_table
    account = LedgerAccount._meta.db_table
    txn = Transaction._meta.db_table
    with connection.cursor() as cursor:
        # 1. Every transaction has at least two postings summing to zero (a transaction with no
        # postings at all is caught too, by the LEFT JOIN).
        cursor.execute(
            f"SELECT t.id FROM {txn} t LEFT JOIN {posting} p ON p.transaction_id = t.id "  # noqa: S608
            "GROUP BY t.id HAVING COUNT(p.id) < 2 OR COALESCE(SUM(p.amount_minor), 0) <> 0 "
            f"ORDER BY t.id LIMIT {int(sample_limit)}"
        )
        unbalanced = [row[0] for row in cursor.fetchall()]
        # 2. Every cached balance equals the sum of its postings.
        cursor.execute(
            f"SELECT a.code, a.balance_minor, COALESCE(s.total, 0) FROM {account} a "  # noqa: S608
            f"LEFT JOIN (SELECT account_id, SUM(amount_minor) AS total FROM {posting} GROUP BY account_id) s "
            "ON s.account_id = a.id WHERE a.balance_minor <> COALESCE(s.total, 0) "
            f"ORDER BY a.id LIMIT {int(sample_limit)}"
        )
        mismatches = [
            f"{code}: cached {cached} != postings {total}" for code, cached, total in cursor.fetchall()
        ]
        # 3. No customer balance below its allowed floor (floor minus the usage overdraft room).
        cursor.execute(
            f"SELECT code, balance_minor, floor_minor - overdraft_minor FROM {account} "  # noqa: S608
            "WHERE floor_minor IS NOT NULL AND balance_minor < floor_minor - overdraft_minor "
            f"ORDER BY id LIMIT {int(sample_limit)}"
        )
        below = [f"{code}: {balance} < {floor}" for code, balance, floor in cursor.fetchall()]
        # 4. The running balance stored on each account's latest posting equals the cached balance.
        cursor.execute(
            f"SELECT a.code, a.balance_minor, p.balance_after_minor FROM {account} a "  # noqa: S608
            f"JOIN {posting} p ON p.id = (SELECT MAX(p2.id) FROM {posting} p2 WHERE p2.account_id = a.id) "
            "WHERE p.balance_after_minor <> a.balance_minor "
            f"ORDER BY a.id LIMIT {int(sample_limit)}"
        )
        running = [
            f"{code}: cached {cached} != last running {after}" for code, cached, after in cursor.fetchall()
        ]
    counts = Transaction.objects.aggregate(n=Count("id"))
    return VerifyReport(
        transactions=int(counts["n"]),
        postings=Posting.objects.count(),
        accounts=LedgerAccount.objects.count(),
        unbalanced_transactions=unbalanced,
        balance_mismatches=mismatches,
        below_floor=below,
        running_balance_mismatches=running,
    )


def lock_spending_room(account_ids: Iterable[int]) -> dict[int, int | None]:
    """Lock these accounts for the rest of the transaction and say how much usage each may still take.

    The room is `balance - (floor - overdraft)`: what a FloorRule.USAGE_OVERDRAFT posting may debit;
    None for an account without a floor. Rows are locked in ascending id order, like post_transactions,
    so a usage batch and other postings never deadlock. Must run inside transaction.atomic (on SQLite
    the IMMEDIATE write transaction is the lock).
    """
    ids = sorted(set(account_ids))
    room: dict[int, int | None] = {}
    for start in range(0, len(ids), 20_000):
        chunk = ids[start : start + 20_000]
        # One array parameter on PostgreSQL instead of thousands of placeholders for the driver to parse.
        one_of = (
            RawSQL("SELECT unnest(%s::bigint[])", [chunk]) if connection.vendor == "postgresql" else chunk
        )
        rows = (
            LedgerAccount.objects.select_for_update()
            .filter(pk__in=one_of)
            .order_by("pk")
            .values_list("pk", "balance_minor", "floor_minor", "overdraft_minor")
        )
        for pk, balance, floor, overdraft in rows:
            room[pk] = None if floor is None else balance - (floor - overdraft)
    return room


def sum_debits_minor(account_id: int, *, since: datetime, exclude_kinds: Iterable[str] = ()) -> int:
    """What left the account since `since` (a positive number): the sum of its negative postings,
    leaving out transactions of the given kinds (repayments are not spending)."""
    total = (
        Posting.objects.filter(account_id=account_id, created_at__gte=since, amount_minor__lt=0)
        .exclude(transaction__kind__in=list(exclude_kinds))
        .aggregate(total=Sum("amount_minor"))["total"]
    )
    return -int(total or 0)
