"""Recurring fees, blocking for debt and unblocking (docs/billing.md).

`charge_fees` is the periodic job: it walks every line that is not terminated in chunks of
SELFCARE_BILLING_CHUNK_SIZE, each chunk one database transaction, so a crash loses at most the chunk
in flight and a rerun picks up exactly what is missing. `settle_debts` does the same for one account
and is called after every credit (payments) and by a sweep.

Exactly once: a fee is a FeeCharge row unique on (line, product kind, product id, period start), and
its ledger transaction's idempotency key is derived from the same four values. Each chunk first locks
its customers' ledger accounts (and the fee revenue account) in ascending id order, the order every
ledger posting uses, then reads lines and existing fees: a concurrent run of the same chunk waits for
the first to commit and then finds everything recorded.

Per line, the fees due now (plus the line's debt, if it has one) are posted together or not at all:
a line never pays part of what it owes and stays blocked anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from selfcare.billing.errors import AdjustmentBelowFloor, AdjustmentInvalid, AdjustmentKeyReused
from selfcare.billing.models import BalanceAdjustment, FeeCharge, FeeStatus, ProductKind
from selfcare.catalog import queries as catalog_queries
from selfcare.catalog.queries import FeeSchedule
from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.kit.idempotency import InvalidIdempotencyKey, check_key
from selfcare.kit.money import format_money
from selfcare.ledger import queries as ledger_queries
from selfcare.ledger import services as ledger
from selfcare.ledger.errors import InsufficientFunds
from selfcare.lines import queries as lines_queries
from selfcare.lines import services as lines_services
from selfcare.lines.queries import BillingLineRow
from selfcare.notifications.services import queue_sms
from selfcare.usage import services as usage_services

log = structlog.get_logger(__name__)

REVENUE_ACCOUNT = "revenue:fees"
TRANSACTION_KIND = {ProductKind.TARIFF: "tariff_fee", ProductKind.SERVICE: "service_fee"}
DAILY = "daily"
MONTHLY = "monthly"
# Line statuses (selfcare.lines.models.LineStatus values; billing reads lines only through queries).
ACTIVE = "active"
BLOCKED_FOR_DEBT = "blocked_debt"
BLOCKED_BY_SUBSCRIBER = "blocked_subscriber"
DEFAULT_ACTOR = "system:billing"


# --- Periods and amounts ------------------------------------------------------------------------------


def period_of(fee_period: str, day: date) -> tuple[date, date]:
    """(first day, first day of the next period) of the local period containing `day`."""
    if fee_period == DAILY:
        return day, day + timedelta(days=1)
    if fee_period == MONTHLY:
        start = day.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1)
    raise ValueError(f"no recurring period {fee_period!r}")


def local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def prorated_fee_minor(fee_minor: int, *, period_start: date, period_end: date, since: date) -> int:
    """The share of a period's fee from `since` (inclusive) to the period end, rounded down: a
    subscriber never pays more than the exact share of the days they have."""
    total_days = (period_end - period_start).days
    remaining_days = (period_end - max(since, period_start)).days
    return fee_minor * remaining_days // total_days


def fee_idempotency_key(line_id: int, product_kind: str, product_id: int, period_start: date) -> str:
    return f"fee:{line_id}:{product_kind}:{product_id}:{period_start.isoformat()}"


@dataclass(frozen=True)
class DueFee:
    product_kind: str
    product_id: int
    fee_period: str
    period_start: date
    period_end: date
    amount_minor: int

    @property
    def identity(self) -> tuple[str, int, date]:
        return (self.product_kind, self.product_id, self.period_start)


def _due(
    product_kind: str, product_id: int, fee: tuple[int, str] | None, since: date, on: date
) -> DueFee | None:
    if fee is None:
        return None
    fee_minor, fee_period = fee
    if fee_minor <= 0 or fee_period not in (DAILY, MONTHLY):
        return None
    start, end = period_of(fee_period, on)
    if since > on:  # not yet connected on that day (a run for a past date)
        return None
    # The first month of a product connected after the 1st is prorated; daily fees are whole.
    amount = (
        fee_minor
        if fee_period == DAILY or since <= start
        else prorated_fee_minor(fee_minor, period_start=start, period_end=end, since=since)
    )
    if amount <= 0:
        return None
    return DueFee(product_kind, product_id, fee_period, start, end, amount)


def first_period_fee(
    product_kind: str, product_id: int, *, fee_minor: int, fee_period: str, since: date
) -> DueFee | None:
    """The fee of the period containing local day `since` for a product that starts that day, as
    the fee job would charge it (billing.changes charges it at once so the cabinet shows it)."""
    return _due(product_kind, product_id, (fee_minor, fee_period), since, since)


def list_due_fees(
    row: BillingLineRow,
    services: Sequence[tuple[int, datetime]],
    schedule: FeeSchedule,
    on: date,
    *,
    tariffs: Sequence[tuple[int, datetime]] = (),
) -> list[DueFee]:
    """The fees of the periods containing local day `on`: the tariffs first, then services, each by
    the moment it started.

    `tariffs` and `services` are the products in force on `on` (from the line's history, so a run for
    a past date bills that day's tariff, not today's): (product id, started). Without tariff history
    the line's current tariff is billed. A product on twice that day is billed once.
    """
    in_force = list(tariffs) or [(row.tariff_id, row.tariff_since or row.activated_at)]
    due = [
        _due(
            ProductKind.TARIFF,
            tariff_id,
            schedule.tariffs.get(tariff_id),
            local_date(max(row.activated_at, since)),
            on,
        )
        for tariff_id, since in sorted(in_force, key=lambda item: (item[1], item[0]))
    ]
    for service_id, connected_at in sorted(services, key=lambda item: (item[1], item[0])):
        due.append(
            _due(
                ProductKind.SERVICE,
                service_id,
                schedule.services.get(service_id),
                local_date(connected_at),
                on,
            )
        )
    once: dict[tuple[str, int, date], DueFee] = {}
    for fee in due:
        if fee is not None:
            once.setdefault(fee.identity, fee)
    return list(once.values())


# --- Results ---------------------------------------------------------------------------------------


@dataclass
class BillingResult:
    lines: int = 0
    charged: int = 0
    charged_minor: int = 0
    unpaid: int = 0
    lapsed: int = 0
    blocked: list[int] = field(default_factory=list)
    unblocked: list[int] = field(default_factory=list)

    def add(self, other: BillingResult) -> None:
        self.lines += other.lines
        self.charged += other.charged
        self.charged_minor += other.charged_minor
        self.unpaid += other.unpaid
        self.lapsed += other.lapsed
        self.blocked.extend(other.blocked)
        self.unblocked.extend(other.unblocked)

    @property
    def changed(self) -> bool:
        return bool(self.charged or self.unpaid or self.lapsed or self.blocked or self.unblocked)

    def as_audit(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "charged": self.charged,
            "charged_minor": self.charged_minor,
            "unpaid": self.unpaid,
            "lapsed": self.lapsed,
            "blocked": self.blocked,
            "unblocked": self.unblocked,
        }


# --- The job -----------------------------------------------------------------------------------------


def _revenue_account_id() -> int:
    return ledger.open_account(REVENUE_ACCOUNT, kind="system", currency=settings.SELFCARE_CURRENCY).pk


def _lock_and_reread(rows: Sequence[BillingLineRow], revenue_id: int) -> list[BillingLineRow]:
    """Lock the chunk's ledger accounts, then read the lines again: what was read before the lock may
    have been changed by a run that held it."""
    ledger_queries.lock_spending_room([*(row.ledger_account_id for row in rows), revenue_id])
    return lines_queries.list_lines_for_billing(line_ids=[row.id for row in rows])


def charge_fees(
    *,
    on: date | None = None,
    actor: str = DEFAULT_ACTOR,
    chunk_size: int | None = None,
    after_line: Callable[[int], None] | None = None,
) -> BillingResult:
    """Charge every line's recurring fees for the periods containing local day `on` (default today).

    Safe to run any number of times, concurrently with itself and after a crash. `after_line` is
    called with the number of lines handled so far, inside the chunk's transaction (progress, and the
    crash test's point of failure).
    """
    day = on or clock.local_today(settings.TIME_ZONE)
    size = chunk_size or settings.SELFCARE_BILLING_CHUNK_SIZE
    revenue_id = _revenue_account_id()
    total = BillingResult()
    after_id = 0
    while True:
        with transaction.atomic():
            rows = lines_queries.list_lines_for_billing(after_id=after_id, limit=size)
            if not rows:
                break
            fresh = _lock_and_reread(rows, revenue_id)
            part = _bill_lines(
                fresh, on=day, actor=actor, revenue_id=revenue_id, after_line=after_line, done=total.lines
            )
            if part.changed:
                record_audit(actor, "billing.fees.charge", after={"on": day.isoformat(), **part.as_audit()})
        total.add(part)
        after_id = rows[-1].id
    log.info("billing.fees.charged", on=day.isoformat(), **total.as_audit())
    return total


def settle_debts(account_id: int, *, actor: str = DEFAULT_ACTOR, on: date | None = None) -> BillingResult:
    """Charge what the account's lines owe and what is due now, and unblock the lines that owe nothing.

    `account_id` is the lines.Account id. Payments call this after each credit has committed; the
    sweep (`settle_all_debts`) calls it for every account with a debt. Idempotent and safe to run
    concurrently with the fee job.
    """
    day = on or clock.local_today(settings.TIME_ZONE)
    revenue_id = _revenue_account_id()
    with transaction.atomic():
        rows = lines_queries.list_lines_for_billing(account_id=account_id)
        if not rows:
            return BillingResult()
        fresh = _lock_and_reread(rows, revenue_id)
        result = _bill_lines(fresh, on=day, actor=actor, revenue_id=revenue_id)
        if result.changed:
            record_audit(
                actor,
                "billing.debts.settle",
                subject_type="account",
                subject_id=account_id,
                after={"on": day.isoformat(), **result.as_audit()},
            )
    return result


def settle_all_debts(*, actor: str = DEFAULT_ACTOR, on: date | None = None) -> BillingResult:
    """The sweep: settle every account that has an unpaid fee or a line blocked for debt."""
    accounts = set(
        FeeCharge.objects.filter(status=FeeStatus.UNPAID).values_list("account_id", flat=True).distinct()
    )
    accounts.update(lines_queries.list_account_ids_with_line_status(BLOCKED_FOR_DEBT))
    total = BillingResult()
    for account_id in sorted(accounts):
        total.add(settle_debts(account_id, actor=actor, on=on))
    return total


def _local_day(day: date) -> tuple[datetime, datetime]:
    """[local midnight of `day`, local midnight of the next day)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    following = day + timedelta(days=1)
    return (
        datetime(day.year, day.month, day.day, tzinfo=zone),
        datetime(following.year, following.month, following.day, tzinfo=zone),
    )


