"""rate_batch: results per record, buckets, charges in the ledger, duplicates, refusals, atomicity."""

from __future__ import annotations

from datetime import datetime

import pytest

from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import get_account_by_code, get_balance_minor, verify_ledger
from selfcare.lines import services as lines
from selfcare.usage import services
from selfcare.usage.models import Bucket, BucketConsumption, UsageBatch, UsageRecord
from selfcare.usage.services import RecordResult
from tests.factories import TEST_ACTOR, fund, make_line
from tests.usage.factories import make_bundle_tariff, make_numbering, make_pack, make_payg_tariff, usage

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-03-02T08:00:00+03:00")


@pytest.fixture
def zones():
    return make_numbering()


def ledger_balance(line) -> int:
    return get_balance_minor(line.account.ledger_account_id)


def test_payg_call_is_priced_per_second_and_charged_to_the_account(frozen_clock, zones):
    # Given a pay-as-you-go line with 100.00 on the balance
    line = make_line(tariff=make_payg_tariff(zones), msisdn="+79001000001")
    fund(line.account.ledger_account, 10_000)

    # When a 61-second call to another mobile network is rated (250 per minute)
    result = services.rate_batch(
        [usage(line.msisdn, "voice_out", T0, record_id="c1", duration_s=61, counterparty="+79161234567")]
    )

    # Then it is accepted at ceil(61 * 250 / 60) = 255
    assert result.results == [RecordResult("accepted", "", 255)]
    assert ledger_balance(line) == 10_000 - 255
    record = UsageRecord.objects.get(source="test", source_record_id="c1")
    assert (
        record.status,
        record.usage_class,
        record.charged_units,
        record.priced_units,
        record.price_minor,
    ) == (
        "accepted",
        "off_net",
        61,
        61,
        255,
    )
    # and the charge is one ledger transaction linked from the record, to the usage revenue account
    txn = Transaction.objects.get(pk=record.transaction_id)
    assert (txn.kind, txn.cause_type, txn.cause_id) == ("usage", "usage_batch", str(result.batch_id))
    assert get_balance_minor(get_account_by_code("revenue:usage").pk) == 255
    assert verify_ledger().ok


def test_bundle_minutes_are_drawn_before_anything_is_priced(frozen_clock, zones):
    # Given a bundle line with 2 minutes a month and no money
    tariff = make_bundle_tariff(zones, voice_s=120)
    line = make_line(tariff=tariff, msisdn="+79001000002")

    # When a 61 s call (rounded to 2 minutes) is rated
    result = services.rate_batch(
        [usage(line.msisdn, "voice_out", T0, record_id="c1", duration_s=61, counterparty="+74951234567")]
    )

    # Then it used the whole allowance and cost nothing
    assert result.results == [RecordResult("accepted", "", 0)]
    bucket = Bucket.objects.get(line=line, usage_kind="voice")
    assert (bucket.amount, bucket.remaining) == (120, 0)
    assert bucket.period_start == datetime.fromisoformat("2026-03-01T00:00:00+03:00")
    assert bucket.period_end == datetime.fromisoformat("2026-04-01T00:00:00+03:00")
    record = UsageRecord.objects.get(source_record_id="c1")
    assert (record.bucket_id, record.bucket_units, record.price_minor, record.transaction_id) == (
        bucket.pk,
        120,
        0,
        None,
    )


def test_a_record_spanning_two_buckets_keeps_a_consumption_row_for_the_second(frozen_clock, zones):
    # Given a bundle line with 60 s of tariff minutes and a 60 s minutes pack, and money
    tariff = make_bundle_tariff(zones, voice_s=60)
    line = make_line(tariff=tariff, msisdn="+79001000003")
    fund(line.account.ledger_account, 10_000)
    pack = make_pack(kind="voice_pack", usage_kind="voice", amount=60)
    lines.connect_service(line, service=pack, actor=TEST_ACTOR)

    # When a 150 s call (3 started minutes) to a landline is rated, made after the pack was connected
    result = services.rate_batch(
        [
            usage(
                line.msisdn,
                "voice_out",
                frozen_clock.now(),
                record_id="c1",
                duration_s=150,
                counterparty="+74951234567",
            )
        ]
    )

    # Then the pack goes first, then the tariff minutes, and the last minute is priced at 300
    assert result.results == [RecordResult("accepted", "", 300)]
    record = UsageRecord.objects.get(source_record_id="c1")
    pack_bucket = Bucket.objects.get(line=line, service_assignment__isnull=False)
    tariff_bucket = Bucket.objects.get(line=line, tariff__isnull=False, usage_kind="voice")
    assert (record.bucket_id, record.bucket_units, record.priced_units, record.charged_units) == (
        pack_bucket.pk,
        60,
        60,
        180,
    )
    assert list(BucketConsumption.objects.filter(record=record).values_list("bucket_id", "units")) == [
        (tariff_bucket.pk, 60)
    ]
    assert (pack_bucket.remaining, tariff_bucket.remaining) == (0, 0)
    assert ledger_balance(line) == 9_700


