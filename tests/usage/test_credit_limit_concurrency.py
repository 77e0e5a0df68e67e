"""Two employees' lines on one company's postpaid account, rated from several threads at once: the
account never goes below minus its credit limit (issue 8, acceptance; SQLite and PostgreSQL).

The bound asserted is exactly `-credit_limit_minor`: rating refuses a record whose price is more than
`balance - (floor - overdraft_minor)` under the account's row lock (ledger.FloorRule.USAGE_OVERDRAFT),
and a postpaid account has `floor = -credit_limit` and no usage overdraft (`overdraft_minor = 0`; the
overdraft for usage already in flight is a prepaid allowance, SELFCARE_USAGE_OVERDRAFT_MINOR). Each
posting keeps the balance after it, so the lowest balance the account ever had is checked too, not
only the final one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db.models import Min

from selfcare.kit import clock
from selfcare.ledger.models import LedgerAccount, Posting
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.usage import services
from selfcare.usage.models import UsageRecord
from tests.concurrency import run_in_threads
from tests.factories import make_line
from tests.lines.factories import add_employee, make_company
from tests.usage.factories import make_numbering, make_payg_tariff, usage

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
CALLS_PER_THREAD = 10
CREDIT_LIMIT = 10_000
T0 = datetime.fromisoformat("2026-03-02T08:00:00+03:00")


def test_two_employees_usage_at_once_never_takes_the_company_below_its_credit_limit():
    # Given a company on a postpaid account with a credit limit of 100.00 and nothing spent, and two
    # employees' lines on it (one-minute off-net calls cost 2.50)
    with clock.frozen(T0 + timedelta(hours=1)):
        zones = make_numbering()
        tariff = make_payg_tariff(zones)
        company = make_company(admins=0, credit_limit_minor=CREDIT_LIMIT)
        lines = [make_line(account=company.account, tariff=tariff) for _ in range(2)]
        for line, name in zip(lines, ("Boris", "Vera"), strict=True):
            add_employee(company, line, name=name)
    ledger_account = LedgerAccount.objects.get(pk=company.account.ledger_account_id)
    assert (ledger_account.balance_minor, ledger_account.floor_minor, ledger_account.overdraft_minor) == (
        0,
        -CREDIT_LIMIT,
        0,
    )

    # When six systems push ten calls each, from both lines, at the same moment: 150.00 of demand
    def work(index: int) -> list[str]:
        calls = [
            usage(lines[(index + i) % 2].msisdn, "voice_out", T0 + timedelta(minutes=i, seconds=index),
                  record_id=f"t{index}-c{i}", duration_s=60, counterparty="+79161234567")
            for i in range(CALLS_PER_THREAD)
        ]  # fmt: skip
        with clock.frozen(T0 + timedelta(hours=1)):
            return [(r.status, r.reason) for r in services.rate_batch(calls, actor=f"msc-{index}").results]

    results = run_in_threads(THREADS, work, exceptions_as_results=True)

    # Then no batch failed; exactly the limit's worth of calls passed (40 x 2.50), the rest were refused
    assert all(isinstance(result, list) for result in results), results
    outcomes = [outcome for result in results for outcome in result]
    assert outcomes.count(("accepted", "")) == CREDIT_LIMIT // 250
    assert (
        outcomes.count(("rejected", "insufficient_funds")) == THREADS * CALLS_PER_THREAD - CREDIT_LIMIT // 250
    )
    # And the account stands exactly at minus the credit limit, never went below it, and the ledger is sound
    assert get_balance_minor(ledger_account.pk) == -CREDIT_LIMIT
    lowest = Posting.objects.filter(account_id=ledger_account.pk).aggregate(low=Min("balance_after_minor"))[
        "low"
    ]
    assert lowest == -CREDIT_LIMIT
    assert UsageRecord.objects.filter(status="accepted").count() == CREDIT_LIMIT // 250
    assert sum(UsageRecord.objects.values_list("price_minor", flat=True)) == CREDIT_LIMIT
    assert {line.pk for line in lines} == set(
        UsageRecord.objects.filter(status="accepted").values_list("line_id", flat=True)
    )
    assert verify_ledger().ok