def _known_charges(line_ids: Sequence[int], on: date) -> dict[int, list[FeeCharge]]:
    """The lines' debts and the fees already recorded for the periods containing `on`."""
    period_starts = {on, on.replace(day=1)}
    charges: dict[int, list[FeeCharge]] = defaultdict(list)
    for charge in FeeCharge.objects.filter(line_id__in=line_ids).filter(
        Q(status=FeeStatus.UNPAID) | Q(period_start__in=period_starts)
    ):
        charges[charge.line_id].append(charge)
    return charges


def _bill_lines(
    rows: Sequence[BillingLineRow],
    *,
    on: date,
    actor: str,
    revenue_id: int,
    after_line: Callable[[int], None] | None = None,
    done: int = 0,
) -> BillingResult:
    """Bill these lines; the caller holds their ledger accounts' locks inside one transaction."""
    schedule = catalog_queries.get_fee_schedule()
    line_ids = [row.id for row in rows]
    day_start, day_end = _local_day(on)
    tariffs, services = lines_queries.list_products_in_force(line_ids, start=day_start, end=day_end)
    known = _known_charges(line_ids, on)
    result = BillingResult()
    pending: list[FeeCharge] = []
    allowances = _Allowances()
    spent: dict[int, int] = {}
    for row in rows:
        _bill_line(
            row,
            known.get(row.id, []),
            list_due_fees(row, services.get(row.id, []), schedule, on, tariffs=tariffs.get(row.id, ())),
            on=on,
            actor=actor,
            revenue_id=revenue_id,
            result=result,
            pending=pending,
            allowances=allowances,
            spent=spent,
        )
        result.lines += 1
        if after_line is not None:
            after_line(done + result.lines)
    FeeCharge.objects.bulk_create(pending, batch_size=500)
    allowances.apply(actor=actor)
    # Fees count toward the lines' monthly quotas (they are never refused by one).
    lines_services.record_line_spend(spent, at=clock.now())
    return result


