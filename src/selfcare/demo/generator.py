"""The demo operator: seeds a believable operator into an empty database, deterministically.

Everything random comes from `random.Random(seed)` (population.py) and a second generator derived
from the same seed (history.py), so a seed, a size and a date always give the same numbers, names,
tariffs and balances. `seed_operator` writes it all in one database transaction:

1. the catalog (catalog_data.py): regions, numbering, zones, tariffs, services, allowances, rates;
2. customers, accounts and their ledger accounts, in bulk;
3. lines, in the state they had when the history window opens;
4. the history, day by day: the day's top-ups and fees are ledger transactions posted through
   `ledger.services.post_transactions` with back-dated `created_at`; then the lines' changes of the
   day (tariff, services connected and disconnected, black-list numbers) are written, and the day's
   raw usage records are rated by the usage engine (`usage.services.rate_batch`, in batches of
   RATE_BATCH with the clock frozen just after the batch's last record), which opens the buckets,
   draws on them, prices the rest and posts the charges; the simulation takes the prices back, so
   its next top-up decisions see the real balances. Lines blocked during the day are blocked after
   its usage. `selfcare ledger verify` holds afterwards;
5. the tariff history of every line.

An audit row per bulk step (actor "system:demo"); the last one ("demo.seed") is the marker that
makes `selfcare demo` seed only once per database.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as day_time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from selfcare.catalog.models import (
    Allowance,
    NumberRange,
    Rate,
    Region,
    Service,
    Tariff,
    Zone,
    ZonePrefix,
)
from selfcare.demo import catalog_data as cat
from selfcare.demo import help_data
from selfcare.demo.history import SYSTEM_ACCOUNTS, Day, MoneyEvent, Simulation, customer_code
from selfcare.demo.population import (
    BlackListPlan,
    DemoConfig,
    LinePlan,
    Population,
    ServicePeriod,
    Showcase,
    plan_population,
    thin_history_days,
)
from selfcare.identity.models import AuditEvent
from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.ledger import services as ledger
from selfcare.lines.models import (
    Account,
    BlackListEntry,
    Customer,
    Line,
    ServiceAssignment,
    TariffAssignment,
)
from selfcare.lines.services import hash_puk
from selfcare.support.models import FaqEntry
from selfcare.usage import services as usage
from selfcare.usage.engine.inputs import UsageInput

DEMO_ACTOR = "system:demo"
SEED_ACTION = "demo.seed"
ADMIN_USERNAME = "admin"
# A fixed, printed password: the demo runs on 127.0.0.1 for a person trying it, never in production.
ADMIN_PASSWORD = "demo-admin-2026"  # noqa: S105
LEDGER_BATCH = 5_000
ROW_BATCH = 2_000
RATE_BATCH = 50_000

Progress = Callable[[str], None]


@dataclass
class SeedSummary:
    config: DemoConfig
    tariffs: int = 0
    services: int = 0
    customers: int = 0
    accounts: int = 0
    individual_lines: int = 0
    company_lines: int = 0
    transactions: int = 0
    full_history_days: int = 0
    thin_history_days: int = 0
    transactions_by_kind: dict[str, int] = field(default_factory=dict)
    usage_records: int = 0
    usage_batches: int = 0
    usage_minor: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    showcase: list[Showcase] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def is_seeded() -> bool:
    return AuditEvent.objects.filter(action=SEED_ACTION).exists()


def seed_operator(config: DemoConfig, *, progress: Progress | None = None) -> SeedSummary:
    """Seed the whole demo operator in one database transaction (all or nothing)."""
    say = progress or (lambda _message: None)
    summary = SeedSummary(config=config)
    clock_start = time.perf_counter()

    def lap(step: str) -> None:
        summary.seconds[step] = round(time.perf_counter() - clock_start - sum(summary.seconds.values()), 2)
        say(f"  {step}: {summary.seconds[step]:.1f} s")

    with transaction.atomic():
        catalog = _write_catalog()
        summary.tariffs, summary.services = len(catalog.tariffs), len(catalog.services)
        _write_faq()
        lap("catalog")
        population = plan_population(config)
        lap("plan")
        ledger_ids, account_ids = _write_customers(population)
        summary.customers = len(population.customers)
        summary.accounts = len(population.accounts)
        lap("customers and accounts")
        line_ids = _write_lines(population, catalog, account_ids)
        simulation = Simulation(population)
        changes = _run_history(simulation, population, catalog, ledger_ids, line_ids, summary, say)
        lap("history")
        _finish_lines(population, catalog, line_ids, changes)
        summary.company_lines = sum(len(a.lines) for a in population.accounts if a.kind == "postpaid")
        summary.individual_lines = len(population.lines) - summary.company_lines
        lap("lines")
        summary.full_history_days = config.days
        summary.thin_history_days = thin_history_days(config)
        summary.showcase = population.showcase
        record_audit(
            DEMO_ACTOR,
            SEED_ACTION,
            subject_type="demo",
            after={
                "seed": config.seed,
                "lines": config.lines,
                "days": config.days,
                "today": config.today.isoformat(),
                "transactions": summary.transactions,
                "usage_records": summary.usage_records,
            },
        )
    return summary


def ensure_admin() -> tuple[str, str]:
    """The back-office superuser of the demo (created once); returns its username and password."""
    user_model = get_user_model()
    if not user_model.objects.filter(username=ADMIN_USERNAME).exists():
        with transaction.atomic():
            user = user_model.objects.create_superuser(
                ADMIN_USERNAME, email="admin@example.com", password=ADMIN_PASSWORD
            )
            record_audit(
                DEMO_ACTOR,
                "demo.admin",
                subject_type="user",
                subject_id=user.pk,
                after={"username": ADMIN_USERNAME},
            )
    return ADMIN_USERNAME, ADMIN_PASSWORD


# --- help ---------------------------------------------------------------------------------------


def _write_faq() -> None:
    now = clock.now()
    FaqEntry.objects.bulk_create(
        [
            FaqEntry(question=question, answer=answer, sort_order=10 * (index + 1), updated_at=now)
            for index, (question, answer) in enumerate(help_data.FAQ)
        ]
    )
    record_audit(DEMO_ACTOR, "demo.faq", subject_type="faq", after={"entries": len(help_data.FAQ)})


# --- catalog ------------------------------------------------------------------------------------


@dataclass
class CatalogIds:
    regions: dict[str, int]
    zones: dict[str, int]
    tariffs: dict[str, int]
    services: dict[str, int]


def _write_catalog() -> CatalogIds:
    regions = Region.objects.bulk_create(
        [Region(code=spec.code, name=spec.name, description={}) for spec in cat.REGIONS]
    )
    region_ids = {region.code: region.pk for region in regions}
    zones = Zone.objects.bulk_create(
        [Zone(code=spec.code, kind=spec.kind, name=spec.name, description={}) for spec in cat.ZONES]
    )
    zone_ids = {zone.code: zone.pk for zone in zones}
    ZonePrefix.objects.bulk_create(
        [
            ZonePrefix(zone_id=zone_ids[spec.code], prefix=prefix)
            for spec in cat.ZONES
            for prefix in spec.prefixes
        ]
    )
    ranges = [
        NumberRange(
            prefix=spec.own_prefix,
            kind="own_mobile",
            region_id=region_ids[spec.code],
            holder=cat.OPERATOR_HOLDER,
        )
        for spec in cat.REGIONS
    ]
    ranges += [
        NumberRange(prefix=prefix, kind="other_mobile", holder=holder)
        for prefix, holder in cat.OTHER_MOBILE_RANGES
    ]
    ranges += [
        NumberRange(prefix=prefix, kind="landline", region_id=region_ids[spec.code])
        for spec in cat.REGIONS
        for prefix in spec.landline_prefixes
    ]
    NumberRange.objects.bulk_create(ranges)

    tariffs = Tariff.objects.bulk_create(
        [
            Tariff(
                code=spec.code,
                name=spec.name,
                description=spec.description,
                fee_minor=spec.fee_minor,
                fee_period=spec.fee_period,
                change_fee_minor=spec.change_fee_minor,
                voice_rounding=spec.voice_rounding,
                is_open=spec.is_open,
                sort_order=spec.sort_order,
            )
            for spec in cat.TARIFFS
        ]
    )
    tariff_ids = {tariff.code: tariff.pk for tariff in tariffs}
    services = Service.objects.bulk_create(
        [
            Service(
                code=spec.code,
                kind=spec.kind,
                name=spec.name,
                description=spec.description,
                connect_fee_minor=spec.connect_fee_minor,
                fee_minor=spec.fee_minor,
                fee_period=spec.fee_period,
                validity_days=spec.validity_days,
                parameters=dict(spec.parameters),
                sort_order=spec.sort_order,
            )
            for spec in cat.SERVICES
        ]
    )
    service_ids = {service.code: service.pk for service in services}
    Allowance.objects.bulk_create(_allowances(tariff_ids, service_ids, zone_ids))
    Rate.objects.bulk_create(_rates(tariff_ids, zone_ids))
    by_code = {service.code: service for service in services}
    for spec in cat.SERVICES:
        service = by_code[spec.code]
        if spec.allowed_tariffs:
            service.allowed_tariffs.set([tariff_ids[code] for code in spec.allowed_tariffs])
        if spec.requires:
            service.requires.set([service_ids[code] for code in spec.requires])
        if spec.excludes:
            service.excludes.set([service_ids[code] for code in spec.excludes])
    record_audit(
        DEMO_ACTOR,
        "demo.catalog",
        subject_type="catalog",
        after={
            "regions": len(regions),
            "zones": len(zones),
            "tariffs": len(tariffs),
            "services": len(services),
        },
    )
    return CatalogIds(region_ids, zone_ids, tariff_ids, service_ids)


def _allowances(
    tariff_ids: dict[str, int], service_ids: dict[str, int], zone_ids: dict[str, int]
) -> list[Allowance]:
    rows: list[Allowance] = []
    for tariff in cat.TARIFFS:
        for kind, amount in (("voice", tariff.voice_s), ("sms", tariff.sms), ("data", tariff.data_bytes)):
            if amount:
                rows.append(Allowance(tariff_id=tariff_ids[tariff.code], usage_kind=kind, amount=amount))
    for service in cat.SERVICES:
        for kind, amount in (("voice", service.voice_s), ("sms", service.sms), ("data", service.data_bytes)):
            if amount:
                rows.append(
                    Allowance(
                        service_id=service_ids[service.code],
                        usage_kind=kind,
                        amount=amount,
                        usage_classes=["roaming"] if service.zone else [],
                        zone_id=zone_ids[service.zone] if service.zone else None,
                    )
                )
    return rows


def _rates(tariff_ids: dict[str, int], zone_ids: dict[str, int]) -> list[Rate]:
    rows: list[Rate] = []
    for tariff in cat.TARIFFS:
        for kind, usage_class in cat.BASE_RATES:
            rows.append(
                Rate(
                    tariff_id=tariff_ids[tariff.code],
                    usage_kind=kind,
                    usage_class=usage_class,
                    price_minor=tariff.rate_minor(kind, usage_class),
                )
            )
        for (kind, usage_class), prices in cat.ZONED_RATES.items():
            for zone in prices:
                rows.append(
                    Rate(
                        tariff_id=tariff_ids[tariff.code],
                        usage_kind=kind,
                        usage_class=usage_class,
                        zone_id=zone_ids[zone],
                        price_minor=tariff.rate_minor(kind, usage_class, zone),
                    )
                )
    return rows


# --- customers and accounts ---------------------------------------------------------------------


def _write_customers(population: Population) -> tuple[dict[str, int], list[int]]:
    """Customers, accounts and every ledger account.

    Returns the ledger account ids by code and the Account ids in the order of the plan's accounts.
    """
    currency = settings.SELFCARE_CURRENCY
    system = {
        code: ledger.open_account(code, kind="system", currency=currency, name=name)
        for code, name in SYSTEM_ACCOUNTS.items()
    }
    customers = Customer.objects.bulk_create(
        [
            Customer(
                kind=plan.kind,
                name=plan.name,
                email=plan.email,
                language=plan.language,
                tax_id=plan.tax_id,
                created_at=plan.created_at,
            )
            for plan in population.customers
        ],
        batch_size=ROW_BATCH,
    )
    names = [population.customers[account.customer].name for account in population.accounts]
    ledger_accounts = ledger.open_accounts(
        [
            ledger.AccountSpec(
                code=customer_code(account.number),
                kind="customer",
                currency=currency,
                name=name[:200],
                floor_minor=-account.credit_limit_minor,
                overdraft_minor=settings.SELFCARE_USAGE_OVERDRAFT_MINOR if account.kind == "prepaid" else 0,
                created_at=account.created_at,
            )
            for account, name in zip(population.accounts, names, strict=True)
        ]
    )
    accounts = Account.objects.bulk_create(
        [
            Account(
                number=plan.number,
                customer_id=customers[plan.customer].pk,
                kind=plan.kind,
                credit_limit_minor=plan.credit_limit_minor,
                currency=currency,
                ledger_account_id=ledger_account.pk,
                created_at=plan.created_at,
            )
            for plan, ledger_account in zip(population.accounts, ledger_accounts, strict=True)
        ],
        batch_size=ROW_BATCH,
    )
    record_audit(
        DEMO_ACTOR,
        "demo.customers",
        subject_type="customer",
        after={"customers": len(customers), "accounts": len(accounts)},
    )
    ledger_ids = {account.code: account.pk for account in ledger_accounts}
    ledger_ids.update((code, account.pk) for code, account in system.items())
    return ledger_ids, [account.pk for account in accounts]


# --- history ------------------------------------------------------------------------------------


def _entries(events: Iterable[MoneyEvent], ledger_ids: dict[str, int]) -> list[ledger.Entry]:
    return [
        ledger.Entry(
            kind=event.kind,
            idempotency_key=event.key,
            legs=(
                ledger.Leg(ledger_ids[event.target], event.amount_minor),
                ledger.Leg(ledger_ids[event.source], -event.amount_minor),
            ),
            actor=DEMO_ACTOR,
            cause_type=event.cause_type,
            cause_id=event.cause_id,
            memo=event.memo,
            created_at=event.at,
        )
        for event in events
    ]


def _run_history(
    simulation: Simulation,
    population: Population,
    catalog: CatalogIds,
    ledger_ids: dict[str, int],
    line_ids: list[int],
    summary: SeedSummary,
    say: Progress,
) -> _LineChanges:
    """Day by day: post the money events, write the lines' changes, rate the usage, settle the day."""
    changes = _LineChanges(population, catalog, line_ids)
    tz = ZoneInfo(population.config.time_zone)
    by_kind: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    posted = usage_transactions = 0
    for day in simulation.days():
        for start in range(0, len(day.events), LEDGER_BATCH):
            ledger.post_transactions(_entries(day.events[start : start + LEDGER_BATCH], ledger_ids))
        posted += len(day.events)
        by_kind.update(event.kind for event in day.events)
        changes.apply_until(datetime.combine(day.day + timedelta(days=1), day_time.min, tzinfo=tz))
        prices, transactions, batches = _rate_day(day, refusals)
        usage_transactions += transactions
        summary.usage_batches += batches
        simulation.settle(day, prices)
        changes.apply_statuses(day.blocked_lines)
        if day.day.day == 1:
            say(f"    {day.day.isoformat()}: {posted + usage_transactions:,} transactions, "
                f"{simulation.usage_records:,} usage records")  # fmt: skip
    by_kind["usage"] += usage_transactions
    summary.transactions = posted + usage_transactions
    summary.transactions_by_kind = dict(sorted(by_kind.items()))
    summary.usage_records = simulation.usage_records
    summary.usage_minor = simulation.usage_minor
    summary.refusals = dict(sorted(refusals.items()))
    record_audit(
        DEMO_ACTOR,
        "demo.history",
        subject_type="ledger",
        after={
            "transactions": summary.transactions,
            "usage_records": summary.usage_records,
            "usage_minor": summary.usage_minor,
            "refused_records": sum(refusals.values()),
        },
    )
    return changes


