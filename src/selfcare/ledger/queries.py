"""Reads of the ledger: balances, history and the invariant check behind `selfcare ledger verify`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from selfcare.ledger.models import LedgerAccount, Posting, Transaction


def get_balance_minor(account_id: int) -> int:
    return int(LedgerAccount.objects.values_list("balance_minor", flat=True).get(pk=account_id))


def get_balance_and_floor(account_id: int) -> tuple[int, int | None]:
    """The cached balance and the floor an ordinary debit may not cross (None: no floor)."""
    balance, floor = LedgerAccount.objects.values_list("balance_minor", "floor_minor").get(pk=account_id)
    return int(balance), None if floor is None else int(floor)


def get_hard_floor_minor(account_id: int) -> int | None:
    """The lowest balance any debit may leave: the floor minus the usage overdraft room (None: no floor)."""
    floor, overdraft = LedgerAccount.objects.values_list("floor_minor", "overdraft_minor").get(pk=account_id)
    return None if floor is None else int(floor) - int(overdraft)


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
    """Opening balance of [since, until), the movements in it by kind, and the closing balance.

    The opening balance is the running balance of the last posting before `since` (no summing of
    history, DESIGN.md §6); the closing balance is the opening plus every posting of the period, so the
    two always reconcile, and equal the running balance of the period's last posting (postings are
    written in time order).
    """
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
    credits = {str(kind): int(c) for kind, c, _d in rows if c}
    debits = {str(kind): int(d) for kind, _c, d in rows if d}
    moved = sum(credits.values()) + sum(debits.values())
    return PeriodMoney(opening, opening + moved, credits, debits)


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


def _in_placeholders(values: list[str]) -> str:
    return ", ".join(["%s"] * len(values)) or "NULL"


def _as_datetime(value: Any) -> datetime:
    """A timestamp read by raw SQL: aware already on PostgreSQL, naive UTC text on SQLite."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def get_account_summary(
    account_id: int,
    *,
    day_start: datetime,
    month_start: datetime,
    window_start: datetime | None,
    credit_kinds: Iterable[str],
    not_spending_kinds: Iterable[str] = (),
) -> AccountSummary:
    """Spending since three instants (negative postings, leaving out `not_spending_kinds`), the latest
    posting of one of `credit_kinds` into the account and the latest spending posting: one query.
    Without `window_start`, `spent_window_minor` is 0 and the sums read only since the month began.

    Every part reads the (account, created_at, id) index: the sums one range of it, the latest
    movements a backward scan that stops at the first match. Plain SQL because this runs on every
    home page: the ORM's compilation of the same nine subqueries cost more than the database's work.
    """
    excluded = list(not_spending_kinds)
    credits = list(credit_kinds)
    adapt = connection.ops.adapt_datetimefield_value
    posting, txn = Posting._meta.db_table, Transaction._meta.db_table
    # No window (spent_window_minor 0): the sums read no further back than the month or the day.
    window = window_start if window_start is not None else max(day_start, month_start)
    earliest = min(day_start, month_start, window)
    not_spending = f"t.kind NOT IN ({_in_placeholders(excluded)})" if excluded else "1 = 1"
    sql = (
        # One row of sums, then at most one row for each latest movement, told apart by the tag.
        f"SELECT 's', NULL, NULL, NULL, "  # noqa: S608 - table names and placeholders only
        f"COALESCE(SUM(CASE WHEN p.created_at >= %s THEN p.amount_minor ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN p.created_at >= %s THEN p.amount_minor ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN p.created_at >= %s THEN p.amount_minor ELSE 0 END), 0) "
        f"FROM {posting} p JOIN {txn} t ON t.id = p.transaction_id "
        f"WHERE p.account_id = %s AND p.created_at >= %s AND p.amount_minor < 0 AND {not_spending} "
        f"UNION ALL SELECT * FROM (SELECT 'c', p.created_at, p.amount_minor, t.kind, 0, 0, 0 "
        f"FROM {posting} p JOIN {txn} t ON t.id = p.transaction_id "
        f"WHERE p.account_id = %s AND p.amount_minor > 0 AND t.kind IN ({_in_placeholders(credits)}) "
        f"ORDER BY p.created_at DESC, p.id DESC LIMIT 1) latest_credit "
        f"UNION ALL SELECT * FROM (SELECT 'd', p.created_at, p.amount_minor, t.kind, 0, 0, 0 "
        f"FROM {posting} p JOIN {txn} t ON t.id = p.transaction_id "
        f"WHERE p.account_id = %s AND p.amount_minor < 0 AND {not_spending} "
        f"ORDER BY p.created_at DESC, p.id DESC LIMIT 1) latest_debit"
    )
    params: list[Any] = [
        adapt(day_start),
        adapt(month_start),
        adapt(window),
        account_id,
        adapt(earliest),
        *excluded,
        account_id,
        *credits,
        account_id,
        *excluded,
    ]
    sums = (0, 0, 0)
    latest: dict[str, Movement] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for tag, at, amount, kind, today, month, window in cursor.fetchall():
            if tag == "s":
                sums = (int(today), int(month), int(window))
            else:
                latest[tag] = Movement(_as_datetime(at), int(amount), str(kind))
    return AccountSummary(
        spent_today_minor=-sums[0],
        spent_month_minor=-sums[1],
        spent_window_minor=-sums[2] if window_start is not None else 0,
        last_credit=latest.get("c"),
        last_debit=latest.get("d"),
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
