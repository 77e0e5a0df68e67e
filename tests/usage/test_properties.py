"""Property: however a stream of records is cut into batches, shuffled inside each batch, duplicated
and re-delivered, the final buckets, rated records and balances are the same, and the ledger verifies.

Each example runs the stream twice inside savepoints that are rolled back: once as one batch (the
reference) and once as the generated deliveries; the two outcomes are compared by natural keys.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfcare.kit import clock
from selfcare.ledger.models import LedgerAccount
from selfcare.ledger.queries import verify_ledger
from selfcare.lines import services as lines
from selfcare.usage import services
from selfcare.usage.models import Bucket, BucketConsumption, UsageRecord
from tests.factories import TEST_ACTOR, fund, make_line
from tests.usage.factories import MB, make_bundle_tariff, make_numbering, make_pack, make_payg_tariff, usage

pytestmark = pytest.mark.django_db

START = datetime.fromisoformat("2026-03-30T12:00:00+03:00")  # the stream crosses a month boundary
DESTINATIONS = ["+79161234567", "+74951234567", "+79007654321", "+493012345678"]
KINDS = ["voice_out", "voice_in", "sms_out", "sms_in", "data"]


@pytest.fixture
def world():
    # Small allowances and little money, so that buckets run out, packs are drawn first and
    # some records meet the overdraft.
    with clock.frozen(START - timedelta(days=2)):
        zones = make_numbering()
        bundle = make_bundle_tariff(zones, voice_s=300, sms=2, data_bytes=2 * MB, voice_rounding="per_second")
        daily = make_bundle_tariff(zones, voice_s=120, sms=1, data_bytes=1 * MB, fee_period="daily")
        payg = make_payg_tariff(zones, voice_rounding="per_minute")
        numbers = ["+79001000101", "+79001000102", "+79001000103"]
        made = [
            make_line(tariff=bundle, msisdn=numbers[0]),
            make_line(tariff=daily, msisdn=numbers[1]),
            make_line(tariff=payg, msisdn=numbers[2]),
        ]
        for line, money in zip(made, (2_000, 500, 1_500), strict=True):
            fund(line.account.ledger_account, money)
        line_with_pack = made[0]
        lines.connect_service(
            line_with_pack, service=make_pack(usage_kind="data", amount=1 * MB), actor=TEST_ACTOR
        )
    return numbers


record_shapes = st.lists(
    st.tuples(
        st.integers(0, 2),  # line
        st.sampled_from(KINDS),
        st.integers(1, 6 * 3600),  # seconds after the previous record (strictly later)
        st.integers(0, 400),  # duration
        st.integers(0, 900_000),  # volume
        st.sampled_from(DESTINATIONS),
    ),
    min_size=1,
    max_size=18,
)


def build_stream(numbers: list[str], shapes) -> list:
    moment = START
    stream = []
    for index, (line, kind, gap, duration, volume, destination) in enumerate(shapes):
        moment += timedelta(seconds=gap)
        fields: dict[str, object] = {}
        if kind.startswith("voice"):
            fields["duration_s"] = duration
        if kind == "data":
            fields["volume_bytes"] = volume
        else:
            fields["counterparty"] = destination
        stream.append(usage(numbers[line], kind, moment, record_id=f"p{index}", source="prop", **fields))
    return stream


def outcome() -> dict[str, object]:
    bucket_key = {
        b.pk: (b.line.msisdn, b.allowance_id, b.period_start.isoformat())
        for b in Bucket.objects.select_related("line")
    }
    buckets = sorted((*bucket_key[b.pk], b.amount, b.remaining) for b in Bucket.objects.all())
    extra = {}
    for consumption in BucketConsumption.objects.select_related("record"):
        extra.setdefault(consumption.record.source_record_id, []).append(
            (bucket_key[consumption.bucket_id], consumption.units)
        )
    records = sorted(
        (
            r.source_record_id,
            r.status,
            r.refusal_reason,
            r.usage_class,
            r.charged_units,
            bucket_key.get(r.bucket_id),
            r.bucket_units,
            tuple(sorted(extra.get(r.source_record_id, []))),
            r.priced_units,
            r.price_minor,
        )
        for r in UsageRecord.objects.all()
    )
    balances = sorted(LedgerAccount.objects.values_list("code", "balance_minor"))
    return {"buckets": buckets, "records": records, "balances": balances}


def run(deliveries: list[list]) -> tuple[dict[str, object], bool]:
    with transaction.atomic():
        with clock.frozen(START + timedelta(days=7)):
            for batch in deliveries:
                services.rate_batch(batch, actor="prop")
        result = outcome()
        ok = verify_ledger().ok
        transaction.set_rollback(True)
    return result, ok


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shapes=record_shapes, data=st.data())
def test_any_split_order_and_redelivery_gives_the_same_result(world, shapes, data):
    # Given a stream of records in time order
    stream = build_stream(world, shapes)
    # and a delivery of it: consecutive batches, each shuffled, with copies and re-deliveries
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(1, len(stream) - 1)), max_size=4))))
    batches = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True) if stream[a:b]]
    deliveries = []
    delivered: list = []
    for batch in batches:
        copies = data.draw(st.lists(st.sampled_from(batch), max_size=3))
        resent = data.draw(st.lists(st.sampled_from(delivered), max_size=3)) if delivered else []
        shuffled = batch + copies + resent
        data.draw(st.randoms(use_true_random=False)).shuffle(shuffled)
        deliveries.append(shuffled)
        delivered.extend(batch)
    deliveries.append(list(reversed(stream)))  # and finally everything once more

    # When the stream is rated as one batch, and as those deliveries
    reference, reference_ok = run([stream])
    delivered_outcome, delivered_ok = run(deliveries)

    # Then buckets, records and balances are identical, and the ledger verifies both times
    assert delivered_outcome == reference
    assert reference_ok
    assert delivered_ok
    # and every record of the stream was stored once (all lines and destinations are known)
    assert len(reference["records"]) == len(stream)
