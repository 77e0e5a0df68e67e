"""The bulk write paths of the rating engine, per database backend.

PostgreSQL: records go in with COPY on Django's own psycopg 3 connection (so inside the same
transaction as everything else of the batch), bucket draws with one UPDATE ... FROM unnest(...).
SQLite: executemany on the raw sqlite3 connection, inside the IMMEDIATE transaction Django opened.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from selfcare.usage.models import Bucket, UsageRecord

RECORD_TABLE = UsageRecord._meta.db_table
BUCKET_TABLE = Bucket._meta.db_table

RECORD_COLUMNS = (
    "source",
    "source_record_id",
    "batch_id",
    "line_id",
    "kind",
    "started_at",
    "duration_s",
    "volume_bytes",
    "counterparty",
    "roaming_zone_id",
    "cell",
    "status",
    "refusal_reason",
    "usage_class",
    "zone_id",
    "charged_units",
    "bucket_id",
    "bucket_units",
    "priced_units",
    "price_minor",
    "transaction_id",
    "rated_at",
)
STARTED_AT = RECORD_COLUMNS.index("started_at")
RATED_AT = RECORD_COLUMNS.index("rated_at")

_CHUNK = 20_000


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def sqlite_datetime(value: datetime) -> str:
    """How Django stores an aware datetime in SQLite: naive UTC text ("2026-03-02 06:00:00[.ffffff]")."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ")[:-6]


def existing_record_ids(keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (source, source record id) pairs are stored already."""
    by_source: dict[str, list[str]] = {}
    for source, record_id in keys:
        by_source.setdefault(source, []).append(record_id)
    found: set[tuple[str, str]] = set()
    with connection.cursor() as cursor:
        for source, ids in by_source.items():
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                if is_postgres():
                    cursor.execute(
                        f"SELECT source_record_id FROM {RECORD_TABLE} "  # noqa: S608
                        "WHERE source = %s AND source_record_id = ANY(%s)",
                        [source, chunk],
                    )
                else:
                    marks = ",".join(["%s"] * len(chunk))
                    cursor.execute(
                        f"SELECT source_record_id FROM {RECORD_TABLE} "  # noqa: S608
                        f"WHERE source = %s AND source_record_id IN ({marks})",
                        [source, *chunk],
                    )
                found.update((source, row[0]) for row in cursor.fetchall())
    return found


def write_records(rows: Sequence[Sequence[Any]]) -> None:
    """Insert rated records (tuples in RECORD_COLUMNS order; datetimes aware)."""
    if not rows:
        return
    columns = ", ".join(RECORD_COLUMNS)
    if is_postgres():
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {RECORD_TABLE} ({columns}) FROM STDIN") as copy,
        ):
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        return
    connection.ensure_connection()
    raw = connection.connection
    marks = ", ".join(["?"] * len(RECORD_COLUMNS))
    raw.executemany(f"INSERT INTO {RECORD_TABLE} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def apply_bucket_draws(draws: Sequence[tuple[int, int]]) -> None:
    """Take (bucket id, units) off the buckets' remaining amounts, relative to the stored value."""
    if not draws:
        return
    ordered = sorted(draws)
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {BUCKET_TABLE} AS b SET remaining = b.remaining - u.used "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS u(id, used) WHERE b.id = u.id",
                [[bucket_id for bucket_id, _ in ordered], [used for _, used in ordered]],
            )
        return
    connection.ensure_connection()
    connection.connection.executemany(
        f"UPDATE {BUCKET_TABLE} SET remaining = remaining - ? WHERE id = ?",  # noqa: S608
        [(used, bucket_id) for bucket_id, used in ordered],
    )


