"""Reads of the catalog for other domains (the rating engine loads its lookup tables from here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from selfcare.catalog.models import (
    Allowance,
    NumberRange,
    Rate,
    Region,
    Service,
    Tariff,
    UsageClass,
    UsageKind,
    Zone,
    ZoneKind,
    ZonePrefix,
)
from selfcare.kit import clock


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


def get_zone_names() -> dict[int, dict[str, str]]:
    """The translatable names ({"en": …, "ru": …}) of every zone, by id (a short table)."""
    return dict(Zone.objects.values_list("id", "name"))


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


# --- Reads for the subscriber cabinet ---------------------------------------------------------------


def get_tariff_by_code(code: str) -> Tariff | None:
    return Tariff.objects.filter(code=code).first()


def get_service_by_code(code: str) -> Service | None:
    return Service.objects.filter(code=code).first()


def get_product_names(
    *, tariff_ids: Iterable[int] = (), service_ids: Iterable[int] = (), codes: Iterable[str] = ()
) -> dict[tuple[str, Any], Any]:
    """Catalog rows by ("tariff", id), ("service", id) and ("code", code), for naming causes (two queries)."""
    found: dict[tuple[str, Any], Any] = {}
    tariff_ids, service_ids, codes = set(tariff_ids), set(service_ids), set(codes)
    if tariff_ids or codes:
        for tariff in Tariff.objects.filter(Q(pk__in=tariff_ids) | Q(code__in=codes)):
            found[("tariff", tariff.pk)] = tariff
            found[("code", tariff.code)] = tariff
    if service_ids or codes:
        for service in Service.objects.filter(Q(pk__in=service_ids) | Q(code__in=codes)):
            found[("service", service.pk)] = service
            found.setdefault(("code", service.code), service)
    return found


# --- The cabinet's comparison of tariffs and its list of services -------------------------------------

# The rates shown next to each tariff: the home prices people compare (per minute, message, MB).
MAIN_RATES: tuple[tuple[str, str], ...] = (
    ("voice", "on_net"),
    ("voice", "off_net"),
    ("voice", "landline"),
    ("sms", "on_net"),
    ("sms", "off_net"),
    ("data", "home"),
)


@dataclass(frozen=True)
class AllowanceCard:
    usage_kind: str  # voice (seconds) | sms (messages) | data (bytes)
    amount: int
    usage_classes: tuple[str, ...]  # empty: every home class
    zone_code: str  # roaming packs: where it works; empty at home


@dataclass(frozen=True)
class TariffCard:
    """A tariff as the cabinet compares it side by side with the current one."""

    tariff: Tariff
    allowances: tuple[AllowanceCard, ...]
    # (usage kind, usage class) -> price per minute / message / MB, for MAIN_RATES the tariff prices.
    main_rates: dict[tuple[str, str], int]

    @property
    def id(self) -> int:
        return int(self.tariff.pk)


def list_tariff_cards(*, include_id: int | None = None) -> list[TariffCard]:
    """Tariffs open for change (open and active) and, when given, the tariff `include_id` (the line's
    current one, whatever its state), in catalog order, with allowances and main rates. Three queries."""
    open_query = open_for_new()
    query = Tariff.objects.filter(open_query)
    if include_id is not None:
        query = Tariff.objects.filter(open_query | Q(pk=include_id))
    tariffs = list(query.order_by("sort_order", "code"))
    ids = [t.pk for t in tariffs]
    allowances: dict[int, list[AllowanceCard]] = {pk: [] for pk in ids}
    for tariff_id, kind, amount, classes, zone_code in (
        Allowance.objects.filter(tariff_id__in=ids)
        .order_by("id")
        .values_list("tariff_id", "usage_kind", "amount", "usage_classes", "zone__code")
    ):
        allowances[tariff_id].append(AllowanceCard(kind, amount, tuple(classes or ()), zone_code or ""))
    rates: dict[int, dict[tuple[str, str], int]] = {pk: {} for pk in ids}
    for tariff_id, kind, usage_class, price in Rate.objects.filter(
        tariff_id__in=ids, zone__isnull=True
    ).values_list("tariff_id", "usage_kind", "usage_class", "price_minor"):
        if (kind, usage_class) in MAIN_RATES:
            rates[tariff_id][(kind, usage_class)] = price
    return [TariffCard(t, tuple(allowances[t.pk]), rates[t.pk]) for t in tariffs]


def open_for_new() -> Q:
    """Open, active, and inside the offer window now (OfferWindow)."""
    now = clock.now()
    return (
        Q(is_open=True, is_active=True)
        & (Q(available_from__isnull=True) | Q(available_from__lte=now))
        & (Q(available_until__isnull=True) | Q(available_until__gt=now))
    )


def list_services_for_offer(*, include_ids: Iterable[int] = ()) -> list[Service]:
    """Services open for connection and the given ones (connected to a line), in catalog order, with
    their allowances and rules (allowed tariffs, requires, excludes) prefetched."""
    return list(
        Service.objects.filter(open_for_new() | Q(pk__in=list(include_ids)))
        .prefetch_related("allowances__zone", "allowed_tariffs", "requires", "excludes")
        .order_by("sort_order", "code")
    )


def get_black_list_service_to_connect() -> Service | None:
    """The Black list service a line gets when its first number is added: the first open one."""
    return (
        Service.objects.filter(open_for_new(), kind="black_list")
        .prefetch_related("allowed_tariffs", "requires", "excludes")
        .order_by("sort_order", "code")
        .first()
    )


def list_service_allowances(service_id: int) -> list[AllowanceCard]:
    return [
        AllowanceCard(kind, amount, tuple(classes or ()), zone_code or "")
        for kind, amount, classes, zone_code in Allowance.objects.filter(service_id=service_id)
        .order_by("id")
        .values_list("usage_kind", "amount", "usage_classes", "zone__code")
    ]


def list_tariff_allowances(tariff_id: int) -> list[AllowanceCard]:
    return [
        AllowanceCard(kind, amount, tuple(classes or ()), zone_code or "")
        for kind, amount, classes, zone_code in Allowance.objects.filter(tariff_id=tariff_id)
        .order_by("id")
        .values_list("usage_kind", "amount", "usage_classes", "zone__code")
    ]


def get_service_ids_of_kind(kind: str) -> set[int]:
    return set(Service.objects.filter(kind=kind).values_list("id", flat=True))


def usage_class_label(code: str) -> str:
    """The translated name of a usage class (on-net, roaming...) as the catalog defines it."""
    return str(dict(UsageClass.choices).get(code, code))


def get_tariff(tariff_id: int) -> Tariff | None:
    return Tariff.objects.filter(pk=tariff_id).first()


def get_service(service_id: int) -> Service | None:
    return (
        Service.objects.filter(pk=service_id)
        .prefetch_related("allowed_tariffs", "requires", "excludes")
        .first()
    )


# --- Reads for the TM Forum product catalog (tmf) -----------------------------------------------------


def usage_kind_label(code: str) -> str:
    """The translated name of a usage kind (voice, SMS, data) as the catalog defines it."""
    return str(dict(UsageKind.choices).get(code, code))


def list_catalog_tariffs() -> list[Tariff]:
    """Active tariffs (open or closed for new subscribers) in catalog order, with their allowances and
    rates and those rows' zones prefetched (three queries)."""
    return list(
        Tariff.objects.filter(is_active=True)
        .prefetch_related("allowances__zone", "rates__zone")
        .order_by("sort_order", "code")
    )


def list_catalog_services() -> list[Service]:
    """Active services in catalog order, with their allowances (and zones), the tariffs they are for,
    and what they require and exclude prefetched."""
    return list(
        Service.objects.filter(is_active=True)
        .prefetch_related("allowances__zone", "allowed_tariffs", "requires", "excludes")
        .order_by("sort_order", "code")
    )


def list_regions() -> list[Region]:
    """The operator's regions, in code order (forms offer them by their translated names)."""
    return list(Region.objects.order_by("code"))


def get_region(region_id: int) -> Region | None:
    return Region.objects.filter(pk=region_id).first()
