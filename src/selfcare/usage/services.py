"""Every write of the usage domain: rating batches of records, creating buckets (DESIGN.md §7).

`rate_batch(records, *, actor)` is the one ingestion path; the network API, the file import and the
demo generator all call it. A batch is all-or-nothing: records, bucket draws, the ledger charges and
the batch row are written in one database transaction, or nothing is.

Concurrency and duplicates: the batch locks the ledger accounts of its lines first (ascending id, the
ledger's own order), then looks up which records are stored already. A record belongs to one line and
so to one account: a concurrent resend of the same record waits for the lock, then finds the record
and reports it as a duplicate. The unique (source, source_record_id) constraint is the last line of
defence: if it ever fires, the whole batch is rolled back and rated again, and the second pass sees
the record as a duplicate. Either way a record is charged at most once.

Buckets are created when usage first needs them (for the period a record falls in) and by the
periodic job (`tasks.reset_buckets_task`) at each period start; both go through `_ensure_buckets`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from selfcare.billing import queries as billing_queries
from selfcare.catalog import queries as catalog_queries
from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.ledger import queries as ledger_queries
from selfcare.ledger import services as ledger
from selfcare.lines import queries as lines_queries
from selfcare.lines import services as lines_services
from selfcare.usage import bulk
from selfcare.usage.engine.catalog import NO_PERIOD, AllowanceInfo, RatingCatalog
from selfcare.usage.engine.classify import DestinationClassifier
from selfcare.usage.engine.inputs import UsageInput, Valid, Validator
from selfcare.usage.engine.periods import DAILY, MONTHLY, PeriodCalendar
from selfcare.usage.engine.pricing import covered_classes
from selfcare.usage.engine.rater import (
    ACCEPTED,
    BucketState,
    LineState,
    Rated,
    rate_records,
    tariff_in_force,
)
from selfcare.usage.models import Bucket, BucketConsumption, UsageBatch

try:  # psycopg reports a unique violation raised inside COPY as its own error class
    from psycopg.errors import IntegrityError as PsycopgIntegrityError
except ImportError:  # pragma: no cover - psycopg is a dependency
    PsycopgIntegrityError = IntegrityError  # type: ignore[assignment,misc]

REVENUE_ACCOUNT = "revenue:usage"
# Hard blocks refuse every chargeable record; a debt block refuses only what would cost money.
BLOCKED_STATUSES = frozenset({"blocked_subscriber", "terminated"})
DEBT_BLOCKED_STATUS = "blocked_debt"
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
MAX_ATTEMPTS = 3

# Result statuses per record (the API's vocabulary).
RESULT_ACCEPTED = "accepted"
RESULT_DUPLICATE = "duplicate"
RESULT_REJECTED = "rejected"


class RecordResult(NamedTuple):
    status: str  # accepted | duplicate | rejected
    reason: str = ""  # why it was rejected (stable code); empty otherwise
    price_minor: int = 0


@dataclass
class BatchResult:
    batch_id: int
    results: list[RecordResult]
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    refused: int = 0  # rejected records that are stored (refused by a business rule)
    charged_minor: int = 0
    transaction_ids: list[int] = field(default_factory=list)


# --- Buckets ----------------------------------------------------------------------------------------


class _LineRow(NamedTuple):
    id: int
    msisdn: str
    ledger_account_id: int
    tariff_id: int
    status: str
    activated_at: datetime


class _BucketSpec(NamedTuple):
    line_id: int
    allowance: AllowanceInfo
    tariff_id: int | None
    assignment_id: int | None
    start: datetime
    end: datetime | None


def _bucket_specs(
    catalog: RatingCatalog,
    calendar: PeriodCalendar,
    line: _LineRow,
    assignments: Sequence[tuple[int, int, datetime]],
    moments: Iterable[datetime],
) -> dict[tuple[int, int, datetime], _BucketSpec]:
    """The buckets the line needs for usage at these moments, keyed like the unique constraint."""
    specs: dict[tuple[int, int, datetime], _BucketSpec] = {}
    tariff = catalog.tariffs.get(line.tariff_id)
    moments = list(moments)
    if tariff is not None and tariff.allowances:
        periods: set[tuple[datetime, datetime | None]]
        if tariff.fee_period == NO_PERIOD:
            periods = {(line.activated_at, None)} if moments else set()
        else:
            periods = {calendar.period(tariff.fee_period, moment) for moment in moments}
        for start, end in periods:
            for allowance in tariff.allowances:
                specs[(line.id, allowance.id, start)] = _BucketSpec(
                    line.id, allowance, tariff.id, None, start, end
                )
    for assignment_id, service_id, connected_at in assignments:
        service = catalog.services.get(service_id)
        if service is None or not service.allowances:
            continue
        in_force = [moment for moment in moments if moment >= connected_at]
        if not in_force:
            continue
        service_periods: set[tuple[datetime, datetime | None]]
        if service.validity_days:
            expiry = connected_at + timedelta(days=service.validity_days)
            if not any(moment < expiry for moment in in_force):
                continue
            service_periods = {(connected_at, expiry)}
        elif service.fee_period == NO_PERIOD:
            service_periods = {(connected_at, None)}
        else:
            service_periods = set()
            for moment in in_force:
                start, end = calendar.period(service.fee_period, moment)
                service_periods.add((max(start, connected_at), end))
        for start, end in service_periods:
            for allowance in service.allowances:
                specs[(line.id, allowance.id, start)] = _BucketSpec(
                    line.id, allowance, None, assignment_id, start, end
                )
    return specs


def _needed_buckets(
    catalog: RatingCatalog,
    lines: Sequence[_LineRow],
    assignments: dict[int, list[tuple[int, int, datetime]]],
    moments: dict[int, list[datetime]],
    eras: Mapping[int, Sequence[tuple[datetime, int]]] | None = None,
) -> dict[tuple[int, int, datetime], _BucketSpec]:
    calendar = PeriodCalendar(settings.TIME_ZONE)
    needed: dict[tuple[int, int, datetime], _BucketSpec] = {}
    for line in lines:
        line_eras = eras.get(line.id) if eras else None
        line_moments = moments.get(line.id, ())
        if not line_eras:
            needed.update(_bucket_specs(catalog, calendar, line, assignments.get(line.id, ()), line_moments))
            continue
        # The tariff changed while these records happened: each tariff's allowances for its own moments.
        by_tariff: dict[int, list[datetime]] = {}
        for moment in line_moments:
            by_tariff.setdefault(tariff_in_force(line_eras, moment), []).append(moment)
        for tariff_id, tariff_moments in by_tariff.items():
            needed.update(
                _bucket_specs(
                    catalog,
                    calendar,
                    line._replace(tariff_id=tariff_id),
                    assignments.get(line.id, ()),
                    tariff_moments,
                )
            )
    return needed


def _bucket_states(rows: Iterable[tuple[Any, ...]]) -> list[BucketState]:
    covers_cache: dict[tuple[tuple[str, ...], int | None], frozenset[str]] = {}
    states = []
    for row in rows:
        bucket_id, line_id, kind, classes, zone_id, tariff_id, _allowance, remaining, start, end, gone = row
        covers = covers_cache.get((classes, zone_id))
        if covers is None:
            covers = covers_cache[(classes, zone_id)] = covered_classes(classes, zone_id)
        until = end or FAR_FUTURE
        if gone is not None and gone < until:
            until = gone
        states.append(
            BucketState(
                id=bucket_id,
                line_id=line_id,
                usage_kind=kind,
                usage_classes=covers,
                zone_id=zone_id,
                tariff_id=tariff_id,
                remaining=remaining,
                start=start,
                period_end=end,
                until=until,
            )
        )
    return states


def _load_and_ensure_buckets(
    catalog: RatingCatalog,
    lines: Sequence[_LineRow],
    assignments: dict[int, list[tuple[int, int, datetime]]],
    moments: dict[int, list[datetime]],
    now: datetime,
    eras: Mapping[int, Sequence[tuple[datetime, int]]] | None = None,
) -> tuple[list[BucketState], int]:
    """The lines' buckets valid around these moments, after creating the ones usage there needs.

    Returns the bucket states and how many buckets were missing (and created).
    """
    if not lines or not moments:
        return [], 0
    line_ids = sorted(line.id for line in lines)
    since = min(min(times) for times in moments.values())
    until = max(max(times) for times in moments.values())
    rows = bulk.load_buckets(line_ids, since, until)
    existing = {(row[1], row[6], row[8]) for row in rows}
    # Most lines already have every bucket their records need (the periodic job opened them): a
    # line whose first and last record fall in one open bucket per tariff allowance, and which has
    # no service with allowances, needs nothing; only the others are worked out record by record.
    spans: dict[tuple[int, int], list[tuple[datetime, datetime | None]]] = {}
    for row in rows:
        spans.setdefault((row[1], row[6]), []).append((row[8], row[9]))
    to_check = []
    for line in lines:
        times = moments.get(line.id)
        if not times:
            continue
        tariff = catalog.tariffs.get(line.tariff_id)
        with_allowances = any(
            (service := catalog.services.get(service_id)) is not None and service.allowances
            for _assignment, service_id, _connected in assignments.get(line.id, ())
        )
        if not with_allowances and not (eras and line.id in eras):
            if tariff is None or not tariff.allowances:
                continue
            first, last = min(times), max(times)
            if all(
                any(
                    start <= first and (end is None or end > last)
                    for start, end in spans.get((line.id, a.id), ())
                )
                for a in tariff.allowances
            ):
                continue
        to_check.append(line)
    needed = _needed_buckets(catalog, to_check, assignments, moments, eras)
    missing = [spec for key, spec in needed.items() if key not in existing]
    if missing:
        missing = _paid_for(catalog, lines, assignments, missing)
    if missing:
        bulk.insert_buckets(
            [
                (
                    spec.line_id,
                    spec.allowance.usage_kind,
                    list(spec.allowance.usage_classes),
                    spec.allowance.zone_id,
                    spec.allowance.id,
                    spec.tariff_id,
                    spec.assignment_id,
                    spec.allowance.amount,
                    spec.allowance.amount,
                    spec.start,
                    spec.end,
                    now,
                )
                for spec in missing
            ]
        )
        touched = sorted({spec.line_id for spec in missing})
        touched_set = set(touched)
        rows = [row for row in rows if row[1] not in touched_set]
        rows.extend(bulk.load_buckets(touched, since, until))
        # A bucket withdrawn when its period's fee went unpaid is still there (the insert kept it):
        # its period is paid now (_paid_for), so it gets its end back, with what was left in it.
        loaded = {(row[1], row[6], row[8]) for row in rows}
        withdrawn = [s for s in missing if (s.line_id, s.allowance.id, s.start) not in loaded]
        if withdrawn:
            for spec in withdrawn:
                Bucket.objects.filter(
                    line_id=spec.line_id, allowance_id=spec.allowance.id, period_start=spec.start
                ).update(period_end=spec.end)
            again = sorted({spec.line_id for spec in withdrawn})
            rows = [row for row in rows if row[1] not in set(again)]
            rows.extend(bulk.load_buckets(again, since, until))
    return _bucket_states(rows), len(missing)


def _paid_for(
    catalog: RatingCatalog,
    lines: Sequence[_LineRow],
    assignments: dict[int, list[tuple[int, int, datetime]]],
    specs: list[_BucketSpec],
) -> list[_BucketSpec]:
    """Fair blocking (docs/billing.md): leave out the buckets of periods whose fee is not paid for.

    A period of a product with a recurring fee grants nothing while billing has its fee unpaid (or
    lapsed), nor, on a line blocked for debt, before the fee is charged; the buckets appear once it
    is. Products without a recurring period, and packs with a validity, are not billing's to refuse.
    """
    service_of = {
        assignment_id: service_id
        for line_assignments in assignments.values()
        for assignment_id, service_id, _connected in line_assignments
    }
    calendar = PeriodCalendar(settings.TIME_ZONE)
    zone = ZoneInfo(settings.TIME_ZONE)
    periods: dict[tuple[int, int, datetime], tuple[int, str, int, date]] = {}
    for spec in specs:
        if spec.tariff_id is not None:
            kind, product_id = "tariff", spec.tariff_id
            tariff = catalog.tariffs.get(product_id)
            fee_period = tariff.fee_period if tariff is not None else NO_PERIOD
        else:
            kind, product_id = "service", service_of.get(spec.assignment_id or 0, 0)
            service = catalog.services.get(product_id)
            fee_period = NO_PERIOD if service is None or service.validity_days else service.fee_period
        if fee_period not in (DAILY, MONTHLY):
            continue
        period_start, _end = calendar.period(fee_period, spec.start)
        periods[(spec.line_id, spec.allowance.id, spec.start)] = (
            spec.line_id,
            kind,
            product_id,
            period_start.astimezone(zone).date(),
        )
    if not periods:
        return specs
    unpaid = billing_queries.list_unpaid_periods(
        periods.values(),
        debt_blocked_line_ids={line.id for line in lines if line.status == DEBT_BLOCKED_STATUS},
    )
    if not unpaid:
        return specs
    return [s for s in specs if periods.get((s.line_id, s.allowance.id, s.start)) not in unpaid]


def grant_buckets(line: Any, *, at: datetime | None = None, actor: str = "system") -> int:
    """Make sure the line has its buckets for the period containing `at` (default now).

    Call it after a tariff change or a service connection so the cabinet shows the new allowance at
    once; rating and the periodic job would create it anyway when first needed.
    """
    moment = at or clock.now()
    with transaction.atomic():
        rows = [_LineRow(*row) for row in lines_queries.get_lines_for_rating([line.msisdn])]
        created = _ensure_for_lines(rows, moment)
        if created:
            record_audit(
                actor,
                "usage.buckets.grant",
                subject_type="line",
                subject_id=line.pk,
                after={"created": created},
            )
    return created


def grant_buckets_to_lines(
    msisdns: Sequence[str], *, at: datetime | None = None, actor: str = "system"
) -> int:
    """`grant_buckets` for several lines at once (billing calls it when a debt is paid, so the
    allowance of the period just paid for appears at once)."""
    moment = at or clock.now()
    with transaction.atomic():
        rows = [_LineRow(*row) for row in lines_queries.get_lines_for_rating(msisdns)]
        created = _ensure_for_lines(rows, moment)
        if created:
            record_audit(
                actor,
                "usage.buckets.grant",
                after={"lines": sorted(row.id for row in rows), "created": created},
            )
    return created


def withdraw_buckets(
    periods: Sequence[tuple[int, str, int, date, date]], *, at: datetime | None = None, actor: str = "system"
) -> int:
    """End at `at` (default now) the buckets of these (line, product kind, product id, local period
    start, local period end) periods, whose fee billing has just found unpaid.

    Fair blocking: a period not paid for grants nothing. Its buckets may have been opened before the
    fee job reached the line (the bucket job at the period start, or usage in the first minutes);
    what was drawn until now stays drawn, the rest waits: when the fee is paid `_load_and_ensure_buckets`
    gives the bucket its end back. Buckets already ended (an earlier period's) are not touched.
    """
    if not periods:
        return 0
    moment = at or clock.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    condition = Q(pk__in=[])
    for line_id, kind, product_id, start_day, end_day in periods:
        origin = Q(tariff_id=product_id) if kind == "tariff" else Q(service_assignment__service_id=product_id)
        condition |= (
            Q(line_id=line_id)
            & origin
            & Q(period_start__gte=datetime(start_day.year, start_day.month, start_day.day, tzinfo=zone))
            & Q(period_start__lt=datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone))
        )
    with transaction.atomic():
        ended = (
            Bucket.objects.filter(condition)
            .filter(Q(period_end__isnull=True) | Q(period_end__gt=moment), period_start__lte=moment)
            .update(period_end=moment)
        )
        if ended:
            record_audit(
                actor,
                "usage.buckets.withdraw",
                after={"lines": sorted({p[0] for p in periods}), "buckets": ended, "at": moment.isoformat()},
            )
    return int(ended)


def carry_over_service_buckets(line: Any, *, assignment_id: int, actor: str = "system") -> int:
    """A service connected again within a period it already had keeps that period's allowance: its new
    buckets (from `grant_buckets`) start with what its previous buckets of the same period had left,
    not a fresh amount — the period's fee is charged once (docs/billing.md, "Product changes").
    Packs (validity_days) end at another moment and are bought anew. Returns buckets adjusted."""
    adjusted = 0
    with transaction.atomic():
        for bucket in Bucket.objects.select_for_update().filter(
            line_id=line.pk, service_assignment_id=assignment_id, period_end__isnull=False
        ):
            left = (
                Bucket.objects.filter(
                    line_id=line.pk,
                    allowance_id=bucket.allowance_id,
                    period_end=bucket.period_end,
                    period_start__lt=bucket.period_start,
                )
                .order_by("-period_start")
                .values_list("remaining", flat=True)
                .first()
            )
            if left is not None and left < bucket.remaining:
                Bucket.objects.filter(pk=bucket.pk).update(remaining=left)
                adjusted += 1
        if adjusted:
            record_audit(
                actor,
                "usage.buckets.carry_over",
                subject_type="line",
                subject_id=line.pk,
                after={"assignment": assignment_id, "buckets": adjusted},
            )
    return adjusted


def _ensure_for_lines(rows: Sequence[_LineRow], moment: datetime) -> int:
    catalog = RatingCatalog.from_rows(catalog_queries.get_rating_catalog_rows())
    live = [row for row in rows if row.status != "terminated"]
    assignments: dict[int, list[tuple[int, int, datetime]]] = {}
    for assignment_id, line_id, service_id, connected_at in lines_queries.list_active_assignments(
        row.id for row in live
    ):
        assignments.setdefault(line_id, []).append((assignment_id, service_id, connected_at))
    _states, created = _load_and_ensure_buckets(
        catalog, live, assignments, {row.id: [moment] for row in live}, clock.now()
    )
    return created


def reset_buckets(*, at: datetime | None = None, chunk: int = 5000, actor: str = "system:usage") -> int:
    """Open the buckets of the period containing `at` for every line that is not terminated.

    The periodic job runs this shortly after each period start (daily and monthly periods begin at
    local midnight). Buckets of the ended period stay as they were, for history and for late records.
    """
    moment = at or clock.now()
    created = 0
    after_id = 0
    while True:
        with transaction.atomic():
            rows = [
                _LineRow(*row) for row in lines_queries.list_lines_for_buckets(after_id=after_id, limit=chunk)
            ]
            if not rows:
                break
            created += _ensure_for_lines(rows, moment)
        after_id = rows[-1].id
    if created:
        record_audit(actor, "usage.buckets.reset", after={"at": moment.isoformat(), "created": created})
    return created


# --- Rating -----------------------------------------------------------------------------------------


def rate_batch(records: Iterable[UsageInput | Mapping[str, Any]], *, actor: str = "network") -> BatchResult:
    """Rate and store a batch of usage records; returns one result per input record, in input order.

    Each input is a `UsageInput` (a NamedTuple, cheapest to build) or a dict with the same keys.
    Accepted records are charged; records seen before (same source and record id, in this batch or
    any earlier one) are duplicates and change nothing; rejected ones carry a reason — invalid or
    unknown ones are not stored, refused ones (blocked line, black list, no rate, insufficient funds)
    are stored as refused so a resend is a duplicate.
    """
    items = list(records)
    now = clock.now()
    results: list[RecordResult | None] = [None] * len(items)
    valid: list[Valid] = []
    seen: set[tuple[str, str]] = set()
    check = Validator(now).check
    for index, raw in enumerate(items):
        checked = check(index, raw)
        if isinstance(checked, str):
            results[index] = RecordResult(RESULT_REJECTED, checked)
            continue
        key = (checked.source, checked.record_id)
        if key in seen:
            results[index] = RecordResult(RESULT_DUPLICATE)
            continue
        seen.add(key)
        valid.append(checked)
    # The canonical order: the outcome does not depend on the order records arrived in.
    valid.sort(key=lambda r: (r.started_at, r.source, r.record_id))

    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _rate_in_transaction(valid, results, now=now, actor=actor, total=len(items))
        except (IntegrityError, PsycopgIntegrityError):
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _rate_in_transaction(
    valid: list[Valid],
    prior_results: list[RecordResult | None],
    *,
    now: datetime,
    actor: str,
    total: int,
) -> BatchResult:
    results = list(prior_results)
    batch = UsageBatch.objects.create(received_at=now, actor=actor[:100], records_total=total)

    line_rows = [_LineRow(*row) for row in lines_queries.get_lines_for_rating({r.msisdn for r in valid})]
    by_msisdn = {row.msisdn: row for row in line_rows}
    rooms = ledger_queries.lock_spending_room(row.ledger_account_id for row in line_rows)
    # Read under those locks: every charge of these lines holds its account's lock while it raises a
    # line's spend counter, so the quota rooms cannot change before this batch adds its own charges.
    quota_rooms = lines_queries.get_quota_rooms((row.id for row in line_rows), at=now)

    stored = bulk.existing_record_ids((r.source, r.record_id) for r in valid) if valid else set()
    to_rate: list[Valid] = []
    for record in valid:
        if (record.source, record.record_id) in stored:
            results[record.position] = RecordResult(RESULT_DUPLICATE)
        else:
            to_rate.append(record)

    catalog = RatingCatalog.from_rows(catalog_queries.get_rating_catalog_rows())
    lines = _prepare_lines(to_rate, by_msisdn, catalog, now, quota_rooms)
    outcome = rate_records(to_rate, lines=lines, rooms=rooms, catalog=catalog)
    for index, reason in outcome.rejected.items():
        results[index] = RecordResult(RESULT_REJECTED, reason)

    transactions = _post_charges(outcome.rated, outcome.charges, batch, actor=actor, now=now)
    lines_services.record_line_spend(
        {state.id: state.charged for state in lines.values() if state.charged},
        at=now,
        quota_lines=quota_rooms,
    )
    _write(outcome.rated, transactions, batch, now)

    accepted = refused = charged = 0
    for item in outcome.rated:
        if item.status == ACCEPTED:
            accepted += 1
            charged += item.price_minor
            results[item.record.position] = RecordResult(RESULT_ACCEPTED, "", item.price_minor)
        else:
            refused += 1
            results[item.record.position] = RecordResult(RESULT_REJECTED, item.reason)
    final = [result or RecordResult(RESULT_REJECTED, "invalid_field") for result in results]
    duplicates = sum(1 for result in final if result.status == RESULT_DUPLICATE)
    rejected = len(final) - accepted - duplicates
    UsageBatch.objects.filter(pk=batch.pk).update(
        accepted=accepted, refused=refused, duplicates=duplicates, rejected=rejected, charged_minor=charged
    )
    record_audit(
        actor,
        "usage.batch",
        subject_type="usage_batch",
        subject_id=batch.pk,
        after={
            "records": total,
            "accepted": accepted,
            "refused": refused,
            "duplicates": duplicates,
            "rejected": rejected,
            "charged_minor": charged,
        },
    )
    return BatchResult(
        batch_id=batch.pk,
        results=final,
        accepted=accepted,
        duplicates=duplicates,
        rejected=rejected,
        refused=refused,
        charged_minor=charged,
        transaction_ids=sorted(transactions.values()),
    )


def _prepare_lines(
    records: Sequence[Valid],
    by_msisdn: dict[str, _LineRow],
    catalog: RatingCatalog,
    now: datetime,
    quota_rooms: Mapping[int, int] | None = None,
) -> dict[str, LineState]:
    """Line states with their buckets (created when missing) and black lists, for these records."""
    moments: dict[int, list[datetime]] = {}
    for record in records:
        row = by_msisdn.get(record.msisdn)
        if row is not None:
            moments.setdefault(row.id, []).append(record.started_at)
    rows = [row for row in by_msisdn.values() if row.id in moments]
    if not rows:
        return {}
    assignments: dict[int, list[tuple[int, int, datetime]]] = {}
    for assignment_id, line_id, service_id, connected_at in lines_queries.list_active_assignments(moments):
        assignments.setdefault(line_id, []).append((assignment_id, service_id, connected_at))

    states: dict[str, LineState] = {}
    by_id: dict[int, LineState] = {}
    for row in rows:
        state = LineState(
            id=row.id,
            account_id=row.ledger_account_id,
            tariff_id=row.tariff_id,
            blocked=row.status in BLOCKED_STATUSES,
            debt_blocked=row.status == DEBT_BLOCKED_STATUS,
        )
        if quota_rooms:
            state.quota_room = quota_rooms.get(row.id)
        states[row.msisdn] = by_id[row.id] = state

    black_list_services = catalog.black_list_service_ids()
    guarded: dict[int, datetime] = {}
    for line_id, line_assignments in assignments.items():
        for _assignment_id, service_id, connected_at in line_assignments:
            if service_id in black_list_services:
                guarded[line_id] = min(connected_at, guarded.get(line_id, connected_at))
    if guarded:
        for line_id, numbers in lines_queries.get_black_lists(guarded).items():
            state = by_id[line_id]
            state.black_list = frozenset(numbers)
            state.black_list_since = guarded[line_id]

    since = min(min(times) for times in moments.values())
    eras = lines_queries.list_tariff_eras(moments, since=since)
    for line_id, line_eras in eras.items():
        by_id[line_id].tariff_eras = tuple(line_eras)

    buckets, _created = _load_and_ensure_buckets(catalog, rows, assignments, moments, now, eras)
    for bucket in buckets:
        by_id[bucket.line_id].buckets.setdefault(bucket.usage_kind, []).append(bucket)
    for state in by_id.values():
        for kind_buckets in state.buckets.values():
            kind_buckets.sort(key=lambda b: b.order_key(FAR_FUTURE))
    return states


def _post_charges(
    rated: Sequence[Rated], charges: dict[int, int], batch: UsageBatch, *, actor: str, now: datetime
) -> dict[int, int]:
    """One ledger transaction per account for the batch's charges; returns ledger account → txn id."""
    charges = {account: amount for account, amount in charges.items() if amount}
    if not charges:
        return {}
    revenue = ledger.open_account(REVENUE_ACCOUNT, kind="system", currency=settings.SELFCARE_CURRENCY)
    # The key names the content (which records, charged to which account), so a replay of the same
    # content can never post twice, and any different content gets a different key.
    digest = hashlib.sha256()
    for item in rated:
        if item.status == ACCEPTED and item.price_minor:
            digest.update(f"{item.record.source}\x1f{item.record.record_id}\x1e".encode())
    batch_digest = digest.hexdigest()[:40]
    entries = [
        ledger.Entry(
            kind="usage",
            idempotency_key=f"usage:{batch_digest}:{account_id}",
            legs=[ledger.Leg(account_id, -amount), ledger.Leg(revenue.pk, amount)],
            actor=actor[:100],
            cause_type="usage_batch",
            cause_id=str(batch.pk),
            memo=f"usage batch #{batch.pk}",
            floor=ledger.FloorRule.USAGE_OVERDRAFT,
            created_at=now,
        )
        for account_id, amount in sorted(charges.items())
    ]
    posted = ledger.post_transactions(entries)
    return {account_id: txn.pk for (account_id, _), txn in zip(sorted(charges.items()), posted, strict=True)}


def _write(rated: Sequence[Rated], transactions: dict[int, int], batch: UsageBatch, now: datetime) -> None:
    batch_id = batch.pk
    postgres = bulk.is_postgres()
    # SQLite takes datetimes as Django stores them (naive UTC text); PostgreSQL takes them as they are.
    as_stored = (lambda moment: moment) if postgres else bulk.sqlite_datetime
    rated_at = as_stored(now)
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    extra: list[tuple[tuple[str, str], tuple[tuple[int, int], ...]]] = []
    for item in rated:
        record = item.record
        price = item.price_minor
        append(
            (
                record.source,
                record.record_id,
                batch_id,
                item.line.id,
                record.kind,
                as_stored(record.started_at),
                record.duration_s,
                record.volume_bytes,
                record.counterparty,
                item.roaming_zone_id,
                record.cell,
                item.status,
                item.reason,
                item.usage_class,
                item.zone_id,
                item.charged_units,
                item.bucket_id,
                item.bucket_units,
                item.priced_units,
                price,
                transactions.get(item.line.account_id) if price else None,
                rated_at,
            )
        )
        if item.extra_draws:
            extra.append(((record.source, record.record_id), item.extra_draws))
    bulk.write_records(rows)

    used: dict[int, int] = {}
    for item in rated:
        if item.bucket_id is not None:
            used[item.bucket_id] = used.get(item.bucket_id, 0) + item.bucket_units
            for bucket_id, units in item.extra_draws:
                used[bucket_id] = used.get(bucket_id, 0) + units
    bulk.apply_bucket_draws(list(used.items()))

    if extra:
        ids = bulk.record_ids(key for key, _ in extra)
        BucketConsumption.objects.bulk_create(
            [
                BucketConsumption(record_id=ids[key], bucket_id=bucket_id, units=units)
                for key, draws in extra
                for bucket_id, units in draws
            ]
        )


def get_destination_classifier() -> DestinationClassifier:
    """The current number ranges and international prefixes (file importers tell directions by it)."""
    return RatingCatalog.from_rows(catalog_queries.get_rating_catalog_rows()).classifier
