"""The demo operator generator: a small operator seeded into the test database is complete, keeps the
ledger's invariants, never takes a prepaid account below its usage overdraft, rates its usage as raw
records through the usage engine, and is the same for the same seed."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.db.models import F

from selfcare.catalog.models import NumberRange, Rate, Region, Service, Tariff, Zone, ZonePrefix
from selfcare.demo import catalog_data as cat
from selfcare.demo.generator import DEMO_ACTOR, SEED_ACTION, ensure_admin, is_seeded, seed_operator
from selfcare.demo.history import REVENUE_USAGE, SYSTEM_ACCOUNTS, Simulation, customer_code
from selfcare.demo.population import (
    FULL_HISTORY_LINES,
    SHOWCASE,
    DemoConfig,
    plan_population,
    thin_history_days,
)
from selfcare.identity.models import AuditEvent
from selfcare.ledger.models import LedgerAccount, Posting, Transaction
from selfcare.ledger.queries import verify_ledger
from selfcare.lines.models import (
    Account,
    BlackListEntry,
    Customer,
    Line,
    ServiceAssignment,
    TariffAssignment,
)
from selfcare.usage.models import Bucket, UsageRecord

SMALL = DemoConfig(today=date(2026, 3, 2), lines=120, days=10, seed=7)


def replay(config: DemoConfig) -> tuple[list[str], dict[str, int], int, list[tuple[str, str]]]:
    """The history recomputed without the engine, taking each record's price from the database.

    Returns the numbers, final balances, money events (top-ups, fees, payments) and record keys.
    """
    stored = {
        (source, record_id): price if status == "accepted" else None
        for source, record_id, status, price in UsageRecord.objects.values_list(
            "source", "source_record_id", "status", "price_minor"
        )
    }
    population = plan_population(config)
    simulation = Simulation(population)
    events = 0
    keys: list[tuple[str, str]] = []
    for day in simulation.days():
        events += len(day.events)
        keys.extend((record.source, record.record_id) for record in day.records)
        simulation.settle(day, [stored[(record.source, record.record_id)] for record in day.records])
    return [line.msisdn for line in population.lines], dict(simulation.balances), events, keys


@pytest.fixture
def seeded(db):
    return seed_operator(SMALL)


def test_catalog_has_the_tariffs_services_and_numbering_an_operator_needs(seeded):
    # given a seeded operator / then the catalog is complete
    assert Tariff.objects.count() == len(cat.TARIFFS) == 7
    assert Tariff.objects.get(code="simple").fee_period == "none"
    assert Tariff.objects.get(code="simple").fee_minor == 0
    assert Tariff.objects.get(code="day-by-day").fee_period == "daily"
    assert Tariff.objects.filter(fee_period="monthly").count() == 5
    assert list(Tariff.objects.filter(is_open=False).values_list("code", flat=True)) == ["classic-2019"]
    smart_s = Tariff.objects.get(code="smart-s")
    assert {(a.usage_kind, a.amount) for a in smart_s.allowances.all()} == {
        ("voice", 300 * 60),
        ("sms", 100),
        ("data", 10 * 1024**3),
    }

    assert Service.objects.count() == 13
    black_list = Service.objects.get(kind="black_list")
    assert black_list.fee_period == "daily"
    assert black_list.fee_minor == 150
    assert black_list.parameters == {"capacity": 200, "entry_fee_minor": 1000}
    assert Service.objects.filter(kind="data_pack").count() == 2
    assert Service.objects.filter(kind="roaming_pack").count() == 2
    assert Service.objects.filter(kind="caller_id").count() == 1
    assert Service.objects.get(code="who-called").requires.get().code == "caller-id"
    assert Service.objects.get(code="roaming-world").excludes.get().code == "roaming-europe"

    for model in (Tariff, Service, Region, Zone):
        for row in model.objects.all():
            assert set(row.name) == {"en", "ru", "fa"}, row
    assert Region.objects.count() == 5
    assert set(NumberRange.objects.values_list("kind", flat=True)) == {
        "own_mobile",
        "other_mobile",
        "landline",
    }
    assert Zone.objects.filter(kind="international").count() == 3
    assert Zone.objects.filter(kind="roaming").count() == 3
    assert ZonePrefix.objects.filter(zone__code="intl-world", prefix="98").exists()


def test_every_tariff_prices_every_usage_class(seeded):
    # given a seeded operator / then each tariff has a rate per class (and per zone where zoned)
    unzoned = len(cat.BASE_RATES)
    zoned = sum(len(prices) for prices in cat.ZONED_RATES.values())
    for tariff in Tariff.objects.all():
        rates = Rate.objects.filter(tariff=tariff)
        assert rates.count() == unzoned + zoned == 7 + 12
        classes = {(r.usage_kind, r.usage_class) for r in rates}
        assert {
            ("voice", c) for c in ("on_net", "off_net", "landline", "international", "roaming")
        } <= classes
        assert {("data", "home"), ("data", "roaming"), ("sms", "on_net"), ("sms", "roaming")} <= classes


def test_customers_lines_and_the_company(seeded):
    # given a seeded operator of 120 individual lines / then there are exactly that many, plus companies
    individual = Line.objects.filter(account__customer__kind="individual")
    assert individual.count() == 120
    company = Customer.objects.get(kind="organization", name="ООО «Северный ветер»")  # noqa: RUF001
    account = Account.objects.get(customer=company)
    assert account.kind == "postpaid"
    assert account.credit_limit_minor == 50 * 150_000
    assert Line.objects.filter(account=account).count() == 50
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).floor_minor == -50 * 150_000
    assert Customer.objects.filter(kind="organization").count() == 2
    assert Line.objects.count() == seeded.individual_lines + seeded.company_lines == 120 + 50 + 5

    # every line has its tariff history ending in its current tariff, and showcase numbers exist
    for line in Line.objects.all():
        assert line.tariff_history.get(ended_at__isnull=True).tariff_id == line.tariff_id
    assert set(Line.objects.values_list("msisdn", flat=True)) >= {item.msisdn for item in SHOWCASE}
    assert Line.objects.get(msisdn="+79001234567").account.customer.language == "ru"
    assert ServiceAssignment.objects.filter(line__msisdn="+79001234567", service__code="black-list").exists()
    assert BlackListEntry.objects.filter(line__msisdn="+79001234567").exists()
    assert set(Customer.objects.values_list("language", flat=True)) == {"en", "ru", "fa"}
    assert TariffAssignment.objects.filter(actor=DEMO_ACTOR).count() >= Line.objects.count()


def test_money_keeps_every_ledger_invariant_and_no_prepaid_account_goes_below_its_overdraft(seeded, settings):
    # given a seeded operator / then the ledger verifies and every prepaid balance is at or above its
    # floor minus the usage overdraft (usage that already happened may use it)
    report = verify_ledger()
    assert report.ok, report.summary()
    assert report.transactions == seeded.transactions == Transaction.objects.count()
    prepaid = LedgerAccount.objects.filter(
        pk__in=Account.objects.filter(kind="prepaid").values("ledger_account_id")
    )
    assert prepaid.count() == Account.objects.filter(kind="prepaid").count()
    for account in prepaid:
        assert account.floor_minor == 0
        assert account.balance_minor >= -settings.SELFCARE_USAGE_OVERDRAFT_MINOR, account.code
    # the history is back-dated inside the window: from the first day to the end of the last one
    first = Transaction.objects.order_by("created_at").first()
    last = Transaction.objects.order_by("-created_at").first()
    assert first is not None
    assert last is not None
    assert first.created_at.date() >= date(2026, 2, 19)
    assert last.created_at.date() <= date(2026, 3, 1)
    assert set(Transaction.objects.values_list("kind", flat=True)) == {
        "topup",
        "payment",
        "tariff_fee",
        "service_fee",
        "usage",
    } - ({"payment"} if not seeded.transactions_by_kind.get("payment") else set())


def test_same_seed_gives_the_same_numbers_records_and_balances(seeded):
    # given a seeded operator / when its plan and history are recomputed, with the engine's prices
    numbers, balances, events, keys = replay(SMALL)

    # then the numbers, the usage records, every ledger balance and the transaction count are what
    # the database holds
    assert list(Line.objects.order_by("pk").values_list("msisdn", flat=True)) == numbers
    assert len(keys) == len(set(keys)) == UsageRecord.objects.count() == seeded.usage_records
    stored = dict(LedgerAccount.objects.values_list("code", "balance_minor"))
    assert {code: stored[code] for code in balances} == balances
    assert set(stored) == set(SYSTEM_ACCOUNTS) | {customer_code(a.number) for a in Account.objects.all()}
    assert events + seeded.transactions_by_kind["usage"] == seeded.transactions


def test_usage_is_raw_records_rated_by_the_engine(seeded):
    # given a seeded operator / then its usage is rated records, each with a class
    records = UsageRecord.objects.all()
    accepted = records.filter(status="accepted")
    assert accepted.count() > 0
    assert not records.filter(usage_class="").exists()
    assert set(records.values_list("kind", flat=True)) == {
        "voice_out",
        "voice_in",
        "sms_out",
        "sms_in",
        "data",
    }
    assert {"on_net", "off_net", "landline", "home"} <= set(accepted.values_list("usage_class", flat=True))
    # and the usage charges in the ledger are exactly the sum of the records' prices
    priced = sum(accepted.values_list("price_minor", flat=True))
    assert priced == seeded.usage_minor > 0
    usage_postings = Posting.objects.filter(transaction__kind="usage", amount_minor__gt=0)
    assert sum(usage_postings.values_list("amount_minor", flat=True)) == priced
    assert LedgerAccount.objects.get(code=REVENUE_USAGE).balance_minor == priced
    # and every priced record points at its ledger transaction
    assert not accepted.filter(price_minor__gt=0, transaction__isnull=True).exists()
    # and the buckets the engine opened show partly used allowances
    assert accepted.filter(bucket__isnull=False).exists()
    partly_used = Bucket.objects.filter(remaining__gt=0).exclude(remaining=F("amount"))
    assert partly_used.exists()
    # and refusals are rare: only calls from black-listed numbers, or money running out
    refused = records.filter(status="refused")
    assert set(refused.values_list("refusal_reason", flat=True)) <= {"black_listed", "insufficient_funds"}
    assert refused.filter(refusal_reason="insufficient_funds").count() * 100 <= records.count()
    assert seeded.refusals == dict(sorted(Counter(refused.values_list("refusal_reason", flat=True)).items()))


def test_another_seed_gives_another_operator():
    # given two seeds / when planned / then the numbers differ
    one = plan_population(SMALL)
    other = plan_population(DemoConfig(today=SMALL.today, lines=120, days=10, seed=8))
    again = plan_population(SMALL)
    assert [line.msisdn for line in one.lines] == [line.msisdn for line in again.lines]
    assert [line.msisdn for line in one.lines] != [line.msisdn for line in other.lines]


def test_seeding_leaves_the_marker_and_one_audit_row_per_step(seeded):
    # given a seeded operator / then the marker is there and each bulk step left one audit row
    assert is_seeded()
    actions = list(
        AuditEvent.objects.filter(actor=DEMO_ACTOR).order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        "demo.catalog",
        "demo.faq",
        "demo.customers",
        *["usage.batch"] * seeded.usage_batches,
        "demo.history",
        "demo.lines",
        SEED_ACTION,
    ]


def test_the_faq_is_seeded_published_in_order_in_three_languages(seeded):
    # given a seeded operator / then the help page has its FAQ, every text in en, ru and fa
    from selfcare.support.queries import list_faq

    faq = list_faq()
    assert len(faq) == 5
    assert [entry.sort_order for entry in faq] == [10, 20, 30, 40, 50]
    assert all(set(e.question) == set(e.answer) == {"en", "ru", "fa"} for e in faq)
    assert all(text.strip() for e in faq for text in [*e.question.values(), *e.answer.values()])
    assert faq[2].question["en"] == "I lost my phone. What should I do?"


def test_admin_is_created_once(db):
    # given an empty database / when the admin is ensured twice
    first = ensure_admin()
    second = ensure_admin()

    # then one superuser exists with the printed password
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=first[0])
    assert first == second == ("admin", "demo-admin-2026")
    assert user.is_superuser
    assert user.is_staff
    assert user.check_password("demo-admin-2026")
    assert AuditEvent.objects.filter(action="demo.admin").count() == 1


def test_large_demos_thin_the_history_of_lines_beyond_the_first_ones():
    # given sizes around the full-history limit / then the thin part's days shrink with its size
    assert thin_history_days(DemoConfig(today=SMALL.today, lines=FULL_HISTORY_LINES, days=90)) == 90
    assert thin_history_days(DemoConfig(today=SMALL.today, lines=FULL_HISTORY_LINES + 10_000, days=90)) == 30
    assert thin_history_days(DemoConfig(today=SMALL.today, lines=100_000, days=90)) == 3
    assert thin_history_days(DemoConfig(today=SMALL.today, lines=100_000, days=2)) == 2
