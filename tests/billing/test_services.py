"""Recurring fees with a frozen clock: once per line, product and period; debt, blocking, unblocking."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from selfcare.billing import services
from selfcare.billing.models import FeeCharge
from selfcare.catalog.models import FeePeriod
from selfcare.kit import clock
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import verify_ledger
from selfcare.lines import services as lines_services
from tests.billing.helpers import (
    balance_of,
    charged_total,
    daily_tariff,
    fees_of,
    line_with_money,
    monthly_tariff,
    service_with_fee,
    sms_templates,
    status_of,
    top_up,
)
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db

MSK_MORNING = datetime.fromisoformat("2026-03-02T09:00:00+03:00")


def test_a_daily_fee_is_charged_once_a_day_however_often_the_job_runs(frozen_clock):
    # Given a line on a daily tariff of 10.00 with 100.00 on the balance
    line = line_with_money(daily_tariff(1_000), 10_000)

    # When the job runs three times on 2 March
    first = services.charge_fees()
    services.charge_fees()
    services.charge_fees()

    # Then the day was charged once
    assert (first.charged, first.charged_minor) == (1, 1_000)
    assert balance_of(line) == 9_000
    assert fees_of(line) == [("2026-03-02", line.tariff_id, "tariff", 1_000, "charged")]

    # When the clock reaches the next local day and the job runs twice
    frozen_clock.advance(timedelta(days=1))
    services.charge_fees()
    services.charge_fees()

    # Then that day is charged once too, and the ledger is consistent
    assert balance_of(line) == 8_000
    assert [fee[0] for fee in fees_of(line)] == ["2026-03-02", "2026-03-03"]
    assert Transaction.objects.filter(kind="tariff_fee").count() == 2
    assert verify_ledger().ok


def test_the_local_day_decides_the_period_not_utc(frozen_clock):
    # Given a daily-fee line, and the clock at 23:30 UTC on 2 March, which is 02:30 on 3 March in Moscow
    line = line_with_money(daily_tariff(1_000), 10_000)
    with clock.frozen(datetime.fromisoformat("2026-03-02T23:30:00+00:00")):
        # When the job runs
        services.charge_fees()

    # Then the fee is for the Moscow day, 3 March
    assert fees_of(line) == [("2026-03-03", line.tariff_id, "tariff", 1_000, "charged")]


def test_a_monthly_fee_is_charged_in_full_once_per_calendar_month():
    # Given a line activated in February on a monthly tariff of 310.00, with 1,000.00
    with clock.frozen(datetime.fromisoformat("2026-02-10T12:00:00+03:00")):
        line = line_with_money(monthly_tariff(31_000), 100_000)
    # (February is prorated at activation: 19 of 28 days)
    with clock.frozen(datetime.fromisoformat("2026-02-10T12:05:00+03:00")):
        services.charge_fees()
    assert fees_of(line) == [("2026-02-01", line.tariff_id, "tariff", 21_035, "charged")]

    # When the job runs every day of March
    for day in range(1, 32):
        with clock.frozen(datetime(2026, 3, day, 0, 5, tzinfo=MSK_MORNING.tzinfo)):
            services.charge_fees()

    # Then March is charged once, in full
    assert fees_of(line)[1:] == [("2026-03-01", line.tariff_id, "tariff", 31_000, "charged")]
    assert balance_of(line) == 100_000 - 21_035 - 31_000

    # When April begins
    with clock.frozen(datetime.fromisoformat("2026-04-01T00:05:00+03:00")):
        services.charge_fees()

    # Then April is charged
    assert fees_of(line)[-1] == ("2026-04-01", line.tariff_id, "tariff", 31_000, "charged")
    assert balance_of(line) == 100_000 - 21_035 - 2 * 31_000


def test_the_first_month_is_prorated_from_the_connection_day(frozen_clock):
    # Given a line activated on 2 March (30 of March's 31 days remain) on a monthly tariff of 310.00
    line = line_with_money(monthly_tariff(31_000), 50_000)

    # When the job runs
    services.charge_fees()

    # Then it pays 30/31 of the fee
    assert fees_of(line) == [("2026-03-01", line.tariff_id, "tariff", 30_000, "charged")]
    assert balance_of(line) == 20_000


def test_prorated_fee_rounds_down_and_covers_the_whole_month_from_the_first():
    # Given / When / Then: the share is exact days over days, never rounded up
    assert (
        services.prorated_fee_minor(
            1_000, period_start=date(2026, 2, 1), period_end=date(2026, 3, 1), since=date(2026, 2, 28)
        )
        == 35
    )
    assert (
        services.prorated_fee_minor(
            1_000, period_start=date(2026, 2, 1), period_end=date(2026, 3, 1), since=date(2026, 1, 5)
        )
        == 1_000
    )


def test_service_fees_follow_the_connection(frozen_clock):
    # Given a line without tariff fee and a daily service of 3.00 and a monthly one of 62.00
    line = line_with_money(daily_tariff(0), 20_000)
    daily = service_with_fee(300, FeePeriod.DAILY)
    monthly = service_with_fee(6_200, FeePeriod.MONTHLY)
    lines_services.connect_service(line, service=daily, actor=TEST_ACTOR)
    lines_services.connect_service(line, service=monthly, actor=TEST_ACTOR)

    # When the job runs on 2 March, twice
    services.charge_fees()
    services.charge_fees()

    # Then the daily fee is whole and the monthly one prorated (30/31 of 62.00)
    assert fees_of(line) == [
        ("2026-03-01", monthly.pk, "service", 6_000, "charged"),
        ("2026-03-02", daily.pk, "service", 300, "charged"),
    ]

    # When the daily service is disconnected and the next day is billed
    lines_services.disconnect_service(line, service=daily, actor=TEST_ACTOR)
    frozen_clock.advance(timedelta(days=1))
    services.charge_fees()

    # Then nothing more is charged
    assert charged_total(line) == 6_300
    assert balance_of(line) == 20_000 - 6_300


def test_reconnecting_a_monthly_service_in_the_same_month_does_not_charge_it_again(frozen_clock):
    # Given a monthly service charged for March
    line = line_with_money(daily_tariff(0), 20_000)
    monthly = service_with_fee(6_200, FeePeriod.MONTHLY)
    lines_services.connect_service(line, service=monthly, actor=TEST_ACTOR)
    services.charge_fees()

    # When it is disconnected and connected again later in March
    lines_services.disconnect_service(line, service=monthly, actor=TEST_ACTOR)
    frozen_clock.advance(timedelta(days=5))
    lines_services.connect_service(line, service=monthly, actor=TEST_ACTOR)
    services.charge_fees()

    # Then March was charged once
    assert charged_total(line) == 6_000


def test_a_fee_the_balance_cannot_cover_blocks_the_line_and_becomes_its_debt(frozen_clock):
    # Given a daily tariff of 10.00 and a balance of 4.00
    line = line_with_money(daily_tariff(1_000), 400)

    # When the job runs twice
    first = services.charge_fees()
    services.charge_fees()

    # Then nothing is taken, the fee is recorded as unpaid, the line is blocked for debt, one SMS says so
    assert (first.charged, first.unpaid, first.blocked) == (0, 1, [line.pk])
    assert balance_of(line) == 400
    assert fees_of(line) == [("2026-03-02", line.tariff_id, "tariff", 1_000, "unpaid")]
    assert status_of(line) == "blocked_debt"
    assert sms_templates(line) == ["billing.blocked_for_debt"]
    assert Transaction.objects.filter(kind="tariff_fee").count() == 0
    assert verify_ledger().ok


def test_settle_debts_charges_the_debt_and_unblocks_once_the_balance_covers_it(frozen_clock):
    # Given a line blocked for an unpaid fee of 10.00 with 4.00 on the balance
    line = line_with_money(daily_tariff(1_000), 400)
    services.charge_fees()

    # When 5.00 arrives (not enough) and debts are settled
    top_up(line.account, 500)
    not_yet = services.settle_debts(line.account_id, actor=TEST_ACTOR)

    # Then nothing changes
    assert (not_yet.charged, not_yet.unblocked) == (0, [])
    assert status_of(line) == "blocked_debt"
    assert balance_of(line) == 900

    # When 1.00 more arrives and debts are settled twice
    top_up(line.account, 100)
    settled = services.settle_debts(line.account_id, actor=TEST_ACTOR)
    again = services.settle_debts(line.account_id, actor=TEST_ACTOR)

    # Then the debt is paid once, the line is active again, and the subscriber heard about both events
    # once (no low-balance SMS: the balance was below the threshold before the charge already)
    assert (settled.charged, settled.charged_minor, settled.unblocked) == (1, 1_000, [line.pk])
    assert (again.charged, again.unblocked) == (0, [])
    assert balance_of(line) == 0
    assert status_of(line) == "active"
    assert fees_of(line) == [("2026-03-02", line.tariff_id, "tariff", 1_000, "charged")]
    assert sms_templates(line) == ["billing.blocked_for_debt", "billing.unblocked"]
    assert verify_ledger().ok


def test_a_debt_whose_period_ended_lapses_and_only_the_current_period_is_owed(frozen_clock):
    # Given a line blocked for debt on 2 March
    line = line_with_money(daily_tariff(1_000), 0)
    services.charge_fees()

    # When 3 March is billed while the line is still blocked, and then money arrives
    frozen_clock.advance(timedelta(days=1))
    services.charge_fees()
    top_up(line.account, 20_000)
    services.settle_debts(line.account_id, actor=TEST_ACTOR)

    # Then 2 March (no service given) lapsed, 3 March is paid, and the line works again
    assert fees_of(line) == [
        ("2026-03-02", line.tariff_id, "tariff", 1_000, "lapsed"),
        ("2026-03-03", line.tariff_id, "tariff", 1_000, "charged"),
    ]
    assert balance_of(line) == 19_000
    assert status_of(line) == "active"
    # one blocked SMS (not one per job run), one unblocked
    assert sms_templates(line) == ["billing.blocked_for_debt", "billing.unblocked"]


def test_a_line_pays_all_its_due_fees_or_none(frozen_clock):
    # Given a tariff fee of 10.00, a service fee of 5.00 and a balance of 12.00
    line = line_with_money(daily_tariff(1_000), 1_200)
    service = service_with_fee(500, FeePeriod.DAILY)
    lines_services.connect_service(line, service=service, actor=TEST_ACTOR)

    # When the job runs
    services.charge_fees()

    # Then nothing is taken: both fees are the debt, the line is blocked
    assert balance_of(line) == 1_200
    assert [fee[-1] for fee in fees_of(line)] == ["unpaid", "unpaid"]
    assert status_of(line) == "blocked_debt"

    # When 3.00 more arrives (15.00 in all) and the sweep runs
    top_up(line.account, 300)
    services.settle_all_debts(actor=TEST_ACTOR)

    # Then both are charged together and the line is unblocked
    assert balance_of(line) == 0
    assert [fee[-1] for fee in fees_of(line)] == ["charged", "charged"]
    assert status_of(line) == "active"


def test_lines_of_one_account_are_billed_against_the_shared_balance(frozen_clock):
    # Given two lines on one account with money for one daily fee
    first = line_with_money(daily_tariff(1_000), 1_500)
    second = line_with_money(daily_tariff(1_000), 0, account=first.account)

    # When the job runs
    services.charge_fees()

    # Then the first line (by id) pays, the second is blocked
    assert (status_of(first), status_of(second)) == ("active", "blocked_debt")
    assert balance_of(first) == 500


def test_a_line_blocked_by_its_subscriber_pays_no_fees(frozen_clock):
    # Given a line the subscriber blocked voluntarily
    line = line_with_money(daily_tariff(1_000), 5_000)
    lines_services.set_line_status(line, status="blocked_subscriber", actor=TEST_ACTOR)

    # When the job runs
    services.charge_fees()

    # Then no fee is recorded and the status is kept
    assert fees_of(line) == []
    assert balance_of(line) == 5_000
    assert status_of(line) == "blocked_subscriber"


def test_settle_unblocks_a_line_blocked_for_debt_without_fees_once_the_balance_is_not_negative(frozen_clock):
    # Given a line blocked for debt by staff, with no fee owed and a positive balance
    line = line_with_money(daily_tariff(0), 100)
    lines_services.set_line_status(line, status="blocked_debt", actor=TEST_ACTOR)

    # When its debts are settled
    result = services.settle_debts(line.account_id, actor=TEST_ACTOR)

    # Then it is active again
    assert result.unblocked == [line.pk]
    assert status_of(line) == "active"


def test_the_low_balance_sms_is_sent_once_when_a_fee_crosses_the_threshold(frozen_clock, settings):
    # Given a threshold of 50.00 and a daily fee of 10.00 on a balance of 70.00
    settings.SELFCARE_LOW_BALANCE_THRESHOLD_MINOR = 5_000
    line = line_with_money(daily_tariff(1_000), 7_000)

    # When three days are billed (70 -> 60 -> 50 -> 40)
    for _day in range(3):
        services.charge_fees()
        frozen_clock.advance(timedelta(days=1))

    # Then one SMS, on the day the balance went below 50.00
    assert balance_of(line) == 4_000
    assert sms_templates(line) == ["billing.low_balance"]


def test_nothing_is_charged_before_the_line_exists(frozen_clock):
    # Given a line activated on 2 March
    line = line_with_money(daily_tariff(1_000), 5_000)

    # When the job is run for 1 March
    services.charge_fees(on=date(2026, 3, 1))

    # Then nothing is due
    assert FeeCharge.objects.filter(line=line).count() == 0


def test_terminated_lines_are_not_billed(frozen_clock):
    # Given a terminated line
    line = line_with_money(daily_tariff(1_000), 5_000)
    lines_services.set_line_status(line, status="terminated", actor=TEST_ACTOR)

    # When the job runs
    result = services.charge_fees()

    # Then it is not even looked at
    assert result.lines == 0
    assert balance_of(line) == 5_000
