"""The fee job and debt settlement run concurrently with themselves (DESIGN.md §5.3).

Real threads with their own connections against committed data (transaction=True): on PostgreSQL the
ledger account row locks serialise two runs of the same chunk; on SQLite the IMMEDIATE write
transaction does. Either way each line, product and period is charged once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from selfcare.billing import services
from selfcare.billing.models import FeeCharge
from selfcare.catalog.models import FeePeriod
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import verify_ledger
from selfcare.lines import services as lines_services
from selfcare.notifications.models import OutboundSms
from tests.billing.helpers import (
    balance_of,
    daily_tariff,
    line_with_money,
    service_with_fee,
    status_of,
    top_up,
)
from tests.concurrency import run_in_threads
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_fee_runs_at_once_charge_each_line_once(frozen_clock):
    # Given 10 lines with a daily tariff of 10.00 and a daily service of 2.00, and 3 lines without money
    service = service_with_fee(200, FeePeriod.DAILY)
    paying = [line_with_money(daily_tariff(1_000), 5_000) for _ in range(10)]
    for line in paying:
        lines_services.connect_service(line, service=service, actor=TEST_ACTOR)
    broke = [line_with_money(daily_tariff(1_000), 0) for _ in range(3)]

    # When two runs of the job start at the same moment, in chunks of 4 lines
    results = run_in_threads(2, lambda _i: services.charge_fees(actor=TEST_ACTOR, chunk_size=4))

    # Then every fee was charged by exactly one of them, once
    assert sum(result.charged for result in results) == 20
    assert sum(len(result.blocked) for result in results) == 3
    assert Counter(FeeCharge.objects.filter(status="charged").values_list("line_id", flat=True)) == {
        line.pk: 2 for line in paying
    }
    assert Transaction.objects.filter(kind__in=["tariff_fee", "service_fee"]).count() == 20
    assert [balance_of(line) for line in paying] == [3_800] * 10
    assert [status_of(line) for line in broke] == ["blocked_debt"] * 3
    assert OutboundSms.objects.filter(template="billing.blocked_for_debt").count() == 3
    assert verify_ledger().ok


def test_settling_an_account_in_many_threads_at_once_pays_the_debt_once(frozen_clock):
    # Given a line blocked for a debt of 10.00 that has just been topped up with 15.00
    line = line_with_money(daily_tariff(1_000), 0)
    services.charge_fees(actor=TEST_ACTOR)
    top_up(line.account, 1_500)

    # When 6 threads settle its account while 2 run the fee job
    def work(index: int) -> Any:
        if index < 2:
            return services.charge_fees(actor=TEST_ACTOR)
        return services.settle_debts(line.account_id, actor=TEST_ACTOR)

    results = run_in_threads(8, work)

    # Then the debt was paid once and the line unblocked once
    assert sum(result.charged for result in results) == 1
    assert sum(len(result.unblocked) for result in results) == 1
    assert balance_of(line) == 500
    assert status_of(line) == "active"
    assert OutboundSms.objects.filter(msisdn=line.msisdn, template="billing.unblocked").count() == 1
    assert verify_ledger().ok
