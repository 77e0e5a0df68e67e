"""Fair blocking, exactly: what a period's fee paid for keeps working until the period ends; a period
whose fee is unpaid grants nothing until the fee is paid, and then its allowance appears at once.

The jobs run in the order they do in production: the bucket job just after local midnight (it opens
the new period's buckets for every line in good standing), the fee job a few minutes later (it finds
the money missing, blocks the line and withdraws what the bucket job opened), then a card top-up whose
verified notification pays the debt.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from selfcare.billing import services as billing
from selfcare.catalog.models import Allowance, FeePeriod
from selfcare.identity.models import User
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.lines import services as lines
from selfcare.payments.providers import reset_provider_cache
from selfcare.usage import queries, services
from tests.billing.helpers import fees_of, sms_templates, status_of
from tests.factories import TEST_ACTOR, fund, make_line, make_service
from tests.payments.factories import last_hook, notify, pay, start
from tests.scenarios.conftest import at
from tests.usage.factories import MB, make_bundle_tariff, usage

pytestmark = pytest.mark.django_db

OFF_NET = "+79161234567"


@pytest.fixture(autouse=True)
def fake_payments(settings: Any) -> Iterator[None]:
    settings.SELFCARE_PAYMENT_BACKEND = "fake"
    settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER = False
    settings.SELFCARE_PUBLIC_URL = "http://testserver"
    settings.SELFCARE_LOW_BALANCE_THRESHOLD_MINOR = 0
    reset_provider_cache()
    yield
    reset_provider_cache()


def buckets(line, moment: str) -> list[tuple[str, str, int, int]]:
    """(origin, kind, amount, remaining) of what the line can draw on at `moment`."""
    return [
        ("pack" if b.service_assignment_id else "tariff", b.usage_kind, b.amount, b.remaining)
        for b in queries.list_line_buckets(line.pk, at=at(moment))
    ]


def balance(line) -> int:
    return get_balance_minor(line.account.ledger_account_id)


def top_up_by_card(line, amount_minor: int, capture) -> None:
    """The subscriber pays by card; the verified notification credits and (after commit) settles."""
    user = User.objects.filter(msisdn=line.msisdn).first() or User.objects.create_user(
        username=line.msisdn, msisdn=line.msisdn, language="en"
    )
    payment = start(user, line, amount_minor=amount_minor)
    pay(payment)
    with capture(execute=True):
        assert notify(last_hook(payment)) == "credited"


def test_an_unpaid_month_grants_nothing_until_its_fee_is_paid(
    zones, story, django_capture_on_commit_callbacks
):
    # Given a bundle of 10 minutes, 5 SMS and 100 MB for 450.00 a month, paid for March
    with story("2026-03-01T09:00:00"):
        line = make_line(tariff=make_bundle_tariff(zones, voice_s=600, sms=5, data_bytes=100 * MB))
        fund(line.account.ledger_account, 45_000)
        assert billing.charge_fees().charged == 1
    # and 2 minutes of it used on the last evening of March
    with story("2026-03-31T22:00:00"):
        services.rate_batch(
            [usage(line.msisdn, "voice_out", at("2026-03-31T21:00:00"), record_id="m1", duration_s=120,
                   counterparty=OFF_NET)]
        )  # fmt: skip
    assert balance(line) == 0

    # When April starts: the bucket job opens April, then the fee job finds no money for it
    with story("2026-04-01T00:00:30"):
        assert services.reset_buckets() == 3
        assert len(buckets(line, "2026-04-01T00:00:30")) == 3
    with story("2026-04-01T00:05:00"):
        result = billing.charge_fees()

    # Then April's fee is a debt, the line is blocked for debt, and April grants nothing
    assert (result.charged, result.unpaid, result.blocked) == (0, 1, [line.pk])
    assert status_of(line) == "blocked_debt"
    assert fees_of(line) == [
        ("2026-03-01", line.tariff_id, "tariff", 45_000, "charged"),
        ("2026-04-01", line.tariff_id, "tariff", 45_000, "unpaid"),
    ]
    assert buckets(line, "2026-04-01T00:10:00") == []
    assert balance(line) == 0
    assert sms_templates(line) == ["billing.blocked_for_debt"]

    # When the network reports a call of 1 April and a late one of 31 March
    with story("2026-04-01T09:30:00"):
        assert services.reset_buckets() == 0  # the job does not open April again either
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-04-01T09:00:00"), record_id="a1", duration_s=60,
                      counterparty=OFF_NET),
                usage(line.msisdn, "voice_out", at("2026-03-31T23:00:00"), record_id="m2", duration_s=60,
                      counterparty=OFF_NET),
            ]
        )  # fmt: skip

    # Then April's call is refused (no allowance, no money), and March's, paid for, still draws on March
    assert [(r.status, r.reason, r.price_minor) for r in result.results] == [
        ("rejected", "line_blocked", 0),
        ("accepted", "", 0),
    ]
    assert buckets(line, "2026-03-31T23:30:00") == [
        ("tariff", "voice", 600, 420),
        ("tariff", "sms", 5, 5),
        ("tariff", "data", 100 * MB, 100 * MB),
    ]
    assert buckets(line, "2026-04-01T09:30:00") == []
    assert balance(line) == 0

    # When the subscriber tops up 500.00 by card at noon
    with story("2026-04-01T12:00:00"):
        top_up_by_card(line, 50_000, django_capture_on_commit_callbacks)

    # Then April's fee is charged once, the line is active, and April's allowance is there, whole
    assert fees_of(line) == [
        ("2026-03-01", line.tariff_id, "tariff", 45_000, "charged"),
        ("2026-04-01", line.tariff_id, "tariff", 45_000, "charged"),
    ]
    assert status_of(line) == "active"
    assert balance(line) == 5_000
    assert buckets(line, "2026-04-01T12:00:00") == [
        ("tariff", "voice", 600, 600),
        ("tariff", "sms", 5, 5),
        ("tariff", "data", 100 * MB, 100 * MB),
    ]
    assert sms_templates(line) == ["billing.blocked_for_debt", "billing.unblocked"]

    # and April's next call draws on it
    with story("2026-04-01T13:00:00"):
        result = services.rate_batch(
            [usage(line.msisdn, "voice_out", at("2026-04-01T12:30:00"), record_id="a2", duration_s=60,
                   counterparty=OFF_NET)]
        )  # fmt: skip
    assert [(r.status, r.price_minor) for r in result.results] == [("accepted", 0)]
    assert buckets(line, "2026-04-01T13:00:00")[0] == ("tariff", "voice", 600, 540)
    assert balance(line) == 5_000
    assert verify_ledger().ok


def test_a_paid_month_keeps_working_while_an_unpaid_daily_option_grants_nothing(
    zones, story, django_capture_on_commit_callbacks
):
    # Given a monthly bundle of 10 minutes (450.00) and a daily 50 MB option (10.00 a day), both
    # paid for 1 March, nothing left
    with story("2026-03-01T09:00:00"):
        line = make_line(tariff=make_bundle_tariff(zones, voice_s=600, sms=0, data_bytes=0))
        option = make_service(fee_minor=1_000, fee_period=FeePeriod.DAILY)
        Allowance.objects.create(service=option, usage_kind="data", amount=50 * MB)
        lines.connect_service(line, service=option, actor=TEST_ACTOR)
        fund(line.account.ledger_account, 46_000)
        assert billing.charge_fees().charged == 2
        services.grant_buckets(line)
    assert buckets(line, "2026-03-01T09:00:00") == [
        ("pack", "data", 50 * MB, 50 * MB),
        ("tariff", "voice", 600, 600),
    ]

    # When 2 March starts: the bucket job opens the day's option, the fee job cannot pay for it
    with story("2026-03-02T00:00:30"):
        assert services.reset_buckets() == 1
    with story("2026-03-02T00:05:00"):
        result = billing.charge_fees()

    # Then the line is blocked for debt; the month's minutes, paid for, are still there; the day's
    # option is not
    assert (result.unpaid, result.blocked) == (1, [line.pk])
    assert buckets(line, "2026-03-02T00:10:00") == [("tariff", "voice", 600, 600)]

    # When it calls for 2 minutes and uses 1 MB of data that day
    with story("2026-03-02T20:00:00"):
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_out", at("2026-03-02T10:00:00"), record_id="c1", duration_s=120,
                      counterparty=OFF_NET),
                usage(line.msisdn, "data", at("2026-03-02T11:00:00"), record_id="d1", volume_bytes=MB),
            ]
        )  # fmt: skip

    # Then the call is free from the month's bucket and the data, which only money could pay, refused
    assert [(r.status, r.reason, r.price_minor) for r in result.results] == [
        ("accepted", "", 0),
        ("rejected", "line_blocked", 0),
    ]
    assert buckets(line, "2026-03-02T20:00:00") == [("tariff", "voice", 600, 480)]

    # When 3 March starts with the line still blocked: neither job grants the new day
    with story("2026-03-03T00:00:30"):
        assert services.reset_buckets() == 0
    with story("2026-03-03T00:05:00"):
        result = billing.charge_fees()
    assert (result.lapsed, result.unpaid, result.blocked) == (1, 1, [])
    assert buckets(line, "2026-03-03T00:10:00") == [("tariff", "voice", 600, 480)]
    assert fees_of(line) == [
        ("2026-03-01", option.pk, "service", 1_000, "charged"),
        ("2026-03-01", line.tariff_id, "tariff", 45_000, "charged"),
        ("2026-03-02", option.pk, "service", 1_000, "lapsed"),
        ("2026-03-03", option.pk, "service", 1_000, "unpaid"),
    ]

    # When 25.00 arrives by card
    with story("2026-03-03T09:00:00"):
        top_up_by_card(line, 2_500, django_capture_on_commit_callbacks)

    # Then only 3 March's option is charged (2 March lapsed: the line had no service that day), the
    # line is active, and the day's 50 MB appears next to what is left of the month
    assert fees_of(line)[-1] == ("2026-03-03", option.pk, "service", 1_000, "charged")
    assert status_of(line) == "active"
    assert balance(line) == 1_500
    assert buckets(line, "2026-03-03T09:00:00") == [
        ("pack", "data", 50 * MB, 50 * MB),
        ("tariff", "voice", 600, 480),
    ]
    assert verify_ledger().ok
