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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from selfcare.kit import clock
from selfcare.kit.idempotency import check_key, fingerprint
from selfcare.ledger.errors import (
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientFunds,
    UnbalancedTransaction,
)
from selfcare.ledger.models import AccountKind, LedgerAccount, Posting, Transaction


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


def _lock_accounts(account_ids: Iterable[int]) -> dict[int, LedgerAccount]:
    ids = sorted(set(account_ids))
    locked = LedgerAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    accounts = {account.pk: account for account in locked}
    missing = set(ids) - accounts.keys()
    if missing:
        raise LedgerAccount.DoesNotExist(f"ledger accounts {sorted(missing)} do not exist")
    return accounts


def _check_floor(account: LedgerAccount, new_balance: int, rule: FloorRule) -> None:
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
        existing = {t.idempotency_key: t for t in Transaction.objects.filter(idempotency_key__in=set(keys))}
        now = clock.now()

        balances = {pk: account.balance_minor for pk, account in accounts.items()}
        new_transactions: list[Transaction] = []
        new_entries: list[Entry] = []
        planned: dict[str, Transaction] = {}
        for entry in entries:
            content_print = entry.content_fingerprint()
            prior = existing.get(entry.idempotency_key) or planned.get(entry.idempotency_key)
            if prior is not None:
                if prior.fingerprint != content_print:
                    raise IdempotencyConflict()
                continue
            currencies = {accounts[leg.account_id].currency for leg in entry.legs}
            if len(currencies) != 1:
                raise CurrencyMismatch()
            net: dict[int, int] = defaultdict(int)
            for leg in entry.legs:
                net[leg.account_id] += leg.amount_minor
            for account_id, change in net.items():
                balances[account_id] += change
                if change < 0:
                    _check_floor(accounts[account_id], balances[account_id], entry.floor)
            txn = Transaction(
                kind=entry.kind,
                idempotency_key=entry.idempotency_key,
                fingerprint=content_print,
                created_at=entry.created_at or now,
                actor=entry.actor,
                cause_type=entry.cause_type,
                cause_id=entry.cause_id,
                memo=entry.memo,
            )
            planned[entry.idempotency_key] = txn
            new_transactions.append(txn)
            new_entries.append(entry)

        if new_transactions:
            try:
                with transaction.atomic():
                    Transaction.objects.bulk_create(new_transactions)
            except IntegrityError as exc:
                # Only a concurrent poster of one of these keys can get here (we hold the account
                # locks, so it posted to other accounts: different content under the same key).
                raise IdempotencyConflict() from exc
            _insert_postings(new_entries, new_transactions, accounts)
            changed = [account for pk, account in accounts.items() if balances[pk] != account.balance_minor]
            for account in changed:
                account.balance_minor = balances[account.pk]
            if len(changed) == 1:
                LedgerAccount.objects.filter(pk=changed[0].pk).update(balance_minor=changed[0].balance_minor)
            elif changed:
                LedgerAccount.objects.bulk_update(changed, ["balance_minor"], batch_size=500)

        saved = {t.idempotency_key: t for t in new_transactions}
        return [saved.get(key) or existing[key] for key in keys]


def _insert_postings(
    entries: Sequence[Entry], transactions: Sequence[Transaction], accounts: dict[int, LedgerAccount]
) -> None:
    running = {pk: account.balance_minor for pk, account in accounts.items()}
    rows: list[Posting] = []
    for entry, txn in zip(entries, transactions, strict=True):
        for leg in entry.legs:
            running[leg.account_id] += leg.amount_minor
            rows.append(
                Posting(
                    transaction_id=txn.pk,
                    account_id=leg.account_id,
                    amount_minor=leg.amount_minor,
                    balance_after_minor=running[leg.account_id],
                    created_at=txn.created_at,
                )
            )
    Posting.objects.bulk_create(rows, batch_size=2000)
