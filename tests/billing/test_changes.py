"""Tariff changes, service connections and the black list with their money (billing/changes.py).

Each refused change asserts that nothing changed: balance, assignments, buckets, fee rows, ledger.
"""

from __future__ import annotations

import pytest

from selfcare.billing import changes
from tests.billing.helpers import balance_of, line_with_money, monthly_tariff

pytestmark = pytest.mark.django_db


def test_tariff_change_charges_the_prorated_month(frozen_clock):
    # Given a line on a monthly tariff with 500.00 and an open tariff of 310.00 a month
    line = line_with_money(monthly_tariff(10_000), 50_000)
    new = monthly_tariff(31_000)

    # When the change is previewed on 2 March and applied
    preview = changes.preview_tariff_change(line, tariff=new)
    applied = changes.change_tariff(line, tariff=new, actor="user:1", idempotency_key="k1")

    # Then 30 of 31 days are charged: 300.00
    assert preview.allowed
    assert preview.fee_today_minor == 30_000
    assert applied.total_minor == 30_000
    assert balance_of(line) == 20_000
