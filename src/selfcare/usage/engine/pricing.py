"""Pricing rules, one small class per rule, and the plan that combines them for one kind of usage.

A `PricePlan` is chosen by the catalog (see `choose_plan`) for each (tariff, usage kind, direction,
usage class, zone) and applied to every record of that shape:

1. a rounding rule turns the raw quantity into billable units (`PerBlockRounding`);
2. an allowance rule draws those units from the line's buckets (`IncludedAllowance`);
3. a price rule prices what is left (`FlatPerUnit`), or the usage is free (`FreeOnNet`,
   `FreeIncoming`).

All arithmetic is on integers. Rounding always goes up: a started minute, a started data block, a
started minor unit of money (see docs/usage.md for the exact formulas).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from selfcare.usage.engine.classify import INTERNATIONAL, ON_NET, ROAMING

SECONDS_PER_MINUTE = 60
BYTES_PER_MB = 1_048_576

VOICE = "voice"
SMS = "sms"
DATA = "data"

# An allowance with no classes listed covers usage at home, never calls abroad or roaming.
HOME_CLASSES = frozenset({"on_net", "off_net", "landline", "home"})

NO_RATE = "no_rate"


class RoundingRule(Protocol):
    def units(self, quantity: int) -> int: ...


class PriceRule(Protocol):
    consumes_allowance: bool
    chargeable: bool

    def price(self, units: int) -> int: ...


class PerBlockRounding:
    """Round a quantity up to whole blocks: 60 s (per started minute), 1 s, 100 KB, 1 MB, 1 SMS."""

    __slots__ = ("block",)

    def __init__(self, block: int) -> None:
        if block <= 0:
            raise ValueError("a rounding block is positive")
        self.block = block

    def units(self, quantity: int) -> int:
        block = self.block
        return -(-quantity // block) * block

    def __repr__(self) -> str:
        return f"PerBlockRounding({self.block})"


class FlatPerUnit:
    """`price_minor` per `unit` (60 s, 1 SMS, 1 MB); a part of a unit costs its share, rounded up."""

    __slots__ = ("price_minor", "unit")
    consumes_allowance = True
    chargeable = True

    def __init__(self, price_minor: int, unit: int) -> None:
        if price_minor < 0 or unit <= 0:
            raise ValueError("a price is not negative and a unit is positive")
        self.price_minor = price_minor
        self.unit = unit

    def price(self, units: int) -> int:
        return -(-units * self.price_minor // self.unit)

    def __repr__(self) -> str:
        return f"FlatPerUnit({self.price_minor}/{self.unit})"


class FreeOnNet:
    """Calls and SMS inside our network cost nothing and do not eat into the bundle.

    Chosen when the tariff's on-net rate is 0. Not chargeable, so a blocked line may still make them.
    """

    __slots__ = ()
    consumes_allowance = False
    chargeable = False

    def price(self, units: int) -> int:
        return 0


class FreeIncoming:
    """Incoming calls at home and every incoming SMS are free and use no allowance."""

    __slots__ = ()
    consumes_allowance = False
    chargeable = False

    def price(self, units: int) -> int:
        return 0


class BucketLike(Protocol):
    remaining: int
    usage_classes: frozenset[str]
    zone_id: int | None
    start: datetime
    until: datetime
    tariff_id: int | None


class IncludedAllowance:
    """Draw billable units from the line's buckets, in the order they are given.

    The caller gives the line's buckets of the usage kind already in consumption order (service packs
    before tariff allowances, earliest expiry first, then oldest). A bucket is eligible when the
    record's moment is inside its validity, it covers the record's class (and zone, for zoned
    buckets), it still has units, and — for a tariff bucket — it belongs to the tariff in force at
    the record's moment.
    Nothing is changed here: the draws are returned and applied only if the record is accepted.
    """

    __slots__ = ()

    def draw(
        self,
        buckets: Sequence[BucketLike],
        units: int,
        moment: datetime,
        usage_class: str,
        zone_id: int | None,
        tariff_id: int,
    ) -> tuple[list[tuple[BucketLike, int]], int]:
        draws: list[tuple[BucketLike, int]] = []
        need = units
        for bucket in buckets:
            remaining = bucket.remaining
            if remaining <= 0 or usage_class not in bucket.usage_classes:
                continue
            if bucket.zone_id is not None and bucket.zone_id != zone_id:
                continue
            if not (bucket.start <= moment < bucket.until):
                continue
            if bucket.tariff_id is not None and bucket.tariff_id != tariff_id:
                continue
            take = need if need < remaining else remaining
            draws.append((bucket, take))
            need -= take
            if need == 0:
                break
        return draws, need


INCLUDED_ALLOWANCE = IncludedAllowance()
FREE_ON_NET = FreeOnNet()
FREE_INCOMING = FreeIncoming()
PER_UNIT = PerBlockRounding(1)


@dataclass(frozen=True, slots=True)
class PricePlan:
    rounding: RoundingRule
    pricer: PriceRule | None  # None: the tariff has no price for this usage (refused: no_rate)

    @property
    def refusal(self) -> str | None:
        return NO_RATE if self.pricer is None else None

    @property
    def chargeable(self) -> bool:
        return self.pricer is None or self.pricer.chargeable

    @property
    def uses_allowance(self) -> bool:
        return self.pricer is not None and self.pricer.consumes_allowance


def covered_classes(usage_classes: Sequence[str], zone_id: int | None) -> frozenset[str]:
    """The classes an allowance covers: as listed; by default home usage, or roaming in its zone."""
    if usage_classes:
        return frozenset(usage_classes)
    if zone_id is not None:
        return frozenset({ROAMING})
    return HOME_CLASSES


def rounding_for(usage_kind: str, *, voice_rounding: str, data_rounding_bytes: int) -> PerBlockRounding:
    if usage_kind == VOICE:
        return PerBlockRounding(SECONDS_PER_MINUTE if voice_rounding == "per_minute" else 1)
    if usage_kind == DATA:
        return PerBlockRounding(data_rounding_bytes)
    return PER_UNIT


UNIT_OF_RATE = {VOICE: SECONDS_PER_MINUTE, SMS: 1, DATA: BYTES_PER_MB}


def choose_plan(
    *,
    usage_kind: str,
    incoming: bool,
    usage_class: str,
    zone_id: int | None,
    voice_rounding: str,
    data_rounding_bytes: int,
    rates: dict[tuple[str, str, int | None], int],
) -> PricePlan:
    """Pick the rules for one shape of usage on one tariff from the tariff's catalog rows.

    - incoming SMS anywhere, and incoming calls at home: free (FreeIncoming);
    - incoming calls in roaming are priced like outgoing roaming calls (the roaming partner bills us);
    - an on-net rate of 0: FreeOnNet (no charge, no allowance used);
    - otherwise the zone's rate, else the class's zone-less rate, with FlatPerUnit; none: no_rate.
    """
    rounding = rounding_for(
        usage_kind, voice_rounding=voice_rounding, data_rounding_bytes=data_rounding_bytes
    )
    if incoming and (usage_kind == SMS or usage_class != ROAMING):
        return PricePlan(rounding, FREE_INCOMING)
    price: int | None = None
    if zone_id is not None:
        price = rates.get((usage_kind, usage_class, zone_id))
    if price is None:
        price = rates.get((usage_kind, usage_class, None))
    if price is None:
        return PricePlan(rounding, None)
    if price == 0 and usage_class == ON_NET:
        return PricePlan(rounding, FREE_ON_NET)
    return PricePlan(rounding, FlatPerUnit(price, UNIT_OF_RATE[usage_kind]))


__all__ = [
    "DATA",
    "HOME_CLASSES",
    "INCLUDED_ALLOWANCE",
    "INTERNATIONAL",
    "SMS",
    "VOICE",
    "FlatPerUnit",
    "FreeIncoming",
    "FreeOnNet",
    "IncludedAllowance",
    "PerBlockRounding",
    "PricePlan",
    "choose_plan",
    "covered_classes",
]
