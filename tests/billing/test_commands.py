"""`selfcare billing` in-process: the same services behind the periodic jobs."""

from __future__ import annotations

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from selfcare.kit import clock
from selfcare.lines import services as lines
from tests.billing.helpers import (
    TEST_ACTOR,
    balance_of,
    daily_tariff,
    fees_of,
    line_with_money,
    service_with_fee,
    status_of,
    top_up,
)

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+03:00")


def test_charge_fees_for_a_given_day_then_settle_every_account(frozen_clock):
    # Given a line with money and one without
    paying = line_with_money(daily_tariff(1_000), 3_000)
    broke = line_with_money(daily_tariff(1_000), 0)

    # When fees are charged for 2 March from the command line
    out = StringIO()
    call_command("billing", "charge-fees", "--date", "2026-03-02", stdout=out)

    # Then one is charged and one blocked
    assert out.getvalue().splitlines()[-1] == (
        "billing charge-fees: 2 lines, 1 fees charged (1000 minor units), 1 unpaid, 0 lapsed, 1 blocked, "
        "0 unblocked"
    )
    assert fees_of(paying) == [("2026-03-02", paying.tariff_id, "tariff", 1_000, "charged")]
    assert status_of(broke) == "blocked_debt"

    # When the blocked line's account is topped up and every account is settled
    top_up(broke.account, 1_000)
    out = StringIO()
    call_command("billing", "settle", stdout=out)

    # Then its debt is paid and it is unblocked
    assert "1 fees charged" in out.getvalue()
    assert (balance_of(broke), status_of(broke)) == (0, "active")


def test_charge_fees_for_a_past_date_bills_the_products_in_force_that_day(frozen_clock):
    # Given a line on a daily 10.00 tariff with 100.00 and a daily 5.00 service from 2 March; the
    # service is disconnected on 4 March at 10:00 and the tariff changed to a daily 30.00 one on
    # 5 March at 12:00 (no fee job ran meanwhile)
    first, second = daily_tariff(1_000), daily_tariff(3_000)
    line = line_with_money(first, 10_000)
    option = service_with_fee(500)
    lines.connect_service(line, service=option, actor=TEST_ACTOR)
    with clock.frozen(at("2026-03-04T10:00:00")):
        lines.disconnect_service(line, service=option, actor=TEST_ACTOR)
    with clock.frozen(at("2026-03-05T12:00:00")):
        lines.assign_tariff(line, tariff=second, actor=TEST_ACTOR)

    # When, on 6 March, fees are charged by hand for 3, 4 and 5 March
    with clock.frozen(at("2026-03-06T09:00:00")):
        for day in ("2026-03-03", "2026-03-04", "2026-03-05"):
            call_command("billing", "charge-fees", "--date", day, stdout=StringIO())

    # Then each day pays what was on that day: the first tariff on the 3rd and 4th and, until its
    # change on the 5th, also that day; the service until the 4th; the second tariff from the 5th
    assert fees_of(line) == [
        ("2026-03-03", option.pk, "service", 500, "charged"),
        ("2026-03-03", first.pk, "tariff", 1_000, "charged"),
        ("2026-03-04", option.pk, "service", 500, "charged"),
        ("2026-03-04", first.pk, "tariff", 1_000, "charged"),
        ("2026-03-05", first.pk, "tariff", 1_000, "charged"),
        ("2026-03-05", second.pk, "tariff", 3_000, "charged"),
    ]
    assert balance_of(line) == 10_000 - 7_000
