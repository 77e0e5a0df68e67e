"""A pay-as-you-go subscriber: per-second calls, SMS, data by 100 KB, incoming free, and the usage
overdraft as the limit of what is charged."""

from __future__ import annotations

import pytest

from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.usage import services
from selfcare.usage.models import Bucket, UsageRecord
from tests.factories import fund, make_line
from tests.scenarios.conftest import at
from tests.usage.factories import make_payg_tariff, usage

pytestmark = pytest.mark.django_db


def test_pay_as_you_go(zones, story):
    # Given a pay-as-you-go line (per-second voice) with 50.00
    with story("2026-03-01T09:00:00"):
        line = make_line(tariff=make_payg_tariff(zones), msisdn="+79002223344")
        fund(line.account.ledger_account, 5_000)

    # When a day of usage is rated
    with story("2026-03-05T23:00:00"):
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-05T09:00:00"), record_id="c1", duration_s=61,
                      counterparty="+79161234567"),
                usage(line.msisdn, "voice_out", at("2026-03-05T10:00:00"), record_id="c2", duration_s=59,
                      counterparty="+74951234567"),
                usage(line.msisdn, "voice_out", at("2026-03-05T11:00:00"), record_id="c3", duration_s=10,
                      counterparty="+79007654321"),
                usage(line.msisdn, "voice_out", at("2026-03-05T12:00:00"), record_id="c4", duration_s=30,
                      counterparty="+493012345678"),
                usage(line.msisdn, "voice_in", at("2026-03-05T13:00:00"), record_id="c5", duration_s=300,
                      counterparty="+79161234567"),
                usage(line.msisdn, "sms_out", at("2026-03-05T14:00:00"), record_id="s1",
                      counterparty="+79161234567"),
                usage(line.msisdn, "sms_in", at("2026-03-05T14:01:00"), record_id="s2",
                      counterparty="+79161234567"),
                usage(line.msisdn, "data", at("2026-03-05T15:00:00"), record_id="d1", volume_bytes=1),
                usage(line.msisdn, "data", at("2026-03-05T16:00:00"), record_id="d2", volume_bytes=0),
            ]
        )  # fmt: skip

    # Then each record is priced by its class, per second, rounded up to the kopeck:
    # 61 s off-net at 250/min = 255; 59 s landline at 300 = 295; 10 s on-net at 150 = 25;
    # 30 s to Germany at 3500 = 1750; incoming free; SMS 250; 1 byte = one 100 KB block = 30
    assert [r.price_minor for r in result.results] == [255, 295, 25, 1750, 0, 250, 0, 30, 0]
    classes = dict(UsageRecord.objects.values_list("source_record_id", "usage_class"))
    assert classes == {
        "c1": "off_net", "c2": "landline", "c3": "on_net", "c4": "international", "c5": "off_net",
        "s1": "off_net", "s2": "off_net", "d1": "home", "d2": "home",
    }  # fmt: skip
    assert UsageRecord.objects.get(source_record_id="c4").zone.code == "intl-europe"
    assert get_balance_minor(line.account.ledger_account_id) == 5_000 - 2_605
    assert Bucket.objects.count() == 0

    # When a 10-minute call abroad (35,000) would go beyond the 100.00 usage overdraft, and then a
    # 200 s one (11,667) would not
    with story("2026-03-06T23:00:00"):
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-06T09:00:00"), record_id="c6", duration_s=600,
                      counterparty="+493012345678"),
                usage(line.msisdn, "voice_out", at("2026-03-06T10:00:00"), record_id="c7", duration_s=200,
                      counterparty="+493012345678"),
            ]
        )  # fmt: skip

    # Then the first is refused and kept as refused, the second is charged into the overdraft
    assert [(r.status, r.reason, r.price_minor) for r in result.results] == [
        ("rejected", "insufficient_funds", 0),
        ("accepted", "", 11_667),
    ]
    assert UsageRecord.objects.get(source_record_id="c6").status == "refused"
    assert get_balance_minor(line.account.ledger_account_id) == 2_395 - 11_667
    assert verify_ledger().ok
