"""Each pricing rule on its own, then the plan the catalog chooses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from selfcare.usage.engine.pricing import (
    HOME_CLASSES,
    FlatPerUnit,
    FreeIncoming,
    FreeOnNet,
    IncludedAllowance,
    PerBlockRounding,
    choose_plan,
    covered_classes,
)

T = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("block", "quantity", "units"),
    [
        (60, 0, 0),
        (60, 1, 60),
        (60, 60, 60),
        (60, 61, 120),
        (1, 61, 61),
        (102_400, 1, 102_400),
        (102_400, 102_401, 204_800),
        (1_048_576, 1_048_576, 1_048_576),
    ],
)
def test_per_block_rounding_rounds_up_to_whole_blocks(block, quantity, units):
    # Given a rounding block / When a quantity is rounded / Then it is the next whole block
    assert PerBlockRounding(block).units(quantity) == units


def test_per_block_rounding_refuses_an_empty_block():
    with pytest.raises(ValueError, match="positive"):
        PerBlockRounding(0)


@pytest.mark.parametrize(
    ("price", "unit", "units", "expected"),
    [
        (250, 60, 60, 250),  # one minute
        (250, 60, 120, 500),
        (250, 60, 61, 255),  # 61 s at 250/min = 254.17 -> up to 255
        (150, 60, 1, 3),  # 2.5 -> 3
        (300, 1_048_576, 102_400, 30),  # 100 KB of a 300-per-MB rate = 29.3 -> 30
        (900, 1, 2, 1800),  # SMS
        (0, 60, 600, 0),
    ],
)
def test_flat_per_unit_prices_a_share_of_a_unit_rounded_up(price, unit, units, expected):
    assert FlatPerUnit(price, unit).price(units) == expected


def test_flat_per_unit_uses_allowances_and_is_chargeable():
    rule = FlatPerUnit(100, 60)
    assert (rule.consumes_allowance, rule.chargeable) == (True, True)


def test_free_on_net_costs_nothing_uses_no_allowance_and_is_not_chargeable():
    rule = FreeOnNet()
    assert (rule.price(6000), rule.consumes_allowance, rule.chargeable) == (0, False, False)


def test_free_incoming_costs_nothing_and_uses_no_allowance():
    rule = FreeIncoming()
    assert (rule.price(6000), rule.consumes_allowance, rule.chargeable) == (0, False, False)


@dataclass
class FakeBucket:
    name: str
    remaining: int
    usage_classes: frozenset[str] = HOME_CLASSES
    zone_id: int | None = None
    start: datetime = MARCH
    until: datetime = APRIL
    tariff_id: int | None = None


def test_included_allowance_draws_in_the_given_order_and_prices_the_rest():
    # Given a pack with 60 s and a tariff bucket with 60 s
    pack = FakeBucket("pack", 60)
    tariff = FakeBucket("tariff", 60, tariff_id=7)

    # When 180 s are drawn
    draws, rest = IncludedAllowance().draw([pack, tariff], 180, T, "off_net", None, 7)

    # Then both are emptied in order and 60 s remain to price; the buckets themselves are untouched
    assert [(bucket.name, units) for bucket, units in draws] == [("pack", 60), ("tariff", 60)]
    assert rest == 60
    assert (pack.remaining, tariff.remaining) == (60, 60)


def test_included_allowance_skips_buckets_that_do_not_apply():
    # Given buckets that are empty, expired, not yet valid, of another class, zone or tariff
    buckets = [
        FakeBucket("empty", 0),
        FakeBucket("expired", 100, until=T),
        FakeBucket("later", 100, start=datetime(2026, 3, 11, tzinfo=UTC)),
        FakeBucket("international only", 100, usage_classes=frozenset({"international"})),
        FakeBucket("other zone", 100, usage_classes=frozenset({"roaming"}), zone_id=2),
        FakeBucket("old tariff", 100, tariff_id=6),
        FakeBucket("good", 100, tariff_id=7),
    ]

    # When 30 units of a home call are drawn
    draws, rest = IncludedAllowance().draw(buckets, 30, T, "landline", None, 7)

    # Then only the applicable bucket is used
    assert [(bucket.name, units) for bucket, units in draws] == [("good", 30)]
    assert rest == 0


def test_included_allowance_roaming_bucket_covers_its_zone_only():
    europe = FakeBucket("europe", 100, usage_classes=frozenset({"roaming"}), zone_id=1)
    assert IncludedAllowance().draw([europe], 10, T, "roaming", 2, 7) == ([], 10)
    draws, rest = IncludedAllowance().draw([europe], 10, T, "roaming", 1, 7)
    assert ([units for _, units in draws], rest) == ([10], 0)


def test_covered_classes_defaults_to_home_usage_or_roaming_in_the_zone():
    assert covered_classes((), None) == HOME_CLASSES
    assert covered_classes((), 3) == frozenset({"roaming"})
    assert covered_classes(("international",), None) == frozenset({"international"})


RATES = {
    ("voice", "on_net", None): 0,
    ("voice", "off_net", None): 250,
    ("voice", "roaming", 5): 6900,
    ("voice", "international", None): 4000,
    ("voice", "international", 9): 3500,
    ("sms", "off_net", None): 200,
    ("data", "home", None): 300,
}


def plan(usage_kind, usage_class, zone_id=None, *, incoming=False, rounding="per_minute", data=102_400):
    return choose_plan(
        usage_kind=usage_kind,
        incoming=incoming,
        usage_class=usage_class,
        zone_id=zone_id,
        voice_rounding=rounding,
        data_rounding_bytes=data,
        rates=RATES,
    )


def test_choose_plan_picks_the_rules_from_the_catalog():
    # Outgoing call to another network: per-minute rounding, flat 250 per minute
    off_net = plan("voice", "off_net")
    assert (off_net.rounding.units(61), off_net.pricer.price(120), off_net.uses_allowance) == (120, 500, True)
    # Per-second tariffs round per second
    assert plan("voice", "off_net", rounding="per_second").rounding.units(61) == 61
    # An on-net rate of 0 means free on-net: no allowance used, not chargeable
    assert isinstance(plan("voice", "on_net").pricer, FreeOnNet)
    assert (plan("voice", "on_net").uses_allowance, plan("voice", "on_net").chargeable) == (False, False)
    # A zone's own rate wins over the class's zone-less rate, which is the fallback
    assert plan("voice", "international", 9).pricer.price(60) == 3500
    assert plan("voice", "international", 8).pricer.price(60) == 4000
    # Data by the tariff's block, priced per MB
    data = plan("data", "home")
    assert (data.rounding.units(1), data.pricer.price(1_048_576)) == (102_400, 300)


def test_choose_plan_incoming_is_free_at_home_and_priced_in_roaming():
    assert isinstance(plan("voice", "off_net", incoming=True).pricer, FreeIncoming)
    assert isinstance(plan("sms", "roaming", 5, incoming=True).pricer, FreeIncoming)
    roaming = plan("voice", "roaming", 5, incoming=True)
    assert roaming.pricer.price(60) == 6900


def test_choose_plan_without_a_rate_refuses_with_no_rate():
    missing = plan("sms", "landline")
    assert (missing.pricer, missing.refusal, missing.chargeable) == (None, "no_rate", True)
