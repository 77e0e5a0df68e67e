"""Reads of usage: a line's buckets (one query), its records, and the explanation of a write-off."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum

from selfcare.kit import clock
from selfcare.usage.models import Bucket, BucketConsumption, RecordStatus, UsageRecord


def list_line_buckets(line_id: int, *, at: datetime | None = None) -> list[Bucket]:
    """The buckets a line can draw on at `at` (default now), in consumption order, in one query.

    Tariff buckets of a tariff the line has left and buckets of disconnected services are left out,
    as the engine leaves them out.
    """
    moment = at or clock.now()
    buckets = list(
        Bucket.objects.filter(line_id=line_id, period_start__lte=moment)
        .filter(Q(period_end__isnull=True) | Q(period_end__gt=moment))
        .filter(Q(tariff__isnull=True) | Q(tariff_id=F("line__tariff_id")))
        .filter(
            Q(service_assignment__isnull=True)
            | Q(service_assignment__disconnected_at__isnull=True)
            | Q(service_assignment__disconnected_at__gt=moment)
        )
        .select_related("allowance", "zone", "tariff", "service_assignment__service")
    )
    far = datetime.max.replace(tzinfo=moment.tzinfo)
    buckets.sort(key=lambda b: (b.tariff_id is not None, b.period_end or far, b.pk))
    return buckets


def list_line_records(line_id: int, *, since: datetime, until: datetime) -> QuerySet[UsageRecord]:
    return UsageRecord.objects.filter(line_id=line_id, started_at__gte=since, started_at__lt=until).order_by(
        "started_at", "id"
    )


# --- Reads for call-detail statements (statements app) ------------------------------------------------

# What a statement shows of a record, in this order; `started_s` is the start in whole seconds since the
# epoch (UTC), which every backend computes alike and the renderers turn into local time cheaply.
STATEMENT_COLUMNS = (
    "started_s",
    "kind",
    "counterparty",
    "duration_s",
    "volume_bytes",
    "roaming_zone_id",
    "bucket_id",
    "charged_units",
    "priced_units",
    "price_minor",
)


@contextmanager
def _small_page_cache() -> Iterator[None]:
    """On SQLite, read a long run of records through a small page cache: the connection's own cache
    (64 MiB, config.SQLITE_INIT_COMMAND) would otherwise fill up with pages read once and never again,
    which a statement of a million records turns into resident memory. No-op elsewhere."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -4096")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous}")


def get_last_record_id() -> int:
    """The highest record id stored so far: statements read "records up to this id" so that their totals
    and their list of events agree even while new records arrive."""
    return int(UsageRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0)