def record_ids(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_source: dict[str, list[str]] = {}
    for source, record_id in keys:
        by_source.setdefault(source, []).append(record_id)
    found: dict[tuple[str, str], int] = {}
    for source, ids in by_source.items():
        for start in range(0, len(ids), _CHUNK):
            for pk, record_id in UsageRecord.objects.filter(
                source=source, source_record_id__in=ids[start : start + _CHUNK]
            ).values_list("pk", "source_record_id"):
                found[(source, record_id)] = pk
    return found


BUCKET_COLUMNS = (
    "line_id",
    "usage_kind",
    "usage_classes",
    "zone_id",
    "allowance_id",
    "tariff_id",
    "service_assignment_id",
    "amount",
    "remaining",
    "period_start",
    "period_end",
    "created_at",
)


BUCKET_PG_TYPES = {
    "line_id": "bigint",
    "usage_kind": "varchar",
    "usage_classes": "jsonb",
    "zone_id": "bigint",
    "allowance_id": "bigint",
    "tariff_id": "bigint",
    "service_assignment_id": "bigint",
    "amount": "bigint",
    "remaining": "bigint",
    "period_start": "timestamptz",
    "period_end": "timestamptz",
    "created_at": "timestamptz",
}


def insert_buckets(rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert buckets (BUCKET_COLUMNS order; usage_classes as a list); one already there is kept.

    A concurrent rater or the periodic job may create the same bucket (same line, allowance and period
    start): the unique constraint keeps the first, and the other insert does nothing.
    """
    if not rows:
        return
    columns = ", ".join(BUCKET_COLUMNS)
    classes = BUCKET_COLUMNS.index("usage_classes")
    encoded = []
    for row in rows:
        values = list(row)
        values[classes] = json.dumps(values[classes])
        encoded.append(values)
    if is_postgres():
        # One statement with a column of values per array: far cheaper than a row-by-row executemany.
        arrays = [list(column) for column in zip(*encoded, strict=True)]
        casts = ", ".join(f"%s::{BUCKET_PG_TYPES[name]}[]" for name in BUCKET_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {BUCKET_TABLE} ({columns}) SELECT * FROM unnest({casts}) "  # noqa: S608
                "ON CONFLICT (line_id, allowance_id, period_start) DO NOTHING",
                arrays,
            )
        return
    start_at, end_at, created = (
        BUCKET_COLUMNS.index(name) for name in ("period_start", "period_end", "created_at")
    )
    for values in encoded:
        values[start_at] = sqlite_datetime(values[start_at])
        values[end_at] = None if values[end_at] is None else sqlite_datetime(values[end_at])
        values[created] = sqlite_datetime(values[created])
    connection.ensure_connection()
    marks = ", ".join(["?"] * len(BUCKET_COLUMNS))
    connection.connection.executemany(
        f"INSERT OR IGNORE INTO {BUCKET_TABLE} ({columns}) VALUES ({marks})",  # noqa: S608
        encoded,
    )


def load_buckets(line_ids: Sequence[int], since: datetime, until: datetime) -> list[tuple[Any, ...]]:
    """The buckets of these lines valid at some moment in [since, until].

    Rows: (id, line_id, usage_kind, usage_classes tuple, zone_id, tariff_id, allowance_id, remaining,
    period_start, period_end, disconnected_at of its service assignment or None).
    """
    from selfcare.usage.models import Bucket as BucketModel

    assignment_table = BucketModel._meta.get_field("service_assignment").related_model._meta.db_table
    sql = (
        "SELECT b.id, b.line_id, b.usage_kind, {classes}, b.zone_id, b.tariff_id, b.allowance_id, "  # noqa: S608
        "b.remaining, {moments} "
        f"FROM {BUCKET_TABLE} b LEFT JOIN {assignment_table} sa ON sa.id = b.service_assignment_id "
        "WHERE b.line_id {lines} AND b.period_start <= %s AND (b.period_end IS NULL OR b.period_end > %s)"
    )
    postgres = is_postgres()
    # As text on PostgreSQL too: a handful of distinct class lists repeat over thousands of buckets,
    # and decoding each text once (classes_cache) is cheaper than the driver decoding every row's JSON.
    sql = sql.replace("{classes}", "b.usage_classes::text" if postgres else "b.usage_classes")
    # On SQLite, as plain text: Django's converter parses each declared datetime column with a regex,
    # several times slower than the datetime.fromisoformat of _sqlite_parse.
    sql = sql.replace(
        "{moments}",
        "b.period_start, b.period_end, sa.disconnected_at"
        if postgres
        else "CAST(b.period_start AS TEXT), CAST(b.period_end AS TEXT), CAST(sa.disconnected_at AS TEXT)",
    )
    out: list[tuple[Any, ...]] = []
    classes_cache: dict[Any, tuple[str, ...]] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(line_ids), _CHUNK):
            chunk = list(line_ids[start : start + _CHUNK])
            if postgres:
                cursor.execute(sql.format(lines="= ANY(%s)"), [chunk, until, since])
            else:
                marks = ",".join(["%s"] * len(chunk))
                cursor.execute(
                    sql.format(lines=f"IN ({marks})"),
                    [*chunk, sqlite_datetime(until), sqlite_datetime(since)],
                )
            for row in cursor.fetchall():
                raw_classes = row[3]
                key = raw_classes if isinstance(raw_classes, str) else json.dumps(raw_classes)
                classes = classes_cache.get(key)
                if classes is None:
                    decoded = json.loads(raw_classes) if isinstance(raw_classes, str) else raw_classes
                    classes = classes_cache[key] = tuple(decoded or ())
                if postgres:
                    out.append((*row[:3], classes, *row[4:]))
                else:
                    out.append(
                        (
                            *row[:3],
                            classes,
                            *row[4:8],
                            _sqlite_parse(row[8]),
                            _sqlite_parse(row[9]),
                            _sqlite_parse(row[10]),
                        )
                    )
    return out


def _sqlite_parse(value: datetime | str | None) -> datetime | None:
    """Django's SQLite converters give naive UTC datetimes for datetime columns."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)
