"""Catalog and usage builders for the usage and scenario tests (on top of tests/factories.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from selfcare.catalog.models import (
    Allowance,
    FeePeriod,
    NumberRange,
    Rate,
    Service,
    Tariff,
    Zone,
    ZonePrefix,
)
from selfcare.usage.engine.inputs import UsageInput
from tests.factories import make_service, make_tariff, next_number

MB = 1_048_576
GB = 1024 * MB


def make_numbering() -> dict[str, Zone]:
    """Domestic ranges (ours +7900, MTS +7916, Moscow landlines +7495) and two zones each way."""
    NumberRange.objects.create(prefix="7900", kind="own_mobile")
    NumberRange.objects.create(prefix="7916", kind="other_mobile")
    NumberRange.objects.create(prefix="7495", kind="landline")
    zones = {
        "intl-europe": Zone.objects.create(code="intl-europe", kind="international", name={"en": "Europe"}),
        "intl-world": Zone.objects.create(code="intl-world", kind="international", name={"en": "World"}),
        "roam-europe": Zone.objects.create(code="roam-europe", kind="roaming", name={"en": "Roaming Europe"}),
        "roam-world": Zone.objects.create(code="roam-world", kind="roaming", name={"en": "Roaming world"}),
    }
    for prefix in ("49", "44", "420"):
        ZonePrefix.objects.create(zone=zones["intl-europe"], prefix=prefix)
        ZonePrefix.objects.create(zone=zones["roam-europe"], prefix=prefix)
    for prefix in ("1", "4202"):
        ZonePrefix.objects.create(zone=zones["intl-world"], prefix=prefix)
    return zones


HOME_RATES = {
    ("voice", "on_net"): 150,
    ("voice", "off_net"): 250,
    ("voice", "landline"): 300,
    ("sms", "on_net"): 150,
    ("sms", "off_net"): 250,
    ("data", "home"): 300,
}


def add_rates(
    tariff: Tariff,
    zones: dict[str, Zone],
    *,
    home: dict[tuple[str, str], int] | None = None,
) -> None:
    for (kind, usage_class), price in (home or HOME_RATES).items():
        Rate.objects.create(tariff=tariff, usage_kind=kind, usage_class=usage_class, price_minor=price)
    zoned = {
        ("voice", "international", "intl-europe"): 3500,
        ("voice", "international", "intl-world"): 5500,
        ("voice", "roaming", "roam-europe"): 6900,
        ("sms", "roaming", "roam-europe"): 2900,
        ("data", "roaming", "roam-europe"): 9000,
    }
    for (kind, usage_class, zone), price in zoned.items():
        Rate.objects.create(
            tariff=tariff, usage_kind=kind, usage_class=usage_class, zone=zones[zone], price_minor=price
        )


def make_bundle_tariff(
    zones: dict[str, Zone],
    *,
    voice_s: int = 300 * 60,
    sms: int = 100,
    data_bytes: int = 10 * GB,
    voice_rounding: str = "per_minute",
    data_rounding_bytes: int = 102_400,
    fee_period: str = FeePeriod.MONTHLY,
    home: dict[tuple[str, str], int] | None = None,
) -> Tariff:
    tariff = make_tariff(fee_minor=45_000, fee_period=fee_period)
    Tariff.objects.filter(pk=tariff.pk).update(
        voice_rounding=voice_rounding, data_rounding_bytes=data_rounding_bytes
    )
    tariff.refresh_from_db()
    for kind, amount in (("voice", voice_s), ("sms", sms), ("data", data_bytes)):
        if amount:
            Allowance.objects.create(tariff=tariff, usage_kind=kind, amount=amount)
    add_rates(tariff, zones, home=home)
    return tariff


def make_payg_tariff(zones: dict[str, Zone], *, voice_rounding: str = "per_second") -> Tariff:
    tariff = make_tariff(fee_minor=0, fee_period=FeePeriod.NONE)
    Tariff.objects.filter(pk=tariff.pk).update(voice_rounding=voice_rounding, data_rounding_bytes=102_400)
    tariff.refresh_from_db()
    add_rates(tariff, zones)
    return tariff


def make_pack(
    *,
    kind: str = "data_pack",
    usage_kind: str = "data",
    amount: int = 3 * GB,
    validity_days: int | None = 30,
    zone: Zone | None = None,
    classes: Iterable[str] = (),
) -> Service:
    service = make_service(kind=kind, connect_fee_minor=0)
    Service.objects.filter(pk=service.pk).update(validity_days=validity_days)
    service.refresh_from_db()
    Allowance.objects.create(
        service=service, usage_kind=usage_kind, amount=amount, zone=zone, usage_classes=list(classes)
    )
    return service


def usage(
    msisdn: str,
    kind: str,
    started_at: datetime,
    *,
    record_id: str | None = None,
    source: str = "test",
    **fields: Any,
) -> UsageInput:
    return UsageInput(
        source=source,
        record_id=record_id or f"r{next_number()}",
        kind=kind,
        msisdn=msisdn,
        started_at=started_at,
        **fields,
    )
