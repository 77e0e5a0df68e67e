"""`selfcare billing` in-process: the same services behind the periodic jobs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.billing.helpers import balance_of, daily_tariff, fees_of, line_with_money, status_of, top_up

pytestmark = pytest.mark.django_db


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
