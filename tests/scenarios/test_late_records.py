"""Late records: a call delivered after the subscriber changed tariff is rated by the tariff it was
made under — its price and its allowance — not by today's tariff."""

from __future__ import annotations

import pytest

from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.lines import services as lines
from selfcare.usage import services
from selfcare.usage.models import Bucket, UsageRecord
from tests.factories import TEST_ACTOR, fund, make_line
from tests.scenarios.conftest import at
from tests.usage.factories import make_bundle_tariff, make_payg_tariff, usage

pytestmark = pytest.mark.django_db

OFF_NET = "+79161234567"


def test_a_late_call_is_rated_by_the_tariff_it_was_made_under(zones, story):
    # Given a line on a 10-minute bundle that moves to pay-as-you-go (250 a minute off-net) on the 10th
    with story("2026-03-01T09:00:00"):
        bundle = make_bundle_tariff(zones, voice_s=600, sms=0, data_bytes=0)
        payg = make_payg_tariff(zones)
        line = make_line(tariff=bundle, msisdn="+79001113344")
        fund(line.account.ledger_account, 100_000)
    with story("2026-03-10T12:00:00"):
        lines.assign_tariff(line, tariff=payg, actor=TEST_ACTOR)

    # When, on the 11th, the network delivers together a 3-minute call of the 5th (under the bundle)
    # and a 1-minute call of the 11th (under pay-as-you-go)
    with story("2026-03-11T10:00:00"):
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-05T09:00:00"), record_id="late", duration_s=180,
                      counterparty=OFF_NET),
                usage(line.msisdn, "voice_out", at("2026-03-11T09:00:00"), record_id="now", duration_s=60,
                      counterparty=OFF_NET),
            ]
        )  # fmt: skip

    # Then the call of the 5th draws 3 minutes from the bundle of March and costs nothing, and the
    # call of the 11th is priced per second by pay-as-you-go (60 s at 250 a minute)
    assert [r.status for r in result.results] == ["accepted", "accepted"]
    assert [r.price_minor for r in result.results] == [0, 250]
    late = UsageRecord.objects.get(source_record_id="late")
    bucket = Bucket.objects.get(pk=late.bucket_id)
    assert (bucket.tariff_id, bucket.amount, bucket.remaining) == (bundle.pk, 600, 420)
    assert (late.bucket_units, late.priced_units) == (180, 0)
    now = UsageRecord.objects.get(source_record_id="now")
    assert (now.bucket_id, now.priced_units, now.price_minor) == (None, 60, 250)
    # And no pay-as-you-go bucket exists (it has no allowance), the balance lost only the 2.50
    assert not Bucket.objects.filter(tariff=payg).exists()
    assert get_balance_minor(line.account.ledger_account_id) == 100_000 - 250
    assert verify_ledger().ok