def _rate_day(day: Day, refusals: Counter[str]) -> tuple[list[int | None], int, int]:
    """Rate the day's records through the engine in time order; their prices (None: refused)."""
    records: Sequence[UsageInput] = day.records
    order = sorted(range(len(records)), key=lambda index: records[index].started_at)
    prices: list[int | None] = [None] * len(records)
    transactions = batches = 0
    for start in range(0, len(order), RATE_BATCH):
        chunk = order[start : start + RATE_BATCH]
        batch = [records[index] for index in chunk]
        # The network delivers the batch just after its last record: "now" for the engine.
        with clock.frozen(batch[-1].started_at + timedelta(seconds=1)):
            result = usage.rate_batch(batch, actor=DEMO_ACTOR)
        batches += 1
        transactions += len(result.transaction_ids)
        for index, outcome in zip(chunk, result.results, strict=True):
            if outcome.status == usage.RESULT_ACCEPTED:
                prices[index] = outcome.price_minor
            else:
                refusals[outcome.reason] += 1
    return prices, transactions, batches


_Timed = TypeVar("_Timed", bound=tuple[datetime, int, Any])


class _LineChanges:
    """Writes what happens to lines as the history reaches it, so the engine rates by the state of the day."""

    def __init__(self, population: Population, catalog: CatalogIds, line_ids: list[int]) -> None:
        self.population = population
        self.catalog = catalog
        self.line_ids = line_ids
        tariffs = [(p.started, line.index, p.tariff) for line in population.lines for p in line.tariffs[1:]]
        services = [(p.connected, line.index, p) for line in population.lines for p in line.services]
        ends = [
            (p.disconnected, line.index, p)
            for line in population.lines
            for p in line.services
            if p.disconnected is not None
        ]
        entries = [(e.added, line.index, e) for line in population.lines for e in line.black_list]
        self._tariffs = sorted(tariffs, key=lambda item: (item[0], item[1]))
        self._services = sorted(services, key=lambda item: (item[0], item[1]))
        self._ends = sorted(ends, key=lambda item: (item[0], item[1]))
        self._entries = sorted(entries, key=lambda item: (item[0], item[1]))
        self._positions = [0, 0, 0, 0]
        self._assignments: dict[int, ServiceAssignment] = {}  # id(ServicePeriod) -> its row
        self.service_rows = 0
        self.black_list_rows = 0

    def _take(self, which: int, items: list[_Timed], until: datetime) -> list[_Timed]:
        start = position = self._positions[which]
        while position < len(items) and items[position][0] < until:
            position += 1
        self._positions[which] = position
        return items[start:position]

    def apply_until(self, until: datetime) -> None:
        """Tariff changes, disconnections, connections and black-list numbers before `until`."""
        for _at, line_index, tariff in self._take(0, self._tariffs, until):
            Line.objects.filter(pk=self.line_ids[line_index]).update(tariff_id=self.catalog.tariffs[tariff])
        ended: list[ServiceAssignment] = []
        for at, _line_index, period in self._take(2, self._ends, until):
            row = self._assignments.get(id(period))
            if row is not None:
                row.disconnected_at = at
                ended.append(row)
        if ended:
            ServiceAssignment.objects.bulk_update(ended, ["disconnected_at"], batch_size=ROW_BATCH)
        new_rows: list[tuple[ServicePeriod, ServiceAssignment]] = []
        for _at, line_index, period in self._take(1, self._services, until):
            assert isinstance(period, ServicePeriod)
            if period.refused:
                continue
            gone = (
                period.disconnected
                if period.disconnected is not None and period.disconnected < until
                else None
            )
            new_rows.append(
                (
                    period,
                    ServiceAssignment(
                        line_id=self.line_ids[line_index],
                        service_id=self.catalog.services[period.service],
                        connected_at=period.connected,
                        disconnected_at=gone,
                        actor=DEMO_ACTOR,
                    ),
                )
            )
        if new_rows:
            ServiceAssignment.objects.bulk_create([row for _, row in new_rows], batch_size=ROW_BATCH)
            for period, row in new_rows:
                if row.disconnected_at is None:
                    self._assignments[id(period)] = row
            self.service_rows += len(new_rows)
        entries = [
            BlackListEntry(line_id=self.line_ids[line_index], msisdn=entry.msisdn, created_at=entry.added)
            for _at, line_index, entry in self._take(3, self._entries, until)
            if isinstance(entry, BlackListPlan) and not entry.refused
        ]
        if entries:
            BlackListEntry.objects.bulk_create(entries, batch_size=ROW_BATCH)
            self.black_list_rows += len(entries)

    def apply_statuses(self, line_indices: Iterable[int]) -> None:
        for line_index in line_indices:
            plan: LinePlan = self.population.lines[line_index]
            Line.objects.filter(pk=self.line_ids[line_index]).update(
                status=plan.status, status_changed_at=plan.status_changed_at
            )


