"""A month of a subscriber on a bundle tariff: allowance used up mid-month, overage priced, a data
pack bought and drawn first, and the period reset on the 1st."""

from __future__ import annotations

import pytest

from selfcare.ledger.queries import get_account_by_code, get_balance_minor, verify_ledger
from selfcare.lines import services as lines
from selfcare.usage import queries, services
from selfcare.usage.models import UsageRecord
from tests.factories import TEST_ACTOR, fund, make_line
from tests.scenarios.conftest import at
from tests.usage.factories import MB, make_bundle_tariff, make_pack, usage

pytestmark = pytest.mark.django_db

OFF_NET = "+79161234567"
LANDLINE = "+74951234567"
ON_NET = "+79007654321"


def remaining(line, moment: str) -> dict[str, int]:
    return {
        ("pack:" if b.service_assignment_id else "") + b.usage_kind: b.remaining
        for b in queries.list_line_buckets(line.pk, at=at(moment))
    }


def prices(*record_ids: str) -> list[int]:
    by_id = dict(UsageRecord.objects.values_list("source_record_id", "price_minor"))
    return [by_id[record_id] for record_id in record_ids]


def test_a_month_on_a_bundle(zones, story):
    # Given a subscriber on a bundle of 10 minutes, 5 SMS and 100 MB a month, with 1,000.00
    with story("2026-03-01T09:00:00"):
        tariff = make_bundle_tariff(zones, voice_s=600, sms=5, data_bytes=100 * MB)
        line = make_line(tariff=tariff, msisdn="+79001112233")
        fund(line.account.ledger_account, 100_000)
        pack = make_pack(kind="data_pack", usage_kind="data", amount=50 * MB, validity_days=30)

    # When three calls of just under 3 minutes are made on the 2nd (each rounded to 3 started minutes)
    with story("2026-03-02T20:00:00"):
        services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-02T10:00:00"), record_id="c1", duration_s=170,
                      counterparty=OFF_NET),
                usage(line.msisdn, "voice_out", at("2026-03-02T11:00:00"), record_id="c2", duration_s=175,
                      counterparty=LANDLINE),
                usage(line.msisdn, "voice_out", at("2026-03-02T12:00:00"), record_id="c3", duration_s=130,
                      counterparty=ON_NET),
            ]
        )  # fmt: skip
    # Then 9 of the 10 minutes are used and nothing is charged
    assert remaining(line, "2026-03-02T20:00:00") == {"voice": 60, "sms": 5, "data": 100 * MB}
    assert prices("c1", "c2", "c3") == [0, 0, 0]

    # When a 50 MB data pack is bought on the 10th (shown at once)
    with story("2026-03-10T09:00:00"):
        lines.connect_service(line, service=pack, actor=TEST_ACTOR)
        assert services.grant_buckets(line) == 1
    assert remaining(line, "2026-03-10T09:00:00") == {
        "pack:data": 50 * MB,
        "voice": 60,
        "sms": 5,
        "data": 100 * MB,
    }

    # and an 80 MB session on the 11th is rated (rounded up to 820 blocks of 100 KB)
    with story("2026-03-11T23:00:00"):
        services.rate_batch(
            [usage(line.msisdn, "data", at("2026-03-11T18:00:00"), record_id="d1", volume_bytes=80 * MB)]
        )
    # Then the pack is drawn first, the rest comes from the tariff's 100 MB
    assert remaining(line, "2026-03-11T23:00:00") == {
        "pack:data": 0,
        "voice": 60,
        "sms": 5,
        "data": 100 * MB - (83_968_000 - 50 * MB),
    }
    explained = queries.explain_record(UsageRecord.objects.get(source_record_id="d1"))
    assert [units for _, units in explained.draws] == [50 * MB, 83_968_000 - 50 * MB]
    assert (explained.record.charged_units, explained.priced_units, explained.price_minor) == (
        83_968_000,
        0,
        0,
    )

    # When on the 14th the minutes run out mid-call and the SMS run out too
    with story("2026-03-14T23:00:00"):
        services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-14T12:00:00"), record_id="c4", duration_s=100,
                      counterparty=OFF_NET),
                usage(line.msisdn, "voice_out", at("2026-03-14T13:00:00"), record_id="c5", duration_s=30,
                      counterparty=LANDLINE),
                *[
                    usage(line.msisdn, "sms_out", at(f"2026-03-14T14:0{i}:00"), record_id=f"s{i}",
                          counterparty=OFF_NET)
                    for i in range(6)
                ],
            ]
        )  # fmt: skip
    # Then the call that crossed the limit pays its second minute (250), the next call its minute at
    # the landline rate (300), and the sixth SMS is priced (250)
    assert prices("c4", "c5", "s0", "s4", "s5") == [250, 300, 0, 0, 250]
    c4 = UsageRecord.objects.get(source_record_id="c4")
    assert (c4.charged_units, c4.bucket_units, c4.priced_units) == (120, 60, 60)

    # When a 100 MB session on the 20th outgrows what is left of the data
    with story("2026-03-20T23:00:00"):
        services.rate_batch(
            [usage(line.msisdn, "data", at("2026-03-20T18:00:00"), record_id="d2", volume_bytes=100 * MB)]
        )
    # Then the 31,539,200 bytes beyond it cost ceil(31539200 * 300 / 1048576) = 9024
    assert prices("d2") == [9024]
    assert remaining(line, "2026-03-20T23:00:00") == {"pack:data": 0, "voice": 0, "sms": 0, "data": 0}
    ledger_id = line.account.ledger_account_id
    assert get_balance_minor(ledger_id) == 100_000 - (250 + 300 + 250 + 9024)

    # When the period turns: the job runs just after midnight on 1 April
    with story("2026-04-01T00:05:00"):
        assert services.reset_buckets() == 3
    # Then April's allowances are whole again; March's buckets stay as they ended
    assert remaining(line, "2026-04-01T00:05:00") == {
        "pack:data": 0,
        "voice": 600,
        "sms": 5,
        "data": 100 * MB,
    }
    assert remaining(line, "2026-03-31T23:59:00") == {"pack:data": 0, "voice": 0, "sms": 0, "data": 0}

    # and April's usage draws on April's buckets
    with story("2026-04-02T20:00:00"):
        services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-04-02T10:00:00"), record_id="c6", duration_s=61,
                      counterparty=OFF_NET),
                usage(line.msisdn, "data", at("2026-04-02T11:00:00"), record_id="d3", volume_bytes=1 * MB),
            ]
        )  # fmt: skip
    assert remaining(line, "2026-04-02T20:00:00") == {
        "pack:data": 0,
        "voice": 480,
        "sms": 5,
        "data": 100 * MB - 1_126_400,
    }
    assert prices("c6", "d3") == [0, 0]
    # and the money: 9,824 charged in March, nothing in April
    assert get_balance_minor(ledger_id) == 90_176
    assert get_balance_minor(get_account_by_code("revenue:usage").pk) == 9_824
    assert verify_ledger().ok
