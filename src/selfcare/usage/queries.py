"""Reads of usage: a line's buckets (one query), its records, and the explanation of a write-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet

from selfcare.kit import clock
from selfcare.usage.models import Bucket, BucketConsumption, UsageRecord


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
