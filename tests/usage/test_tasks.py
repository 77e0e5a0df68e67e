"""The periodic job opens each period's buckets at its start."""

from __future__ import annotations

from datetime import datetime

import pytest

from selfcare.kit import clock
from selfcare.lines import services as lines
from selfcare.usage import queries
from selfcare.usage.models import Bucket
from selfcare.usage.tasks import reset_buckets_task
from tests.factories import TEST_ACTOR, make_line
from tests.usage.factories import MB, make_bundle_tariff, make_numbering, make_payg_tariff

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_job_opens_monthly_and_daily_buckets_once_per_period():
    # Given a monthly bundle line, a daily bundle line, a pay-as-you-go line and a terminated line
    with clock.frozen(at("2026-03-15T12:00:00+03:00")):
        zones = make_numbering()
        monthly = make_line(tariff=make_bundle_tariff(zones, voice_s=600, sms=0, data_bytes=0))
        daily = make_line(
            tariff=make_bundle_tariff(zones, voice_s=0, sms=0, data_bytes=MB, fee_period="daily")
        )
        make_line(tariff=make_payg_tariff(zones))
        gone = make_line(tariff=make_bundle_tariff(zones, voice_s=60, sms=0, data_bytes=0))
        lines.set_line_status(gone, status="terminated", actor=TEST_ACTOR)

    # When the job runs just after midnight on 1 April, and again a quarter of an hour later
    with clock.frozen(at("2026-04-01T00:01:00+03:00")):
        first = reset_buckets_task.call_local()
    with clock.frozen(at("2026-04-01T00:16:00+03:00")):
        second = reset_buckets_task.call_local()

    # Then the first run opens April for the monthly line and 1 April for the daily one; the second
    # finds them open
    assert (first, second) == (2, 0)
    assert [(b.usage_kind, b.amount, b.period_start, b.period_end) for b in queries.list_line_buckets(
        monthly.pk, at=at("2026-04-01T00:16:00+03:00"))] == [
        ("voice", 600, at("2026-04-01T00:00:00+03:00"), at("2026-05-01T00:00:00+03:00"))
    ]  # fmt: skip
    assert [(b.usage_kind, b.period_start, b.period_end) for b in queries.list_line_buckets(
        daily.pk, at=at("2026-04-01T00:16:00+03:00"))] == [
        ("data", at("2026-04-01T00:00:00+03:00"), at("2026-04-02T00:00:00+03:00"))
    ]  # fmt: skip
    assert Bucket.objects.filter(line=gone).count() == 0


def test_a_line_s_buckets_are_read_in_one_query(django_assert_num_queries):
    with clock.frozen(at("2026-03-15T12:00:00+03:00")):
        zones = make_numbering()
        line = make_line(tariff=make_bundle_tariff(zones))
        reset_buckets_task.call_local()
        with django_assert_num_queries(1):
            buckets = queries.list_line_buckets(line.pk)
            names = [(b.usage_kind, b.allowance.amount, b.tariff.code) for b in buckets]
    assert [kind for kind, _, _ in names] == ["voice", "sms", "data"]