@dataclass
class _Allowances:
    """Fair blocking, the billing side (docs/billing.md): a period whose fee went unpaid has its
    buckets withdrawn; a line whose debt is paid gets its buckets at once. Applied after the chunk's
    fee rows are written, in the same transaction: the usage engine reads them to decide."""

    unpaid: list[tuple[int, str, int, date, date]] = field(default_factory=list)
    paid_msisdns: set[str] = field(default_factory=set)

    def apply(self, *, actor: str) -> None:
        for start in range(0, len(self.unpaid), 100):
            usage_services.withdraw_buckets(self.unpaid[start : start + 100], actor=actor)
        if self.paid_msisdns:
            usage_services.grant_buckets_to_lines(sorted(self.paid_msisdns), actor=actor)


def _bill_line(
    row: BillingLineRow,
    known: list[FeeCharge],
    due: list[DueFee],
    *,
    on: date,
    actor: str,
    revenue_id: int,
    result: BillingResult,
    pending: list[FeeCharge],
    allowances: _Allowances,
    spent: dict[int, int] | None = None,
) -> None:
    """Bill one line; its new FeeCharge rows are appended to `pending` for the caller to insert."""
    now = clock.now()
    # A debt whose period ended unpaid lapses: the line was blocked, so that period gave no service.
    lapsing = [c.pk for c in known if c.status == FeeStatus.UNPAID and c.period_end <= on]
    if lapsing:
        FeeCharge.objects.filter(pk__in=lapsing, status=FeeStatus.UNPAID).update(status=FeeStatus.LAPSED)
        result.lapsed += len(lapsing)
    if row.status == BLOCKED_BY_SUBSCRIBER:
        return  # a voluntary block is a pause: no fees accrue (docs/billing.md)
    debt = [c for c in known if c.status == FeeStatus.UNPAID and c.period_end > on]
    recorded = {(c.product_kind, c.product_id, c.period_start) for c in known}
    new = [
        FeeCharge(
            line_id=row.id,
            account_id=row.account_id,
            product_kind=fee.product_kind,
            product_id=fee.product_id,
            fee_period=fee.fee_period,
            period_start=fee.period_start,
            period_end=fee.period_end,
            amount_minor=fee.amount_minor,
            status=FeeStatus.UNPAID,
            idempotency_key=fee_idempotency_key(row.id, fee.product_kind, fee.product_id, fee.period_start),
            created_at=now,
        )
        for fee in due
        if fee.identity not in recorded
    ]
    group = debt + new
    if group:
        try:
            posted = ledger.post_transactions(
                [_ledger_entry(charge, row, revenue_id, actor) for charge in group]
            )
        except InsufficientFunds:
            # post_transactions rolled its own savepoint back; the new fees are recorded unpaid: the debt.
            pending.extend(new)
            result.unpaid += len(new)
            allowances.unpaid.extend(
                (row.id, c.product_kind, c.product_id, c.period_start, c.period_end) for c in new
            )
            if row.status == ACTIVE:
                _block_for_debt(row, owed_minor=sum(c.amount_minor for c in group), actor=actor)
                result.blocked.append(row.id)
            return
        for charge, txn in zip(group, posted, strict=True):
            charge.status = FeeStatus.CHARGED
            charge.ledger_transaction_id = txn.pk
            charge.charged_at = now
        # New fees are inserted already charged, with the chunk's others (one INSERT for many lines).
        pending.extend(new)
        for charge in debt:
            FeeCharge.objects.filter(pk=charge.pk, status=FeeStatus.UNPAID).update(
                status=FeeStatus.CHARGED, ledger_transaction_id=charge.ledger_transaction_id, charged_at=now
            )
        if debt:
            allowances.paid_msisdns.add(row.msisdn)
        paid = sum(c.amount_minor for c in group)
        if spent is not None:
            spent[row.id] = spent.get(row.id, 0) + paid
        result.charged += len(group)
        result.charged_minor += paid
        balance = ledger_queries.get_balance_minor(row.ledger_account_id)
        _notify_low_balance(row, before_minor=balance + paid, after_minor=balance, actor=actor)
    else:
        balance = (
            ledger_queries.get_balance_minor(row.ledger_account_id) if row.status == BLOCKED_FOR_DEBT else 0
        )
    if row.status == BLOCKED_FOR_DEBT and balance >= -row.credit_limit_minor:
        _unblock(row, actor=actor)
        result.unblocked.append(row.id)
        allowances.paid_msisdns.add(row.msisdn)


