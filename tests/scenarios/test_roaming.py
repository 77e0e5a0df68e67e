"""A subscriber abroad: a roaming pack drawn first (also by incoming calls), roaming rates by zone,
incoming SMS free, and a zone the tariff does not price."""

from __future__ import annotations

import pytest

from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.lines import services as lines
from selfcare.usage import queries, services
from tests.factories import TEST_ACTOR, fund, make_line
from tests.scenarios.conftest import at
from tests.usage.factories import make_bundle_tariff, make_pack, usage

pytestmark = pytest.mark.django_db


def test_a_trip_to_europe(zones, story):
    # Given a bundle subscriber with 1,000.00 who buys 30 minutes for Europe before the trip
    with story("2026-03-02T09:00:00"):
        line = make_line(tariff=make_bundle_tariff(zones, voice_s=600), msisdn="+79003334455")
        fund(line.account.ledger_account, 100_000)
        pack = make_pack(kind="roaming_pack", usage_kind="voice", amount=1800, zone=zones["roam-europe"],
                         validity_days=7)  # fmt: skip
        lines.connect_service(line, service=pack, actor=TEST_ACTOR)

    # When the visited network reports a day in Europe and one call from a world-zone network
    with story("2026-03-03T23:00:00"):
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-03T10:00:00"), record_id="c1", duration_s=1500,
                      counterparty="+79161234567", roaming_zone="roam-europe"),
                usage(line.msisdn, "voice_in", at("2026-03-03T11:00:00"), record_id="c2", duration_s=400,
                      counterparty="+493012345678", roaming_zone="roam-europe"),
                usage(line.msisdn, "sms_out", at("2026-03-03T12:00:00"), record_id="s1",
                      counterparty="+79161234567", roaming_zone="roam-europe"),
                usage(line.msisdn, "sms_in", at("2026-03-03T12:01:00"), record_id="s2",
                      counterparty="+79161234567", roaming_zone="roam-europe"),
                usage(line.msisdn, "data", at("2026-03-03T13:00:00"), record_id="d1", volume_bytes=1_572_864,
                      roaming_zone="roam-europe"),
                usage(line.msisdn, "voice_out", at("2026-03-03T14:00:00"), record_id="c3", duration_s=60,
                      counterparty="+79161234567", roaming_zone="roam-world"),
            ]
        )  # fmt: skip

    # Then: 25 minutes from the pack; the incoming call takes the last 5 pack minutes and pays 2 at
    # 6,900; SMS out 2,900, in free; 1.5 MB = 16 blocks of 100 KB at 9,000/MB = 14,063; the world
    # zone has no rate on this tariff
    assert [(r.status, r.reason, r.price_minor) for r in result.results] == [
        ("accepted", "", 0),
        ("accepted", "", 13_800),
        ("accepted", "", 2_900),
        ("accepted", "", 0),
        ("accepted", "", 14_063),
        ("rejected", "no_rate", 0),
    ]
    # and the home minutes are untouched, the pack is empty
    buckets = {
        (b.usage_kind, b.zone.code if b.zone else "home"): b.remaining
        for b in queries.list_line_buckets(line.pk, at=at("2026-03-03T23:00:00"))
    }
    assert buckets == {("voice", "roam-europe"): 0, ("voice", "home"): 600, ("sms", "home"): 100,
                       ("data", "home"): 10 * 1024**3}  # fmt: skip
    assert get_balance_minor(line.account.ledger_account_id) == 100_000 - 30_763
    assert verify_ledger().ok
