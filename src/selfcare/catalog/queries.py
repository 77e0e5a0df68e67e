"""Reads of the catalog for other domains (the rating engine loads its lookup tables from here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from selfcare.catalog.models import Allowance, NumberRange, Rate, Service, Tariff, Zone, ZoneKind, ZonePrefix


@dataclass(frozen=True)
class RatingCatalogRows:
    """The catalog as plain rows (dicts), everything the rating engine needs, in a few queries."""

    zones: list[Any]  # dicts: id, code, kind
    international_prefixes: list[tuple[str, int]]
    number_ranges: list[tuple[str, str]]
    tariffs: list[Any]  # dicts: id, code, fee_period, voice_rounding, data_rounding_bytes
    services: list[Any]  # dicts: id, code, kind, fee_period, validity_days
    allowances: list[Any]  # dicts: id, tariff_id, service_id, usage_kind, amount, usage_classes, zone_id
    rates: list[Any]  # dicts: tariff_id, usage_kind, usage_class, zone_id, price_minor


def get_rating_catalog_rows() -> RatingCatalogRows:
    return RatingCatalogRows(
        zones=list(Zone.objects.values("id", "code", "kind")),
        international_prefixes=list(
            ZonePrefix.objects.filter(zone__kind=ZoneKind.INTERNATIONAL).values_list("prefix", "zone_id")
        ),
        number_ranges=list(NumberRange.objects.values_list("prefix", "kind")),
        tariffs=list(
            Tariff.objects.values("id", "code", "fee_period", "voice_rounding", "data_rounding_bytes")
        ),
        services=list(Service.objects.values("id", "code", "kind", "fee_period", "validity_days")),
        allowances=list(
            Allowance.objects.order_by("id").values(
                "id", "tariff_id", "service_id", "usage_kind", "amount", "usage_classes", "zone_id"
            )
        ),
        rates=list(Rate.objects.values("tariff_id", "usage_kind", "usage_class", "zone_id", "price_minor")),
    )


@dataclass(frozen=True)
class FeeSchedule:
    """Recurring fees of the catalog: id -> (fee_minor, fee_period) for tariffs and for services."""

    tariffs: dict[int, tuple[int, str]]
    services: dict[int, tuple[int, str]]


def get_fee_schedule() -> FeeSchedule:
    return FeeSchedule(
        tariffs={
            pk: (fee, period)
            for pk, fee, period in Tariff.objects.values_list("id", "fee_minor", "fee_period")
        },
        services={
            pk: (fee, period)
            for pk, fee, period in Service.objects.values_list("id", "fee_minor", "fee_period")
        },
    )


def get_service_parameters(service_id: int) -> tuple[str, dict[str, Any]]:
    """(kind, parameters) of a service."""
    kind, parameters = Service.objects.values_list("kind", "parameters").get(pk=service_id)
    return kind, dict(parameters or {})