def _ledger_entry(charge: FeeCharge, row: BillingLineRow, revenue_id: int, actor: str) -> ledger.Entry:
    return ledger.Entry(
        kind=TRANSACTION_KIND[ProductKind(charge.product_kind)],
        idempotency_key=charge.idempotency_key,
        legs=[
            ledger.Leg(row.ledger_account_id, -charge.amount_minor),
            ledger.Leg(revenue_id, charge.amount_minor),
        ],
        actor=actor,
        # The fee's key names its FeeCharge row (unique) and is known before the row is written.
        cause_type="fee_charge",
        cause_id=charge.idempotency_key,
        memo=f"{charge.product_kind} {charge.product_id} {charge.fee_period} fee "
        f"from {charge.period_start.isoformat()}",
        floor=ledger.FloorRule.ENFORCE,
    )


# --- Status changes and notifications --------------------------------------------------------------


def _line(row: BillingLineRow) -> Any:
    line = lines_queries.get_line_by_msisdn(row.msisdn)
    if line is None:  # pragma: no cover - the row was read under lock in this transaction
        raise LookupError(row.msisdn)
    return line


def _money(amount_minor: int, language: str) -> str:
    return format_money(amount_minor, settings.SELFCARE_CURRENCY, language)


def _block_for_debt(row: BillingLineRow, *, owed_minor: int, actor: str) -> None:
    lines_services.set_line_status(_line(row), status=BLOCKED_FOR_DEBT, actor=actor, reason="unpaid fee")
    queue_sms(
        row.msisdn,
        template="billing.blocked_for_debt",
        params={"amount": _money(owed_minor, row.language)},
        language=row.language,
        actor=actor,
    )


