"""Monthly spending quotas per line (docs/usage.md, "Quotas").

A line's spend this month is what the ledger charged for its usage, fees and services; the services
that post those charges raise the line's counter in the same transaction. At 80 % of the quota the
company's admins get one SMS per month; at 100 % chargeable outgoing usage is refused
(`quota_exceeded`) while usage covered by buckets and incoming usage pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from selfcare.billing import changes
from selfcare.billing import services as billing
from selfcare.catalog.models import FeePeriod, Service
from selfcare.companies.models import Membership, Role
from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.lines import queries, services
from selfcare.lines.errors import InvalidQuota
from selfcare.lines.models import LineQuota
from selfcare.notifications.models import OutboundSms
from selfcare.notifications.services import list_recent_console_messages
from selfcare.usage.models import Bucket, UsageRecord
from selfcare.usage.services import rate_batch
from tests.concurrency import run_in_threads
from tests.factories import TEST_ACTOR, fund, make_line, make_service, make_tariff
from tests.lines.factories import make_company
from tests.usage.factories import make_bundle_tariff, make_numbering, make_payg_tariff, usage

pytestmark = pytest.mark.django_db(transaction=True)

MARCH = datetime.fromisoformat("2026-03-10T12:00:00+03:00")
APRIL = datetime.fromisoformat("2026-04-01T00:30:00+03:00")
OFF_NET = "+79161234567"  # 250 a minute on the test tariffs
OWN = "+79001112233"


@pytest.fixture
def zones(db):
    return make_numbering()


def call(line, moment: datetime, *, seconds: int = 60, to: str = OFF_NET, kind: str = "voice_out"):
    return usage(line.msisdn, kind, moment, duration_s=seconds, counterparty=to)


def rate(*records):
    return [(r.status, r.reason, r.price_minor) for r in rate_batch(list(records)).results]


def spent(line, at: datetime) -> int:
    row = queries.get_line_quota(line.pk)
    return 0 if row is None else row.spent_in(LineQuota.month_of(at))


def quota_notices() -> list[str]:
    """The numbers the quota notices were queued to, oldest first."""
    return list(
        OutboundSms.objects.filter(template="companies.quota_warning")
        .order_by("pk")
        .values_list("msisdn", flat=True)
    )


def texts_to(msisdn: str) -> list[str]:
    """What the console gateway delivered to `msisdn`, newest first."""
    return [m.text for m in list_recent_console_messages(50) if m.msisdn == msisdn]


@pytest.fixture
def company_line(zones):
    with clock.frozen(MARCH - timedelta(days=5)):
        company = make_company()
        line = make_line(account=company.account, tariff=make_payg_tariff(zones))
    return company, line


# --- Setting a quota ------------------------------------------------------------------------------------


def test_setting_a_quota_is_audited_and_kept_with_the_month_spend(company_line):
    _company, line = company_line
    with clock.frozen(MARCH):
        # Given the line spent 500 this month
        assert rate(call(line, MARCH - timedelta(hours=1)), call(line, MARCH - timedelta(minutes=30))) == [
            ("accepted", "", 250),
            ("accepted", "", 250),
        ]

        # When staff set a quota of 2,000
        quota = services.set_line_quota(line, limit_minor=2_000, actor="staff:anna")

    # Then it is stored with the month's spend, and an audit row says who and what
    assert (quota.limit_minor, quota.month.isoformat(), quota.spent_minor) == (2_000, "2026-03-01", 500)
    event = AuditEvent.objects.filter(action="line.quota").get()
    assert (event.actor, event.subject_id, event.before, event.after) == (
        "staff:anna",
        str(line.pk),
        {"limit_minor": None},
        {"limit_minor": 2_000, "spent_minor": 500},
    )


def test_a_negative_quota_is_refused_and_changes_nothing(company_line):
    _company, line = company_line
    with clock.frozen(MARCH):
        services.set_line_quota(line, limit_minor=1_000, actor=TEST_ACTOR)

        with pytest.raises(InvalidQuota):
            services.set_line_quota(line, limit_minor=-1, actor=TEST_ACTOR)

    assert queries.get_line_quota(line.pk).limit_minor == 1_000
    assert AuditEvent.objects.filter(action="line.quota").count() == 1


# --- The 80 % notice --------------------------------------------------------------------------------------


def test_the_admins_are_told_once_a_month_when_the_line_reaches_80_percent(company_line):
    company, line = company_line
    admin_number = Membership.objects.get(company=company, role=Role.ADMIN).user.msisdn
    with clock.frozen(MARCH):
        services.set_line_quota(line, limit_minor=1_200, actor=TEST_ACTOR)

        # When the line spends 750 (62 %), then 1,000 (83 %), then 1,200 (100 %)
        rate(*(call(line, MARCH - timedelta(minutes=50 - i)) for i in range(3)))
        assert quota_notices() == []
        rate(call(line, MARCH - timedelta(minutes=40)))
        rate(call(line, MARCH - timedelta(minutes=30), seconds=48))

    # Then the admin (not the viewer) got exactly one SMS, at 83 %
    assert spent(line, MARCH) == 1_200
    assert quota_notices() == [admin_number]
    assert texts_to(admin_number) == [
        f"Selfcare Mobile: line {line.msisdn} has spent 83% of its monthly quota of RUB12.00. "
        "Once the quota is spent, its paid outgoing usage stops until next month."
    ]
    notice = AuditEvent.objects.get(action="company.quota_notice")
    assert notice.after == {"percent": 83, "admins_notified": 1}

    # When April comes, the counter starts again and the line reaches 80 % once more
    with clock.frozen(APRIL + timedelta(hours=1)):
        assert (
            rate(*(call(line, APRIL + timedelta(minutes=i)) for i in range(4))) == [("accepted", "", 250)] * 4
        )

    # Then April has its own single notice
    assert spent(line, APRIL) == 1_000
    assert len(quota_notices()) == 2
    assert queries.get_line_quota(line.pk).alerted_month.isoformat() == "2026-04-01"


def test_a_line_outside_any_company_has_a_quota_but_nobody_to_tell(zones):
    with clock.frozen(MARCH):
        line = make_line(tariff=make_payg_tariff(zones))
        fund(line.account.ledger_account, 10_000)
        services.set_line_quota(line, limit_minor=250, actor=TEST_ACTOR)

        assert rate(call(line, MARCH - timedelta(minutes=2)), call(line, MARCH - timedelta(minutes=1))) == [
            ("accepted", "", 250),
            ("rejected", "quota_exceeded", 0),
        ]

    assert quota_notices() == []
    assert AuditEvent.objects.get(action="company.quota_notice").after == {
        "percent": 100,
        "admins_notified": 0,
    }


# --- The bar at 100 % ---------------------------------------------------------------------------------------


def test_at_the_quota_chargeable_outgoing_usage_is_refused_and_nothing_is_charged(company_line, zones):
    company, line = company_line
    with clock.frozen(MARCH):
        services.set_line_quota(line, limit_minor=500, actor=TEST_ACTOR)
        rate(call(line, MARCH - timedelta(hours=2)), call(line, MARCH - timedelta(hours=1)))
        balance = get_balance_minor(company.account.ledger_account_id)
        records = UsageRecord.objects.count()

        # When the line at its quota calls, texts and browses, and receives a call and an SMS
        results = rate(
            call(line, MARCH - timedelta(minutes=50)),
            usage(line.msisdn, "sms_out", MARCH - timedelta(minutes=40), counterparty=OFF_NET),
            usage(line.msisdn, "data", MARCH - timedelta(minutes=30), volume_bytes=1_048_576),
            call(line, MARCH - timedelta(minutes=20), kind="voice_in"),
            usage(line.msisdn, "sms_in", MARCH - timedelta(minutes=10), counterparty=OFF_NET),
        )

    # Then the outgoing ones are refused, the incoming ones pass, and no money moved
    assert results == [
        ("rejected", "quota_exceeded", 0),
        ("rejected", "quota_exceeded", 0),
        ("rejected", "quota_exceeded", 0),
        ("accepted", "", 0),
        ("accepted", "", 0),
    ]
    assert get_balance_minor(company.account.ledger_account_id) == balance
    assert spent(line, MARCH) == 500
    assert UsageRecord.objects.count() == records + 5
    assert (
        list(UsageRecord.objects.filter(status="refused").values_list("refusal_reason", "price_minor"))
        == [("quota_exceeded", 0)] * 3
    )
    assert verify_ledger().ok


def test_a_record_that_would_cross_the_quota_is_refused_and_a_smaller_one_still_fits(company_line):
    _company, line = company_line
    with clock.frozen(MARCH):
        services.set_line_quota(line, limit_minor=400, actor=TEST_ACTOR)

        results = rate(
            call(line, MARCH - timedelta(minutes=30)),  # 250: 150 left
            call(line, MARCH - timedelta(minutes=20)),  # 250 > 150: refused
            call(line, MARCH - timedelta(minutes=10), seconds=36),  # 150: fits exactly
        )

    assert results == [("accepted", "", 250), ("rejected", "quota_exceeded", 0), ("accepted", "", 150)]
    assert spent(line, MARCH) == 400


def test_usage_covered_by_the_bundle_passes_a_line_at_its_quota(zones):
    with clock.frozen(MARCH - timedelta(days=9)):
        company = make_company()
        line = make_line(account=company.account, tariff=make_bundle_tariff(zones, voice_s=10 * 60))
    with clock.frozen(MARCH):
        # Given a quota of zero: nothing chargeable may pass
        services.set_line_quota(line, limit_minor=0, actor=TEST_ACTOR)

        # When the line calls within its 10 included minutes, then beyond them
        results = rate(
            call(line, MARCH - timedelta(minutes=30), seconds=9 * 60),
            call(line, MARCH - timedelta(minutes=10), seconds=60),
            call(line, MARCH - timedelta(minutes=5), seconds=60),
        )

    # Then the minutes of the bundle pass, free; the first chargeable minute is refused
    assert results == [("accepted", "", 0), ("accepted", "", 0), ("rejected", "quota_exceeded", 0)]
    assert Bucket.objects.get(line=line, usage_kind="voice").remaining == 0
    assert spent(line, MARCH) == 0


def test_raising_the_quota_lifts_the_bar_and_next_month_resets_it(company_line):
    _company, line = company_line
    with clock.frozen(MARCH):
        services.set_line_quota(line, limit_minor=250, actor=TEST_ACTOR)
        assert rate(call(line, MARCH - timedelta(minutes=30)), call(line, MARCH - timedelta(minutes=20))) == [
            ("accepted", "", 250),
            ("rejected", "quota_exceeded", 0),
        ]

        # When the quota is raised to 500
        services.set_line_quota(line, limit_minor=500, actor=TEST_ACTOR)

        # Then the next call passes, and the one after is barred again
        assert rate(call(line, MARCH - timedelta(minutes=10)), call(line, MARCH - timedelta(minutes=5))) == [
            ("accepted", "", 250),
            ("rejected", "quota_exceeded", 0),
        ]

    # And on the 1st of the next month the line may spend its quota again
    with clock.frozen(APRIL):
        assert rate(call(line, APRIL - timedelta(minutes=1))) == [("accepted", "", 250)]
    assert spent(line, APRIL) == 250

    # Removing the quota removes the bar
    with clock.frozen(APRIL):
        services.set_line_quota(line, limit_minor=None, actor=TEST_ACTOR)
        assert (
            rate(*(call(line, APRIL - timedelta(seconds=50 - i)) for i in range(3)))
            == [("accepted", "", 250)] * 3
        )
    assert spent(line, APRIL) == 1_000


# --- What counts --------------------------------------------------------------------------------------------


def test_recurring_fees_count_toward_the_quota_but_are_never_refused_by_it(zones):
    with clock.frozen(datetime.fromisoformat("2026-02-20T12:00:00+03:00")):
        company = make_company()
        tariff = make_tariff(fee_minor=30_000, fee_period=FeePeriod.MONTHLY)
        line = make_line(account=company.account, tariff=tariff)
        services.set_line_quota(line, limit_minor=20_000, actor=TEST_ACTOR)

    # When the fee job charges March's fee of 300.00 on the 1st
    with clock.frozen(datetime.fromisoformat("2026-03-01T00:10:00+03:00")):
        result = billing.charge_fees()

    # Then the fee is charged in full, counts as the line's March spend, and told the admins
    assert result.charged_minor == 30_000
    assert spent(line, MARCH) == 30_000
    assert len(quota_notices()) == 1
    assert AuditEvent.objects.get(action="company.quota_notice").after == {
        "percent": 150,
        "admins_notified": 1,
    }


def test_the_hook_runs_only_after_commit_and_a_failing_hook_does_not_undo_the_charge(company_line):
    _company, line = company_line
    calls: list[tuple[int, int]] = []

    def broken(line_id: int, percent: int) -> None:
        raise RuntimeError("the hook broke")

    unregister_broken = services.on_quota_threshold(broken)
    unregister = services.on_quota_threshold(lambda line_id, percent: calls.append((line_id, percent)))
    try:
        with clock.frozen(MARCH):
            services.set_line_quota(line, limit_minor=300, actor=TEST_ACTOR)
            assert rate(call(line, MARCH - timedelta(minutes=1))) == [("accepted", "", 250)]
    finally:
        unregister()
        unregister_broken()

    assert calls == [(line.pk, 83)]
    assert spent(line, MARCH) == 250


# --- Concurrency ------------------------------------------------------------------------------------


def test_threads_rating_the_same_line_near_its_quota_never_exceed_it(company_line):
    company, line = company_line
    with clock.frozen(MARCH):
        # Given a quota of 10.00 with 5.00 spent
        services.set_line_quota(line, limit_minor=1_000, actor=TEST_ACTOR)
        rate(call(line, MARCH - timedelta(hours=2)), call(line, MARCH - timedelta(hours=1)))
    balance = get_balance_minor(company.account.ledger_account_id)

    # When four systems each push two more one-minute calls (2.50 each) of the line at the same moment
    def work(index: int) -> list[tuple[str, str, int]]:
        with clock.frozen(MARCH):
            return rate(
                *(
                    usage(line.msisdn, "voice_out", MARCH - timedelta(minutes=50 - i, seconds=index),
                          record_id=f"t{index}-{i}", duration_s=60, counterparty=OFF_NET)
                    for i in range(2)
                )
            )  # fmt: skip

    results = run_in_threads(4, work, exceptions_as_results=True)

    # Then exactly two of the eight calls passed, the quota is spent to the unit, and one notice went out
    assert all(isinstance(result, list) for result in results), results
    outcomes = [outcome for result in results for outcome in result]
    assert outcomes.count(("accepted", "", 250)) == 2
    assert outcomes.count(("rejected", "quota_exceeded", 0)) == 6
    assert spent(line, MARCH) == 1_000
    assert get_balance_minor(company.account.ledger_account_id) == balance - 500
    assert len(quota_notices()) == 1
    assert verify_ledger().ok


def test_a_paid_service_connection_counts_toward_the_quota(company_line):
    company, line = company_line
    with clock.frozen(MARCH):
        services.set_line_quota(line, limit_minor=2_000, actor=TEST_ACTOR)
        balance = get_balance_minor(company.account.ledger_account_id)

        # When a service with a connection fee of 15.00 is connected to the line
        changes.connect_service(
            line, service=make_service(connect_fee_minor=1_500), actor=TEST_ACTOR, idempotency_key="connect-1"
        )
        # And the same request is replayed
        changes.connect_service(
            line,
            service=Service.objects.get(connect_fee_minor=1_500),
            actor=TEST_ACTOR,
            idempotency_key="connect-1",
        )

    # Then the fee is the line's spend, once; two calls of 2.50 reach the quota of 20.00, a third is refused
    assert get_balance_minor(company.account.ledger_account_id) == balance - 1_500
    assert spent(line, MARCH) == 1_500
    with clock.frozen(MARCH):
        assert rate(*(call(line, MARCH - timedelta(minutes=30 - i)) for i in range(3))) == [
            ("accepted", "", 250),
            ("accepted", "", 250),
            ("rejected", "quota_exceeded", 0),
        ]
    assert spent(line, MARCH) == 2_000