# --- lines --------------------------------------------------------------------------------------


def _write_lines(population: Population, catalog: CatalogIds, account_ids: list[int]) -> list[int]:
    """Every line as it was when the history opens (first tariff, active); returns the ids in plan order."""
    lines = Line.objects.bulk_create(
        [
            Line(
                msisdn=plan.msisdn,
                iccid=plan.iccid,
                imsi=plan.imsi,
                puk_hash=hash_puk(plan.puk),
                region_id=catalog.regions[plan.region],
                account_id=account_ids[plan.account],
                tariff_id=catalog.tariffs[plan.tariffs[0].tariff],
                status="active",
                status_changed_at=plan.activated_at,
                holder_name=plan.holder_name,
                activated_at=plan.activated_at,
            )
            for plan in population.lines
        ],
        batch_size=ROW_BATCH,
    )
    return [line.pk for line in lines]


def _finish_lines(
    population: Population, catalog: CatalogIds, line_ids: list[int], changes: _LineChanges
) -> None:
    tariff_rows = [
        TariffAssignment(
            line_id=line_id,
            tariff_id=catalog.tariffs[period.tariff],
            started_at=period.started,
            ended_at=period.ended,
            actor=DEMO_ACTOR,
        )
        for plan, line_id in zip(population.lines, line_ids, strict=True)
        for period in plan.tariffs
    ]
    TariffAssignment.objects.bulk_create(tariff_rows, batch_size=ROW_BATCH)
    record_audit(
        DEMO_ACTOR,
        "demo.lines",
        subject_type="line",
        after={
            "lines": len(line_ids),
            "tariff_assignments": len(tariff_rows),
            "service_assignments": changes.service_rows,
            "black_list_entries": changes.black_list_rows,
        },
    )