def _unblock(row: BillingLineRow, *, actor: str) -> None:
    lines_services.set_line_status(_line(row), status=ACTIVE, actor=actor, reason="debt paid")
    queue_sms(row.msisdn, template="billing.unblocked", params={}, language=row.language, actor=actor)


def _notify_low_balance(row: BillingLineRow, *, before_minor: int, after_minor: int, actor: str) -> None:
    """Once per crossing: only the charge that takes the balance below the threshold sends the SMS."""
    threshold: int = settings.SELFCARE_LOW_BALANCE_THRESHOLD_MINOR
    if threshold <= 0 or not (after_minor < threshold <= before_minor):
        return
    queue_sms(
        row.msisdn,
        template="billing.low_balance",
        params={"balance": _money(after_minor, row.language)},
        language=row.language,
        actor=actor,
    )


# --- Balance adjustments by staff (docs/backoffice.md) -----------------------------------------------

ADJUSTMENTS_ACCOUNT = "adjustments:manual"
KIND_ADJUSTMENT = "adjustment"
ADJUSTMENT_REASON_MAX = 300


@dataclass(frozen=True)
class AdjustmentResult:
    adjustment: BalanceAdjustment
    replayed: bool  # True: the key was already used for this same adjustment; nothing was posted now


def _adjustments_account_id() -> int:
    return int(
        ledger.open_account(
            ADJUSTMENTS_ACCOUNT,
            kind="system",
            currency=settings.SELFCARE_CURRENCY,
            name="Manual balance adjustments",
        ).pk
    )


