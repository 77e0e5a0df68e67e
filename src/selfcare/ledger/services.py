"""Every write to the ledger goes through here (DESIGN.md §5.2, §6).

`post_transaction` posts one balanced transaction; `post_transactions` posts a batch of them in one
database transaction with one lock per account and bulk inserts (the rating engine, fee runs and the
demo use it). Both are idempotent by key: a key already posted returns the first transaction and
posts nothing; the same key with different content raises IdempotencyConflict.

Concurrency: account rows are locked in ascending id order (SELECT ... FOR UPDATE on PostgreSQL; on
SQLite the IMMEDIATE write transaction already serialises writers), so two postings touching the
same accounts never deadlock and never lose an update. The idempotency key is checked after the locks
are taken, so a concurrent duplicate waits for the first and then sees it.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from django.db import IntegrityError, connection, transaction
from django.db.models.base import ModelState

from selfcare.kit import clock
from selfcare.kit.idempotency import check_key, fingerprint
from selfcare.ledger.errors import (
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    UnbalancedTransaction,
)
from selfcare.ledger.models import AccountKind, LedgerAccount, Posting, Transaction

log = structlog.get_logger(__name__)

BalanceFellHook = Callable[[list[int]], None]
_balance_fell_hooks: list[BalanceFellHook] = []


def on_balance_fell(hook: BalanceFellHook) -> Callable[[], None]:
    """Call `hook(ledger_account_ids)` after every commit that lowered the balance of accounts with a
    floor (customer accounts); returns a function that unregisters it.

    How other domains react to spending without the ledger (or the usage engine and billing, which
    post the charges) knowing them: payments registers its autopay check in its AppConfig.ready().
    The hook runs after the commit, outside any transaction, and never more than once per commit; a
    rolled-back posting calls nothing. A hook that fails is logged and does not stop the others: the
    money is committed by then.
    """
    if hook not in _balance_fell_hooks:
        _balance_fell_hooks.append(hook)

    def unregister() -> None:
        if hook in _balance_fell_hooks:
            _balance_fell_hooks.remove(hook)

    return unregister


def _call_balance_fell_hooks(account_ids: list[int]) -> None:
    for hook in list(_balance_fell_hooks):
        try:
            hook(list(account_ids))
        except Exception:  # the posting is committed; a reaction to it must not turn into an error
            log.exception("ledger.balance_fell_hook_failed", hook=getattr(hook, "__qualname__", str(hook)))


class FloorRule(enum.Enum):
    """How far down a debit may take a customer account."""

    ENFORCE = "enforce"  # not below the floor (fees, service connections, transfers)
    USAGE_OVERDRAFT = "usage_overdraft"  # usage that already happened may use the overdraft room too


@dataclass(frozen=True)
class Leg:
    account_id: int
    amount_minor: int


@dataclass(frozen=True)
class Entry:
    """One transaction to post."""

    kind: str
    idempotency_key: str
    legs: Sequence[Leg]
    actor: str
    cause_type: str = ""
    cause_id: str = ""
    memo: str = ""
    floor: FloorRule = FloorRule.ENFORCE
    created_at: Any = None  # a datetime; None means clock.now(). The demo back-dates its history.

    def content_fingerprint(self) -> str:
        return fingerprint(
            {
                "kind": self.kind,
                "legs": sorted((leg.account_id, leg.amount_minor) for leg in self.legs),
                "cause": [self.cause_type, self.cause_id],
            }
        )


def _validate(entry: Entry) -> None:
    check_key(entry.idempotency_key)
    if len(entry.legs) < 2 or sum(leg.amount_minor for leg in entry.legs) != 0:
        raise UnbalancedTransaction()
    if any(leg.amount_minor == 0 for leg in entry.legs):
        raise UnbalancedTransaction()


def open_account(
    code: str,
    *,
    kind: str,
    currency: str,
    name: str = "",
    floor_minor: int | None = None,
    overdraft_minor: int = 0,
) -> LedgerAccount:
    """Create a ledger account (or return the existing one with this code)."""
    if kind == AccountKind.CUSTOMER and floor_minor is None:
        floor_minor = 0
    account, _ = LedgerAccount.objects.get_or_create(
        code=code,
        defaults={
            "kind": kind,
            "currency": currency,
            "name": name,
            "floor_minor": floor_minor,
            "overdraft_minor": overdraft_minor,
            "created_at": clock.now(),
        },
    )
    return account


@dataclass(frozen=True)
class AccountSpec:
    """What `open_accounts` needs to open one ledger account."""

    code: str
    kind: str
    currency: str
    name: str = ""
    floor_minor: int | None = None
    overdraft_minor: int = 0
    created_at: Any = None  # a datetime; None means clock.now(). The demo back-dates its accounts.


def open_accounts(specs: Sequence[AccountSpec], *, batch_size: int = 2000) -> list[LedgerAccount]:
    """Open many ledger accounts at once (bulk inserts); codes already open are returned as they are.

    The bulk twin of `open_account` for generators and imports: same defaults (a customer account
    without a floor gets floor 0), returned in the order of `specs`.
    """
    codes = [spec.code for spec in specs]
    if len(set(codes)) != len(codes):
        raise ValueError("open_accounts: the same code twice in one call")
    now = clock.now()
    with transaction.atomic():
        existing: dict[str, LedgerAccount] = {}
        for start in range(0, len(codes), batch_size):
            chunk = codes[start : start + batch_size]
            existing.update((a.code, a) for a in LedgerAccount.objects.filter(code__in=chunk))
        missing = [
            LedgerAccount(
                code=spec.code,
                kind=spec.kind,
                currency=spec.currency,
                name=spec.name,
                floor_minor=0
                if spec.kind == AccountKind.CUSTOMER and spec.floor_minor is None
                else spec.floor_minor,
                overdraft_minor=spec.overdraft_minor,
                created_at=spec.created_at or now,
            )
            for spec in specs
            if spec.code not in existing
        ]
        # Both supported backends (PostgreSQL, SQLite >= 3.35) return the new ids from a bulk insert.
        created = LedgerAccount.objects.bulk_create(missing, batch_size=batch_size)
        existing.update((account.code, account) for account in created)
    return [existing[code] for code in codes]


def set_account_limits(account_id: int, *, floor_minor: int | None, overdraft_minor: int) -> None:
    """Change an account's floor (credit limit) under its row lock. Callers write the audit row."""
    with transaction.atomic():
        LedgerAccount.objects.select_for_update().filter(pk=account_id).exists()
        LedgerAccount.objects.filter(pk=account_id).update(
            floor_minor=floor_minor, overdraft_minor=overdraft_minor
        )