def test_resending_a_batch_charges_nothing_twice(frozen_clock, zones):
    # Given a rated batch
    line = make_line(tariff=make_payg_tariff(zones), msisdn="+79001000004")
    fund(line.account.ledger_account, 10_000)
    batch = [
        usage(line.msisdn, "voice_out", T0, record_id="c1", duration_s=60, counterparty="+79161234567"),
        usage(line.msisdn, "sms_out", T0, record_id="s1", counterparty="+79161234567"),
    ]
    first = services.rate_batch(batch)
    transactions = Transaction.objects.count()

    # When the same batch comes again, with one record twice
    second = services.rate_batch([*batch, batch[0]])

    # Then everything is a duplicate and no money moves
    assert [r.status for r in first.results] == ["accepted", "accepted"]
    assert [r.status for r in second.results] == ["duplicate", "duplicate", "duplicate"]
    assert ledger_balance(line) == 10_000 - 250 - 250
    assert Transaction.objects.count() == transactions
    assert UsageRecord.objects.count() == 2
    assert UsageBatch.objects.get(pk=second.batch_id).duplicates == 3


def test_insufficient_funds_refuses_only_the_records_beyond_the_overdraft(frozen_clock, zones, settings):
    # Given a pay-as-you-go line with 1.00 and the default usage overdraft of 100.00
    line = make_line(tariff=make_payg_tariff(zones), msisdn="+79001000005")
    fund(line.account.ledger_account, 100)

    # When calls worth 30.00 each are rated: 100 + 10_000 of room fits three, and the fourth not
    calls = [
        usage(
            line.msisdn,
            "voice_out",
            T0.replace(minute=m),
            record_id=f"c{m}",
            duration_s=600,
            counterparty="+74951234567",
        )
        for m in range(5)
    ]
    result = services.rate_batch(calls)

    # Then the first three are charged and the rest refused, and the balance is exactly at 100 - 9000
    assert [(r.status, r.reason) for r in result.results] == [
        ("accepted", ""),
        ("accepted", ""),
        ("accepted", ""),
        ("rejected", "insufficient_funds"),
        ("rejected", "insufficient_funds"),
    ]
    assert ledger_balance(line) == 100 - 9_000
    assert UsageRecord.objects.filter(status="refused", refusal_reason="insufficient_funds").count() == 2
    assert verify_ledger().ok


def test_invalid_and_unknown_records_are_rejected_and_not_stored(frozen_clock, zones):
    # Given one line
    line = make_line(tariff=make_payg_tariff(zones), msisdn="+79001000006")

    # When a batch mixes good and bad records
    result = services.rate_batch(
        [
            usage(line.msisdn, "voice_in", T0, record_id="ok", duration_s=10, counterparty="+79161234567"),
            usage("+79009999999", "voice_in", T0, record_id="nobody", duration_s=10),
            usage(line.msisdn, "fax", T0, record_id="fax"),
            usage(line.msisdn, "voice_out", T0, record_id="neg", duration_s=-1, counterparty="+79161234567"),
            usage(line.msisdn, "voice_out", T0, record_id="where", duration_s=5, counterparty="+5551234"),
            usage(line.msisdn, "data", T0, record_id="mars", volume_bytes=5, roaming_zone="roam-mars"),
            {
                "source": "test",
                "record_id": "naive",
                "kind": "sms_in",
                "msisdn": line.msisdn,
                "started_at": "2026-03-02T08:00:00",
            },
        ]
    )

    # Then each carries its reason and only the good one is stored
    assert [(r.status, r.reason) for r in result.results] == [
        ("accepted", ""),
        ("rejected", "unknown_line"),
        ("rejected", "invalid_kind"),
        ("rejected", "invalid_quantity"),
        ("rejected", "unknown_destination"),
        ("rejected", "unknown_roaming_zone"),
        ("rejected", "invalid_started_at"),
    ]
    assert list(UsageRecord.objects.values_list("source_record_id", flat=True)) == ["ok"]
    assert (result.accepted, result.duplicates, result.rejected, result.refused) == (1, 0, 6, 0)
