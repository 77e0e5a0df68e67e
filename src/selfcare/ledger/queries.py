"""Reads of the ledger: balances, history and the invariant check behind `selfcare ledger verify`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from selfcare.ledger.models import LedgerAccount, Posting, Transaction


def get_balance_minor(account_id: int) -> int:
    return int(LedgerAccount.objects.values_list("balance_minor", flat=True).get(pk=account_id))


def get_account_by_code(code: str) -> LedgerAccount:
    return LedgerAccount.objects.get(code=code)


# --- Reads for call-detail statements ------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodMoney:
    """An account's money over [since, until): the balances at both ends and what moved in between by
    transaction kind (credits as positive, debits as negative sums). opening + every movement = closing."""

    opening_minor: int
    closing_minor: int
    credits_by_kind: dict[str, int]
    debits_by_kind: dict[str, int]

    @property
    def moved_minor(self) -> int:
        return sum(self.credits_by_kind.values()) + sum(self.debits_by_kind.values())


def _balance_before(account_id: int, moment: datetime) -> int:
    # The running balance of the last posting before `moment` (DESIGN.md §6): one index probe.
    latest = (
        Posting.objects.filter(account_id=account_id, created_at__lt=moment)
        .order_by("-created_at", "-id")
        .values_list("balance_after_minor", flat=True)
        .first()
    )
    return int(latest or 0)


def get_period_money(account_id: int, *, since: datetime, until: datetime) -> PeriodMoney:
    """Opening and closing balances of [since, until) and the movements in between, reconciled.

    The three reads are separate statements, so a posting committed between them could make them
    disagree; they are read again until opening + movements == closing (a posting made now lands after
    a period that ends in the past, so in practice the first read already agrees).
    """
    for _attempt in range(5):
        opening = _balance_before(account_id, since)
        rows = (
            Posting.objects.filter(account_id=account_id, created_at__gte=since, created_at__lt=until)
            .values("transaction__kind")
            .annotate(
                credits=Sum("amount_minor", filter=Q(amount_minor__gt=0)),
                debits=Sum("amount_minor", filter=Q(amount_minor__lt=0)),
            )
            .values_list("transaction__kind", "credits", "debits")
        )
        credits = {kind: int(c) for kind, c, _d in rows if c}
        debits = {kind: int(d) for kind, _c, d in rows if d}
        closing = _balance_before(account_id, until)
        money = PeriodMoney(opening, closing, credits, debits)
        if opening + money.moved_minor == closing:
            return money
    raise RuntimeError(f"ledger account {account_id}: postings keep arriving inside {since}..{until}")


def list_period_debits(
    account_id: int, *, since: datetime, until: datetime, exclude_kinds: Iterable[str] = ()
) -> list[tuple[datetime, str, int]]:
    """(created_at, transaction kind, amount) of the account's debits in [since, until), oldest first,
    leaving out the given kinds."""
    return [
        (created_at, kind, int(amount))
        for created_at, kind, amount in Posting.objects.filter(
            account_id=account_id, created_at__gte=since, created_at__lt=until, amount_minor__lt=0
        )
        .exclude(transaction__kind__in=list(exclude_kinds))
        .order_by("created_at", "id")
        .values_list("created_at", "transaction__kind", "amount_minor")
    ]


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


# --- Reads for the subscriber cabinet (one account's money at a glance and its history) -----------------


@dataclass(frozen=True)
class Movement:
    at: datetime
    amount_minor: int  # positive for money in, negative for money out
    kind: str


@dataclass(frozen=True)
class AccountSummary:
    """What left the account in three windows, and its latest credit and debit."""

    spent_today_minor: int
    spent_month_minor: int
    spent_window_minor: int
    last_credit: Movement | None
    last_debit: Movement | None


def _spent_since(since: datetime, exclude_kinds: list[str]) -> Subquery:
    return Subquery(
        Posting.objects.filter(account_id=OuterRef("pk"), created_at__gte=since, amount_minor__lt=0)
        .exclude(transaction__kind__in=exclude_kinds)
        .values("account_id")
        .annotate(total=Sum("amount_minor"))
        .values("total")[:1]
    )


def get_account_summary(
    account_id: int,
    *,
    day_start: datetime,
    month_start: datetime,
    window_start: datetime,
    credit_kinds: Iterable[str],
    not_spending_kinds: Iterable[str] = (),
) -> AccountSummary:
    """Spending since three instants (negative postings, leaving out `not_spending_kinds`), the latest
    posting of one of `credit_kinds` into the account and the latest spending posting: one query.

    Every part is a subquery on the (account, created_at, id) index, so the cost does not grow with
    the account's history.
    """
    excluded = list(not_spending_kinds)
    credits = Posting.objects.filter(
        account_id=OuterRef("pk"), amount_minor__gt=0, transaction__kind__in=list(credit_kinds)
    ).order_by("-created_at", "-id")
    debits = (
        Posting.objects.filter(account_id=OuterRef("pk"), amount_minor__lt=0)
        .exclude(transaction__kind__in=excluded)
        .order_by("-created_at", "-id")
    )
    row = (
        LedgerAccount.objects.filter(pk=account_id)
        .annotate(
            today=_spent_since(day_start, excluded),
            month=_spent_since(month_start, excluded),
            window=_spent_since(window_start, excluded),
            credit_at=Subquery(credits.values("created_at")[:1]),
            credit_amount=Subquery(credits.values("amount_minor")[:1]),
            credit_kind=Subquery(credits.values("transaction__kind")[:1]),
            debit_at=Subquery(debits.values("created_at")[:1]),
            debit_amount=Subquery(debits.values("amount_minor")[:1]),
            debit_kind=Subquery(debits.values("transaction__kind")[:1]),
        )
        .values(
            "today",
            "month",
            "window",
            "credit_at",
            "credit_amount",
            "credit_kind",
            "debit_at",
            "debit_amount",
            "debit_kind",
        )
        .get()
    )
    return AccountSummary(
        spent_today_minor=-int(row["today"] or 0),
        spent_month_minor=-int(row["month"] or 0),
        spent_window_minor=-int(row["window"] or 0),
        last_credit=Movement(row["credit_at"], int(row["credit_amount"]), row["credit_kind"])
        if row["credit_at"] is not None
        else None,
        last_debit=Movement(row["debit_at"], int(row["debit_amount"]), row["debit_kind"])
        if row["debit_at"] is not None
        else None,
    )


def sum_debits_by_day_and_kind(
    account_id: int, *, since: datetime, tz: tzinfo, exclude_kinds: Iterable[str] = ()
) -> list[tuple[date, str, int]]:
    """(local day, transaction kind, spent) for every day since `since` that had spending; one query."""
    rows = (
        Posting.objects.filter(account_id=account_id, created_at__gte=since, amount_minor__lt=0)
        .exclude(transaction__kind__in=list(exclude_kinds))
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "transaction__kind")
        .annotate(total=Sum("amount_minor"))
        .order_by("day", "transaction__kind")
        .values_list("day", "transaction__kind", "total")
    )
    return [(day, kind, -int(total)) for day, kind, total in rows]


def list_transaction_ids(account_id: int, *, kind: str, since: datetime, until: datetime) -> list[int]:
    """Transactions of one kind that moved this account's money in [since, until)."""
    return list(
        Posting.objects.filter(
            account_id=account_id, created_at__gte=since, created_at__lt=until, transaction__kind=kind
        ).values_list("transaction_id", flat=True)
    )


POSTING_FIELDS = (
    "id",
    "amount_minor",
    "balance_after_minor",
    "created_at",
    "transaction_id",
    "transaction__kind",
    "transaction__cause_type",
    "transaction__cause_id",
    "transaction__memo",
)


def list_account_postings(
    account_id: int,
    *,
    kinds: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Posting, dict[str, Any]]:
    """The account's postings, newest first, as dicts of POSTING_FIELDS (slice it to paginate)."""
    query = Posting.objects.filter(account_id=account_id)
    if kinds is not None:
        query = query.filter(transaction__kind__in=list(kinds))
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    return query.order_by("-created_at", "-id").values(*POSTING_FIELDS)


def get_account_posting(account_id: int, transaction_id: int) -> dict[str, Any] | None:
    """The account's posting in one transaction (None when the transaction never touched the account)."""
    return (
        Posting.objects.filter(account_id=account_id, transaction_id=transaction_id)
        .values(*POSTING_FIELDS)
        .first()
    )
