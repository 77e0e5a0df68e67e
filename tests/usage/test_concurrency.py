"""Concurrent resends: real threads, each with its own connection, pushing overlapping batches at the
same moment. Every record is stored and charged exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from selfcare.kit import clock
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.usage import services
from selfcare.usage.models import UsageRecord
from tests.concurrency import run_in_threads
from tests.factories import fund, make_line
from tests.usage.factories import make_numbering, make_payg_tariff, usage

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
T0 = datetime.fromisoformat("2026-03-02T08:00:00+03:00")


def test_simultaneous_resends_charge_each_record_once():
    # Given two pay-as-you-go lines with money, and 20 one-minute off-net calls (250 each)
    with clock.frozen(T0 + timedelta(hours=1)):
        zones = make_numbering()
        tariff = make_payg_tariff(zones)
        first = make_line(tariff=tariff, msisdn="+79001230001")
        second = make_line(tariff=tariff, msisdn="+79001230002")
        for line in (first, second):
            fund(line.account.ledger_account, 100_000)
    calls = [
        usage(line.msisdn, "voice_out", T0 + timedelta(minutes=i), record_id=f"c{i}", duration_s=60,
              counterparty="+79161234567")
        for i, line in enumerate([first, second] * 10)
    ]  # fmt: skip

    # When six systems push overlapping parts of them at the same moment
    def work(index: int) -> list[str]:
        with clock.frozen(T0 + timedelta(hours=1)):
            part = calls[index * 2 :] + calls[: index * 2]
            return [r.status for r in services.rate_batch(part[: 12 + index], actor=f"msc-{index}").results]

    results = run_in_threads(THREADS, work, exceptions_as_results=True)

    # Then no batch failed, every call was accepted exactly once, and each line paid 10 x 250
    assert all(isinstance(result, list) for result in results), results
    assert sum(statuses.count("accepted") for statuses in results) == 20
    assert UsageRecord.objects.count() == 20
    assert get_balance_minor(first.account.ledger_account_id) == 100_000 - 2_500
    assert get_balance_minor(second.account.ledger_account_id) == 100_000 - 2_500
    assert verify_ledger().ok