def iter_statement_records(
    line_id: int,
    *,
    since: datetime,
    until: datetime,
    kinds: Sequence[str],
    up_to_id: int,
    chunk_size: int = 5_000,
) -> Iterator[tuple[Any, ...]]:
    """The accepted records of a line that started in [since, until), of these kinds, oldest first, as
    plain tuples of STATEMENT_COLUMNS.

    Streamed: a server-side cursor on PostgreSQL and fetchmany on SQLite, so memory holds one chunk
    whatever the period; the (line, started_at) index gives the order without a sort. Plain SQL rather
    than the ORM: a statement of a million records would spend more time building model instances or
    converting values than writing the file.
    """
    if not kinds:
        return
    table = UsageRecord._meta.db_table
    if connection.vendor == "postgresql":
        started = "FLOOR(EXTRACT(EPOCH FROM started_at))::bigint"
    else:
        started = "CAST(strftime('%%s', started_at) AS INTEGER)"
    marks = ", ".join(["%s"] * len(kinds))
    sql = (
        f"SELECT {started}, kind, counterparty, duration_s, volume_bytes, roaming_zone_id, bucket_id, "  # noqa: S608
        f"charged_units, priced_units, price_minor FROM {table} "
        f"WHERE line_id = %s AND started_at >= %s AND started_at < %s AND status = %s AND kind IN ({marks}) "
        "AND id <= %s ORDER BY started_at, id"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [line_id, adapt(since), adapt(until), RecordStatus.ACCEPTED, *kinds, up_to_id]
    with _small_page_cache():
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(chunk_size):
                yield from rows
        finally:
            cursor.close()


@dataclass(frozen=True)
class KindTotals:
    count: int
    duration_s: int
    volume_bytes: int
    charged_units: int
    priced_units: int
    price_minor: int


def sum_statement_records(
    line_id: int, *, since: datetime, until: datetime, kinds: Sequence[str], up_to_id: int
) -> dict[str, KindTotals]:
    """Per record kind, the totals of what `iter_statement_records` yields for the same arguments."""
    with _small_page_cache():
        return _sum_statement_records(line_id, since=since, until=until, kinds=kinds, up_to_id=up_to_id)


def _sum_statement_records(
    line_id: int, *, since: datetime, until: datetime, kinds: Sequence[str], up_to_id: int
) -> dict[str, KindTotals]:
    rows = (
        UsageRecord.objects.filter(
            line_id=line_id,
            started_at__gte=since,
            started_at__lt=until,
            status=RecordStatus.ACCEPTED,
            kind__in=list(kinds),
            id__lte=up_to_id,
        )
        .values("kind")
        .annotate(
            n=Count("id"),
            duration=Sum("duration_s"),
            volume=Sum("volume_bytes"),
            charged=Sum("charged_units"),
            priced=Sum("priced_units"),
            price=Sum("price_minor"),
        )
        .values_list("kind", "n", "duration", "volume", "charged", "priced", "price")
    )
    return {kind: KindTotals(*(int(value or 0) for value in values)) for kind, *values in rows}


def list_buckets_between(line_id: int, *, since: datetime, until: datetime) -> list[Bucket]:
    """The line's buckets whose period overlaps [since, until), with what they came from (to name them)."""
    return list(
        Bucket.objects.filter(line_id=line_id, period_start__lt=until)
        .filter(Q(period_end__isnull=True) | Q(period_end__gt=since))
        .select_related("tariff", "service_assignment__service")
        .order_by("period_start", "id")
    )


def list_line_events(
    line_id: int,
    *,
    since: datetime,
    until: datetime,
    kinds: Sequence[str] | None = None,
    number_digits: str = "",
) -> QuerySet[UsageRecord]:
    """The accepted records of a line in [since, until), newest first, for a page of the online view;
    `number_digits` keeps those whose other number contains these digits."""
    query = UsageRecord.objects.filter(
        line_id=line_id, started_at__gte=since, started_at__lt=until, status=RecordStatus.ACCEPTED
    )
    if kinds is not None:
        query = query.filter(kind__in=list(kinds))
    if number_digits:
        query = query.filter(counterparty__contains=number_digits)
    return query.select_related(
        "roaming_zone", "bucket__tariff", "bucket__service_assignment__service"
    ).order_by("-started_at", "-id")


@dataclass(frozen=True)
class Explanation:
    """Why a record cost what it cost: its class, the units, each bucket draw and the priced rest."""

    record: UsageRecord
    draws: list[tuple[int, int]]  # (bucket id, units), in the order they were drawn
    priced_units: int
    price_minor: int

    @property
    def units_from_buckets(self) -> int:
        return sum(units for _, units in self.draws)


def explain_record(record: UsageRecord) -> Explanation:
    draws: list[tuple[int, int]] = []
    if record.bucket_id is not None:
        draws.append((record.bucket_id, record.bucket_units))
        draws.extend(
            BucketConsumption.objects.filter(record=record).order_by("id").values_list("bucket_id", "units")
        )
    return Explanation(
        record=record, draws=draws, priced_units=record.priced_units, price_minor=record.price_minor
    )


def list_bucket_write_offs(bucket_id: int) -> list[tuple[int, int]]:
    """(record id, units) of every draw on a bucket: the bucket's used amount, explained."""
    first = list(UsageRecord.objects.filter(bucket_id=bucket_id).values_list("id", "bucket_units"))
    extra = list(BucketConsumption.objects.filter(bucket_id=bucket_id).values_list("record_id", "units"))
    return sorted(first + extra)


# --- Reads for the subscriber cabinet ---------------------------------------------------------------


def _in_chunks(values: Iterable[int], size: int = 20_000) -> Iterator[list[int]]:
    items = sorted(set(values))
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sum_charges_by_kind(transaction_ids: Iterable[int]) -> dict[str, int]:
    """What the records charged by these ledger transactions cost, by record kind (voice_out, data...)."""
    totals: dict[str, int] = {}
    for chunk in _in_chunks(transaction_ids):
        rows = (
            UsageRecord.objects.filter(transaction_id__in=chunk)
            .values("kind")
            .annotate(total=Sum("price_minor"))
            .values_list("kind", "total")
        )
        for kind, total in rows:
            totals[kind] = totals.get(kind, 0) + int(total or 0)
    return totals


@dataclass(frozen=True)
class ChargeSummary:
    """The records one usage charge (ledger transaction) is made of, by kind."""

    counts: dict[str, int]  # record kind -> records
    totals: dict[str, int]  # record kind -> price
    records: list[UsageRecord]  # the records themselves when there are few of them

    @property
    def count(self) -> int:
        return sum(self.counts.values())


def summarize_charges(transaction_ids: Iterable[int], *, list_up_to: int = 3) -> dict[int, ChargeSummary]:
    """For each usage charge: its records counted and summed by kind, and listed when at most
    `list_up_to` (two queries for a whole page of charges)."""
    ids = list(set(transaction_ids))
    if not ids:
        return {}
    counts: dict[int, dict[str, int]] = {}
    totals: dict[int, dict[str, int]] = {}
    rows = (
        UsageRecord.objects.filter(transaction_id__in=ids)
        .values("transaction_id", "kind")
        .annotate(n=Count("id"), total=Sum("price_minor"))
        .values_list("transaction_id", "kind", "n", "total")
    )
    for txn_id, kind, n, total in rows:
        counts.setdefault(txn_id, {})[kind] = int(n)
        totals.setdefault(txn_id, {})[kind] = int(total or 0)
    few = [txn_id for txn_id, by_kind in counts.items() if sum(by_kind.values()) <= list_up_to]
    records: dict[int, list[UsageRecord]] = {}
    if few:
        for record in UsageRecord.objects.filter(transaction_id__in=few).order_by("started_at", "id"):
            records.setdefault(int(record.transaction_id or 0), []).append(record)
    return {
        txn_id: ChargeSummary(counts=counts[txn_id], totals=totals[txn_id], records=records.get(txn_id, []))
        for txn_id in counts
    }


def list_charged_records(transaction_id: int) -> QuerySet[UsageRecord]:
    """The priced records a usage charge is made of, in the order they happened."""
    return UsageRecord.objects.filter(transaction_id=transaction_id).order_by("started_at", "id")


def get_line_record(record_id: int, *, line_ids: Iterable[int]) -> UsageRecord | None:
    """A usage record of one of these lines (None for anyone else's), with its bucket's origin."""
    return (
        UsageRecord.objects.filter(pk=record_id, line_id__in=list(line_ids))
        .select_related("zone", "roaming_zone")
        .first()
    )


def get_buckets(bucket_ids: Iterable[int]) -> dict[int, Bucket]:
    """Buckets by id with what they came from (tariff or service), to name them."""
    return {
        bucket.pk: bucket
        for bucket in Bucket.objects.filter(pk__in=list(set(bucket_ids))).select_related(
            "tariff", "service_assignment__service"
        )
    }


CALL_KINDS = ("voice_in", "voice_out", "sms_in")


def list_recent_contacts(line_id: int, *, since: datetime, limit: int = 10) -> list[UsageRecord]:
    """The latest calls (both ways) and incoming SMS of a line, with a number, newest first."""
    return list(
        UsageRecord.objects.filter(line_id=line_id, started_at__gte=since, kind__in=CALL_KINDS)
        .exclude(counterparty="")
        .order_by("-started_at", "-id")[:limit]
    )


# --- Reads for the TM Forum usage and balance endpoints (tmf) ------------------------------------------


def list_line_usage(
    line_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Sequence[str] | None = None,
) -> QuerySet[UsageRecord]:
    """Every record of a line, accepted and refused, newest first, with its zones (slice it to page
    through; `.count()` counts on the (line, started_at) index)."""
    query = UsageRecord.objects.filter(line_id=line_id)
    if since is not None:
        query = query.filter(started_at__gte=since)
    if until is not None:
        query = query.filter(started_at__lt=until)
    if kinds is not None:
        query = query.filter(kind__in=list(kinds))
    return query.select_related("zone", "roaming_zone").order_by("-started_at", "-id")


def list_record_draws(records: Iterable[UsageRecord]) -> dict[int, list[tuple[int, int]]]:
    """(bucket id, units) of every draw of these records on buckets, in the order drawn, by record id
    (the first draw is on the record, later ones are BucketConsumption rows: one query for a page)."""
    draws: dict[int, list[tuple[int, int]]] = {}
    further: list[int] = []
    for record in records:
        draws[record.pk] = []
        if record.bucket_id is not None:
            draws[record.pk].append((record.bucket_id, record.bucket_units))
            further.append(record.pk)
    if further:
        for record_id, bucket_id, units in (
            BucketConsumption.objects.filter(record_id__in=further)
            .order_by("record_id", "id")
            .values_list("record_id", "bucket_id", "units")
        ):
            draws[record_id].append((bucket_id, units))
    return draws


def _json(value: Any) -> Any:
    """A JSON column read by plain SQL: text on both engines (Django reads jsonb as text), or decoded."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _table_of(model: Any, foreign_key: str) -> str:
    """The table of another domain's model behind one of `model`'s foreign keys (no import of it)."""
    return str(model._meta.get_field(foreign_key).related_model._meta.db_table)


def _aware(value: Any) -> datetime | None:
    """A timestamp read by plain SQL: aware already on PostgreSQL, naive UTC text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


@dataclass(frozen=True)
class BucketSummary:
    """What a page shows of a bucket, read without model instances."""

    id: int
    usage_kind: str
    amount: int
    remaining: int
    period_end: datetime | None
    from_tariff: bool  # a tariff's allowance (else a service's)
    tariff_name: dict[str, str] | None  # a tariff's allowance: the tariff's names by language
    service_name: dict[str, str] | None  # a service's: the service's names by language
    service_validity_days: int | None  # a pack runs out after its validity; None: it renews
    zone_name: dict[str, str] | None


def list_line_bucket_summaries(
    line_id: int, *, tariff_id: int, at: datetime | None = None
) -> list[BucketSummary]:
    """The buckets `list_line_buckets` returns, in the same (consumption) order, as plain rows: one query
    on the (line, period_start) index, the caller passing the line's current tariff (no join to the
    line). For pages that show buckets on every request (the cabinet's home)."""
    moment = at or clock.now()
    adapt = connection.ops.adapt_datetimefield_value
    assignment: Any = Bucket._meta.get_field("service_assignment").related_model
    tables = {
        "bucket": Bucket._meta.db_table,
        "tariff": _table_of(Bucket, "tariff"),
        "assignment": assignment._meta.db_table,
        "service": _table_of(assignment, "service"),
        "zone": _table_of(Bucket, "zone"),
    }
    # Plain SQL: this runs on every home page (and every poll of it), where the ORM's compilation of the
    # four joins cost more than the database's work.
    sql = (  # noqa: S608 - table names only
        "SELECT b.id, b.usage_kind, b.amount, b.remaining, b.period_end, b.tariff_id, t.name, "
        "sa.disconnected_at, s.name, s.validity_days, z.name "
        "FROM {bucket} b LEFT JOIN {tariff} t ON t.id = b.tariff_id "
        "LEFT JOIN {assignment} sa ON sa.id = b.service_assignment_id "
        "LEFT JOIN {service} s ON s.id = sa.service_id "
        "LEFT JOIN {zone} z ON z.id = b.zone_id "
        "WHERE b.line_id = %s AND b.period_start <= %s AND (b.period_end IS NULL OR b.period_end > %s)"
    ).format(**tables)
    with connection.cursor() as cursor:
        cursor.execute(sql, [line_id, adapt(moment), adapt(moment)])
        rows = cursor.fetchall()
    found = []
    for (
        pk,
        kind,
        amount,
        remaining,
        end,
        bucket_tariff,
        t_name,
        disconnected,
        s_name,
        validity,
        z_name,
    ) in rows:
        if bucket_tariff is not None and bucket_tariff != tariff_id:
            continue  # a tariff the line has left
        if disconnected is not None and _aware(disconnected) <= moment:  # type: ignore[operator]
            continue  # a service disconnected since
        found.append(
            BucketSummary(
                id=pk,
                usage_kind=kind,
                amount=int(amount),
                remaining=int(remaining),
                period_end=_aware(end),
                from_tariff=bucket_tariff is not None,
                tariff_name=_json(t_name) if bucket_tariff is not None else None,
                service_name=_json(s_name) if bucket_tariff is None else None,
                service_validity_days=validity if bucket_tariff is None else None,
                zone_name=_json(z_name),
            )
        )
    far = datetime.max.replace(tzinfo=moment.tzinfo)
    found.sort(key=lambda b: (b.from_tariff, b.period_end or far, b.id))
    return found


def sum_line_prices(
    *, account_id: int, since: datetime, line_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """What each line of an account was charged for usage since `since` (line id -> minor units), one
    grouped query; `line_ids` narrows it to a page of lines. For the corporate cabinet."""
    records = UsageRecord.objects.filter(
        line__account_id=account_id, started_at__gte=since, price_minor__gt=0
    )
    if line_ids is not None:
        records = records.filter(line_id__in=list(line_ids))
    rows = records.values_list("line_id").annotate(total=Sum("price_minor")).order_by()
    return {int(line_id): int(total or 0) for line_id, total in rows}
