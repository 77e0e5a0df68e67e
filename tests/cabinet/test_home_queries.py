"""The home page stays within 10 SQL queries however long the line's history is (issue 6 acceptance):
a line with 90 days of fees, top-ups and usage, and a line with 50,000 usage records.

Both lines are in the costliest state for the page: the Black list is on (its numbers are read) and
the balance is below the promised-payment threshold (the offer's own reads run). The count includes
the session, the user and the session-policy reads of the middleware.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from selfcare.billing import changes
from selfcare.billing import services as billing
from selfcare.catalog.models import FeePeriod, Tariff
from selfcare.kit import clock
from selfcare.ledger.queries import get_balance_minor
from selfcare.usage import bulk
from selfcare.usage.models import UsageBatch, UsageRecord
from tests.cabinet.conftest import signed_in
from tests.cabinet.factories import make_black_list_service, make_subscriber, rate, usage
from tests.factories import fund
from tests.usage.factories import make_bundle_tariff

pytestmark = pytest.mark.django_db

MAX_HOME_QUERIES = 10
START = datetime.fromisoformat("2026-03-02T09:00:00+03:00")


def _black_list_on(line: Any) -> None:
    make_black_list_service()
    changes.add_black_list_number(
        line, number="+7 916 555-00-01", note="spam", actor="test", idempotency_key="bl-1"
    )


def _assert_home_within_budget(user: Any, line: Any, django_assert_max_num_queries: Any) -> str:
    web = signed_in(user)
    # The first request of a session records it (identity's session policy); count a later one.
    assert web.get("/home/").status_code == 200
    with django_assert_max_num_queries(MAX_HOME_QUERIES):
        page = web.get("/home/")
    with django_assert_max_num_queries(MAX_HOME_QUERIES):
        live = web.get("/home/", HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert live.status_code == 200
    return page.content.decode()


def test_home_of_a_line_with_90_days_of_history(zones, django_assert_max_num_queries):
    # Given a line on a daily tariff (25.00 a day, 60 minutes included), 90 days old: every day its fee
    # and a call, an SMS and a data session rated through the engine; a top-up every tenth day
    first_day = START - timedelta(days=90)
    tariff = make_bundle_tariff(zones, fee_period=FeePeriod.DAILY, voice_s=60 * 60, sms=0, data_bytes=0)
    Tariff.objects.filter(pk=tariff.pk).update(fee_minor=2_500)
    tariff.refresh_from_db()
    with clock.frozen(first_day):
        user, line = make_subscriber(zones, tariff=tariff, balance_minor=0, charge_fees=False)
    for day in range(90):
        moment = first_day + timedelta(days=day)
        with clock.frozen(moment):
            if day % 10 == 0:
                fund(line.account.ledger_account, 43_000)
            billing.charge_fees(on=clock.local_today(settings.TIME_ZONE))
        with clock.frozen(moment + timedelta(hours=4)):
            rate(
                usage(
                    line.msisdn,
                    "voice_out",
                    moment + timedelta(hours=1),
                    counterparty="+79161234567",
                    duration_s=600,
                ),
                usage(line.msisdn, "sms_out", moment + timedelta(hours=2), counterparty="+79161234567"),
                usage(line.msisdn, "data", moment + timedelta(hours=3), volume_bytes=5 * 1_048_576),
            )
    with clock.frozen(START):
        _black_list_on(line)
        balance = get_balance_minor(line.account.ledger_account_id)
        # Then the home page, full and its live part, runs at most 10 queries
        page = _assert_home_within_budget(user, line, django_assert_max_num_queries)
    assert 0 < balance < 30_000  # below the promised-payment threshold: the offer's reads ran
    assert 'data-testid="black-list"' in page
    assert UsageRecord.objects.filter(line=line).count() == 270


def test_home_of_a_line_with_50000_usage_records(zones, django_assert_max_num_queries, frozen_clock):
    # Given a line with 50,000 usage records this month, written with the engine's bulk writer (COPY on
    # PostgreSQL), and one charged call
    user, line = make_subscriber(zones, balance_minor=50_000)
    now = clock.now()
    rate(
        usage(
            line.msisdn, "voice_out", now - timedelta(minutes=5), counterparty="+442079460000", duration_s=60
        )
    )
    batch = UsageBatch.objects.create(received_at=now, actor="test", records_total=50_000, accepted=50_000)
    stored = (lambda moment: moment) if bulk.is_postgres() else bulk.sqlite_datetime
    rows = []
    for i in range(50_000):
        kind = ("voice_out", "sms_out", "data", "voice_in")[i % 4]
        values = {
            "source": "bulk",
            "source_record_id": str(i),
            "batch_id": batch.pk,
            "line_id": line.pk,
            "kind": kind,
            "started_at": stored(now - timedelta(seconds=30 * (i + 1))),
            "duration_s": 60 if kind.startswith("voice") else 0,
            "volume_bytes": 1_048_576 if kind == "data" else 0,
            "counterparty": "" if kind == "data" else f"+7916{i:07d}",
            "roaming_zone_id": None,
            "cell": "",
            "status": "accepted",
            "refusal_reason": "",
            "usage_class": "home" if kind == "data" else "off_net",
            "zone_id": None,
            "charged_units": 60,
            "bucket_id": None,
            "bucket_units": 0,
            "priced_units": 0,
            "price_minor": 0,
            "transaction_id": None,
            "rated_at": stored(now),
        }
        rows.append(tuple(values[column] for column in bulk.RECORD_COLUMNS))
    bulk.write_records(rows)
    _black_list_on(line)

    # Then the home page runs at most 10 queries
    page = _assert_home_within_budget(user, line, django_assert_max_num_queries)
    assert UsageRecord.objects.filter(line=line).count() == 50_001
    assert 'data-testid="black-list"' in page