def post_transaction(
    kind: str,
    *,
    legs: Sequence[Leg],
    idempotency_key: str,
    actor: str,
    cause_type: str = "",
    cause_id: str = "",
    memo: str = "",
    floor: FloorRule = FloorRule.ENFORCE,
) -> Transaction:
    entry = Entry(
        kind=kind,
        idempotency_key=idempotency_key,
        legs=legs,
        actor=actor,
        cause_type=cause_type,
        cause_id=cause_id,
        memo=memo,
        floor=floor,
    )
    return post_transactions([entry])[0]


# Ids per `IN (...)` list and rows per multi-row INSERT: well below SQLite's 32,766 bound variables and
# PostgreSQL's 65,535 parameters, large enough that a batch of thousands needs only a few statements.
_IN_CHUNK = 5_000
_INSERT_CHUNK = 500


@dataclass(slots=True)
class _Locked:
    """What posting needs of a locked account row (a plain record: no model instance per account)."""

    code: str
    currency: str
    balance_minor: int
    floor_minor: int | None
    overdraft_minor: int


def _in_list(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`column IN (...)` as SQL and parameters: one array parameter on PostgreSQL, a list elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _lock_accounts(account_ids: Iterable[int]) -> dict[int, _Locked]:
    # Plain SQL: the ORM's per-value preparation of a large IN list costs more than the query.
    ids = sorted(set(account_ids))
    table = connection.ops.quote_name(LedgerAccount._meta.db_table)
    # SQLite has no row locks: its IMMEDIATE write transaction already holds the database's write lock.
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    accounts: dict[int, _Locked] = {}
    with connection.cursor() as cursor:
        # Chunks are taken in ascending id order too, so the global lock order stays ascending.
        for start in range(0, len(ids), _IN_CHUNK):
            condition, params = _in_list("id", ids[start : start + _IN_CHUNK])
            cursor.execute(
                "SELECT id, code, currency, balance_minor, floor_minor, overdraft_minor "  # noqa: S608
                f"FROM {table} WHERE {condition} ORDER BY id{for_update}",
                params,
            )
            for pk, code, currency, balance, floor, overdraft in cursor.fetchall():
                accounts[pk] = _Locked(code, currency, balance, floor, overdraft)
    missing = set(ids) - accounts.keys()
    if missing:
        raise LedgerAccount.DoesNotExist(f"ledger accounts {sorted(missing)} do not exist")
    return accounts


def _existing_transactions(keys: Iterable[str]) -> dict[str, Transaction]:
    unique = sorted(set(keys))
    table = connection.ops.quote_name(Transaction._meta.db_table)
    found: list[str] = []
    with connection.cursor() as cursor:
        for start in range(0, len(unique), _IN_CHUNK):
            condition, params = _in_list("idempotency_key", unique[start : start + _IN_CHUNK])
            cursor.execute(f"SELECT idempotency_key FROM {table} WHERE {condition}", params)  # noqa: S608
            found.extend(row[0] for row in cursor.fetchall())
    # Replays are rare: only they pay for loading whole rows.
    existing: dict[str, Transaction] = {}
    for start in range(0, len(found), _IN_CHUNK):
        chunk = found[start : start + _IN_CHUNK]
        existing.update((t.idempotency_key, t) for t in Transaction.objects.filter(idempotency_key__in=chunk))
    return existing


def _check_floor(account: _Locked, new_balance: int, rule: FloorRule) -> None:
    if account.floor_minor is None:
        return
    lowest = account.floor_minor
    if rule is FloorRule.USAGE_OVERDRAFT:
        lowest -= account.overdraft_minor
    if new_balance < lowest:
        raise InsufficientFunds(account_code=account.code)


def post_transactions(entries: Sequence[Entry]) -> list[Transaction]:
    """Post a batch of transactions atomically; returns them in order (existing ones for replayed keys).

    Either every new entry is posted or none is (an InsufficientFunds for one entry refuses the batch).
    """
    if not entries:
        return []
    for entry in entries:
        _validate(entry)
    keys = [entry.idempotency_key for entry in entries]
    if len(set(keys)) != len(keys):
        # The same key twice in one batch is a caller bug unless the content is identical.
        by_key: dict[str, str] = {}
        for entry in entries:
            seen = by_key.setdefault(entry.idempotency_key, entry.content_fingerprint())
            if seen != entry.content_fingerprint():
                raise IdempotencyConflict()

    with transaction.atomic():
        accounts = _lock_accounts(leg.account_id for entry in entries for leg in entry.legs)
        existing = _existing_transactions(keys)
        now = clock.now()

        # Balances move leg by leg (each posting keeps the running balance after it); the floor is
        # checked on each entry's net change per account, as one transaction is one decision.
        balances = {pk: account.balance_minor for pk, account in accounts.items()}
        new_rows: list[dict[str, Any]] = []  # column -> value of each transaction to insert
        planned: dict[str, str] = {}  # key -> fingerprint of the transactions this batch adds
        posting_rows: list[tuple[int, int, int, int, Any]] = []  # (new txn index, account, amount, after, at)
        for entry in entries:
            content_print = entry.content_fingerprint()
            key = entry.idempotency_key
            prior = existing[key].fingerprint if key in existing else planned.get(key)
            if prior is not None:
                if prior != content_print:
                    raise IdempotencyConflict()
                continue
            legs = entry.legs
            currency = accounts[legs[0].account_id].currency
            if any(accounts[leg.account_id].currency != currency for leg in legs):
                raise CurrencyMismatch()
            created_at = entry.created_at or now
            index = len(new_rows)
            net: dict[int, int] = defaultdict(int)
            for leg in legs:
                net[leg.account_id] += leg.amount_minor
                balances[leg.account_id] += leg.amount_minor
                posting_rows.append(
                    (index, leg.account_id, leg.amount_minor, balances[leg.account_id], created_at)
                )
            for account_id, change in net.items():
                if change < 0:
                    _check_floor(accounts[account_id], balances[account_id], entry.floor)
            planned[key] = content_print
            new_rows.append(
                {
                    "kind": entry.kind,
                    "idempotency_key": key,
                    "fingerprint": content_print,
                    "created_at": created_at,
                    "actor": entry.actor,
                    "cause_type": entry.cause_type,
                    "cause_id": entry.cause_id,
                    "memo": entry.memo,
                }
            )

        posted: dict[str, Transaction] = {}
        if new_rows:
            # Plain SQL instead of bulk_create/bulk_update: the ORM's per-field preparation and the
            # CASE WHEN of bulk_update cost more than the database work (bench/ledger.py).
            with connection.cursor() as cursor:
                try:
                    ids = _insert_transactions(cursor, new_rows)
                except IntegrityError as exc:
                    # Only a concurrent poster of one of these keys can get here (we hold the account
                    # locks, so it posted to other accounts: different content under the same key).
                    # The enclosing atomic block rolls back; nothing of the batch remains.
                    raise IdempotencyConflict() from exc
                _insert_postings(
                    cursor,
                    [
                        (ids[new_rows[index]["idempotency_key"]], account_id, amount, after, at)
                        for index, account_id, amount, after, at in posting_rows
                    ],
                )
                _update_balances(
                    cursor,
                    [
                        (pk, balance)
                        for pk, balance in balances.items()
                        if balance != accounts[pk].balance_minor
                    ],
                )
            posted = _as_instances(new_rows, ids)
            if _balance_fell_hooks:
                fell = sorted(
                    pk
                    for pk, balance in balances.items()
                    if balance < accounts[pk].balance_minor and accounts[pk].floor_minor is not None
                )
                if fell:
                    transaction.on_commit(lambda: _call_balance_fell_hooks(fell))

        return [posted[key] if key in posted else existing[key] for key in keys]


_TRANSACTION_COLUMNS = (
    "kind",
    "idempotency_key",
    "fingerprint",
    "created_at",
    "actor",
    "cause_type",
    "cause_id",
    "memo",
)


def _as_instances(rows: Sequence[dict[str, Any]], ids: dict[str, int]) -> dict[str, Transaction]:
    """Model instances of freshly inserted rows, without Model.__init__.

    __init__ (field-by-field assignment plus the pre/post_init signals) cost a quarter of a batch of
    1,000 (bench/ledger.py). This is what unpickling does: a bare instance, its column values, and a
    state saying it is stored. Transaction has no deferred, related-object or file fields to set up.
    """
    alias = connection.alias
    instances: dict[str, Transaction] = {}
    for row in rows:
        key = row["idempotency_key"]
        instance = Transaction.__new__(Transaction)
        instance.__dict__.update(row, id=ids[key])
        instance._state = ModelState()
        instance._state.adding = False
        instance._state.db = alias
        instances[key] = instance
    return instances


def _datetime_adapter() -> Any:
    """The backend's datetime conversion, memoised: a batch shares a handful of distinct instants."""
    adapted: dict[Any, Any] = {}
    convert = connection.ops.adapt_datetimefield_value

    def adapt(moment: Any) -> Any:
        try:
            return adapted[moment]
        except KeyError:
            adapted[moment] = value = convert(moment)
            return value

    return adapt


def _insert_transactions(cursor: Any, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert the transactions; returns key -> id (mapped by key: RETURNING order is not promised)."""
    table = connection.ops.quote_name(Transaction._meta.db_table)
    adapt = _datetime_adapter()
    columns = ", ".join(_TRANSACTION_COLUMNS)
    row_marks = f"({', '.join(['%s'] * len(_TRANSACTION_COLUMNS))})"
    ids: dict[str, int] = {}
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        params: list[Any] = []
        for row in chunk:
            params.extend(adapt(row[c]) if c == "created_at" else row[c] for c in _TRANSACTION_COLUMNS)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_marks] * len(chunk))} "  # noqa: S608
            "RETURNING id, idempotency_key",
            params,
        )
        ids.update((key, pk) for pk, key in cursor.fetchall())
    return ids


def _insert_postings(cursor: Any, rows: Sequence[tuple[int, int, int, int, Any]]) -> None:
    table = connection.ops.quote_name(Posting._meta.db_table)
    adapt = _datetime_adapter()
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        params: list[Any] = []
        for txn_id, account_id, amount, after, at in chunk:
            params.extend((txn_id, account_id, amount, after, adapt(at)))
        cursor.execute(
            f"INSERT INTO {table} (transaction_id, account_id, amount_minor, balance_after_minor, "  # noqa: S608
            f"created_at) VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(chunk))}",
            params,
        )


def _update_balances(cursor: Any, changes: Sequence[tuple[int, int]]) -> None:
    if not changes:
        return
    table = connection.ops.quote_name(LedgerAccount._meta.db_table)
    if connection.vendor == "postgresql":
        cursor.execute(
            f"UPDATE {table} AS a SET balance_minor = v.balance "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, balance) WHERE a.id = v.id",
            [[pk for pk, _ in changes], [balance for _, balance in changes]],
        )
    else:
        cursor.executemany(
            f"UPDATE {table} SET balance_minor = %s WHERE id = %s",  # noqa: S608
            [(balance, pk) for pk, balance in changes],
        )