def adjust_balance(
    account: Any,
    *,
    amount_minor: int,
    reason: str,
    actor: str,
    idempotency_key: str,
    allow_below_floor: bool = False,
) -> AdjustmentResult:
    """Credit (amount > 0) or debit (amount < 0) a customer account by hand, with a reason.

    `account` is a lines.Account. One ledger transaction of kind "adjustment" between the account and
    the adjustments system account, the BalanceAdjustment row and an audit row (balance before ->
    after) are written in one database transaction under both accounts' row locks.

    A debit may not take the balance below the account's floor (0 for prepaid, minus the credit
    limit for postpaid). With `allow_below_floor` it may go down to the hard floor (the floor minus the
    usage overdraft room, what calls in flight may use): never further, so `ledger verify` keeps
    holding. Idempotent by key: the same key and content returns the first adjustment and posts
    nothing; the same key with other content is refused. A credit settles the account's debts after
    commit (unblocks lines blocked for debt), like a top-up.
    """
    reason = (reason or "").strip()
    if (
        not isinstance(amount_minor, int)
        or amount_minor == 0
        or not reason
        or len(reason) > ADJUSTMENT_REASON_MAX
    ):
        raise AdjustmentInvalid(limit=ADJUSTMENT_REASON_MAX)
    try:
        check_key(idempotency_key)
    except InvalidIdempotencyKey:
        raise AdjustmentInvalid(limit=ADJUSTMENT_REASON_MAX) from None
    customer_id = int(account.ledger_account_id)
    system_id = _adjustments_account_id()
    with transaction.atomic():
        # Both rows locked in ascending id order (the order every posting uses): the balance read
        # below stays true until the posting, and a concurrent replay of the key waits here.
        ledger_queries.lock_spending_room([customer_id, system_id])
        prior = BalanceAdjustment.objects.filter(idempotency_key=idempotency_key).first()
        if prior is not None:
            same = (
                prior.account_id == account.pk
                and prior.amount_minor == amount_minor
                and prior.reason == reason
            )
            if not same:
                raise AdjustmentKeyReused()
            return AdjustmentResult(prior, replayed=True)
        balance, floor = ledger_queries.get_balance_and_floor(customer_id)
        after = balance + amount_minor
        hard_floor = ledger_queries.get_hard_floor_minor(customer_id)
        if amount_minor < 0 and floor is not None and hard_floor is not None:
            lowest = hard_floor if allow_below_floor else floor
            if after < lowest:
                currency = settings.SELFCARE_CURRENCY
                language = settings.LANGUAGE_CODE
                raise AdjustmentBelowFloor(
                    after=format_money(after, currency, language),
                    floor=format_money(floor, currency, language),
                    hard_floor=format_money(hard_floor, currency, language),
                )
        posted = ledger.post_transaction(
            KIND_ADJUSTMENT,
            legs=[ledger.Leg(customer_id, amount_minor), ledger.Leg(system_id, -amount_minor)],
            idempotency_key=f"adjustment:{idempotency_key}",
            actor=actor,
            cause_type="adjustment",
            cause_id=str(account.pk),
            memo=reason,
            floor=ledger.FloorRule.USAGE_OVERDRAFT if allow_below_floor else ledger.FloorRule.ENFORCE,
        )
        adjustment = BalanceAdjustment.objects.create(
            account_id=account.pk,
            amount_minor=amount_minor,
            reason=reason,
            below_floor_allowed=allow_below_floor,
            idempotency_key=idempotency_key,
            ledger_transaction_id=posted.pk,
            balance_before_minor=balance,
            balance_after_minor=after,
            actor=actor,
            created_at=clock.now(),
        )
        record_audit(
            actor,
            "billing.balance.adjust",
            subject_type="account",
            subject_id=account.pk,
            before={"balance_minor": balance},
            after={
                "balance_minor": after,
                "amount_minor": amount_minor,
                "reason": reason,
                "below_floor_allowed": allow_below_floor,
                "transaction": posted.pk,
                "adjustment": adjustment.pk,
            },
        )
        if amount_minor > 0:
            account_id = int(account.pk)
            # After commit, not inside: settling takes the fee job's locks in its own order.
            transaction.on_commit(lambda: _settle_after_adjustment(account_id, actor))
    return AdjustmentResult(adjustment, replayed=False)


def _settle_after_adjustment(account_id: int, actor: str) -> None:
    try:
        settle_debts(account_id, actor=actor)
    except Exception:  # the credit is committed; the periodic sweep settles later
        log.exception("billing.settle_after_adjustment_failed", account_id=account_id)
