"""The bulk write paths of the rating engine, per database backend.

PostgreSQL: records go in with COPY on Django's own psycopg 3 connection (so inside the same
transaction as everything else of the batch), bucket draws with one UPDATE ... FROM unnest(...).
SQLite: executemany on the raw sqlite3 connection, inside the IMMEDIATE transaction Django opened.
"""

from __future__ import annotations

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
    """How Django stores an aware datetime in SQLite: naive UTC text."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return str(value.replace(tzinfo=None))


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


def to_sqlite_rows(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        converted = list(row)
        converted[STARTED_AT] = sqlite_datetime(converted[STARTED_AT])
        converted[RATED_AT] = sqlite_datetime(converted[RATED_AT])
        out.append(tuple(converted))
    return out


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
