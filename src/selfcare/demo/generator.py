"""The demo operator: seeds a believable operator into an empty database, deterministically.

Everything random comes from `random.Random(seed)` (population.py) and a second generator derived
from the same seed (history.py), so a seed, a size and a date always give the same numbers, names,
tariffs and balances. `seed_operator` writes it all in one database transaction:

1. the catalog (catalog_data.py): regions, numbering, zones, tariffs, services, allowances, rates;
2. customers, accounts and their ledger accounts, in bulk;
3. the money history: every top-up, fee and usage charge is a ledger transaction posted through
   `ledger.services.post_transactions` in large batches with back-dated `created_at`, so
   `selfcare ledger verify` holds afterwards;
4. lines, tariff and service history and black lists with the state the history left them in.

An audit row per bulk step (actor "system:demo"); the last one ("demo.seed") is the marker that
makes `selfcare demo` seed only once per database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

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
from selfcare.demo.history import SYSTEM_ACCOUNTS, MoneyEvent, Simulation, customer_code
from selfcare.demo.population import DemoConfig, Population, Showcase, plan_population, thin_history_days
from selfcare.identity.models import AuditEvent
from selfcare.identity.services import record_audit
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

DEMO_ACTOR = "system:demo"
SEED_ACTION = "demo.seed"
ADMIN_USERNAME = "admin"
# A fixed, printed password: the demo runs on 127.0.0.1 for a person trying it, never in production.
ADMIN_PASSWORD = "demo-admin-2026"  # noqa: S105
LEDGER_BATCH = 5_000
ROW_BATCH = 2_000

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
        lap("catalog")
        population = plan_population(config)
        lap("plan")
        ledger_ids, account_ids = _write_customers(population)
        summary.customers = len(population.customers)
        summary.accounts = len(population.accounts)
        lap("customers and accounts")
        simulation = Simulation(population)
        summary.transactions = _post_history(simulation.events(), ledger_ids, say)
        summary.transactions_by_kind = dict(sorted(simulation.counts.items()))
        lap("history")
        _write_lines(population, catalog, account_ids)
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


def _entries(events: Iterable[MoneyEvent], ledger_ids: dict[str, int]) -> Iterable[ledger.Entry]:
    for event in events:
        yield ledger.Entry(
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
            floor=ledger.FloorRule.USAGE_OVERDRAFT if event.usage else ledger.FloorRule.ENFORCE,
            created_at=event.at,
        )


def _post_history(events: Iterable[MoneyEvent], ledger_ids: dict[str, int], say: Progress) -> int:
    posted = 0
    batch: list[ledger.Entry] = []
    for entry in _entries(events, ledger_ids):
        batch.append(entry)
        if len(batch) >= LEDGER_BATCH:
            ledger.post_transactions(batch)
            posted += len(batch)
            batch = []
            if posted % (LEDGER_BATCH * 20) == 0:
                say(f"    {posted:,} transactions posted")
    if batch:
        ledger.post_transactions(batch)
        posted += len(batch)
    record_audit(DEMO_ACTOR, "demo.history", subject_type="ledger", after={"transactions": posted})
    return posted


# --- lines --------------------------------------------------------------------------------------


def _write_lines(population: Population, catalog: CatalogIds, account_ids: list[int]) -> None:
    lines = Line.objects.bulk_create(
        [
            Line(
                msisdn=plan.msisdn,
                iccid=plan.iccid,
                imsi=plan.imsi,
                puk_hash=hash_puk(plan.puk),
                region_id=catalog.regions[plan.region],
                account_id=account_ids[plan.account],
                tariff_id=catalog.tariffs[plan.tariffs[-1].tariff],
                status=plan.status,
                status_changed_at=plan.status_changed_at or plan.activated_at,
                holder_name=plan.holder_name,
                activated_at=plan.activated_at,
            )
            for plan in population.lines
        ],
        batch_size=ROW_BATCH,
    )
    tariff_rows: list[TariffAssignment] = []
    service_rows: list[ServiceAssignment] = []
    black_list_rows: list[BlackListEntry] = []
    for plan, line in zip(population.lines, lines, strict=True):
        for period in plan.tariffs:
            tariff_rows.append(
                TariffAssignment(
                    line_id=line.pk,
                    tariff_id=catalog.tariffs[period.tariff],
                    started_at=period.started,
                    ended_at=period.ended,
                    actor=DEMO_ACTOR,
                )
            )
        for service in plan.services:
            if service.refused:
                continue
            service_rows.append(
                ServiceAssignment(
                    line_id=line.pk,
                    service_id=catalog.services[service.service],
                    connected_at=service.connected,
                    disconnected_at=service.disconnected,
                    actor=DEMO_ACTOR,
                )
            )
        for entry in plan.black_list:
            if not entry.refused:
                black_list_rows.append(
                    BlackListEntry(line_id=line.pk, msisdn=entry.msisdn, created_at=entry.added)
                )
    TariffAssignment.objects.bulk_create(tariff_rows, batch_size=ROW_BATCH)
    ServiceAssignment.objects.bulk_create(service_rows, batch_size=ROW_BATCH)
    BlackListEntry.objects.bulk_create(black_list_rows, batch_size=ROW_BATCH)
    record_audit(
        DEMO_ACTOR,
        "demo.lines",
        subject_type="line",
        after={
            "lines": len(lines),
            "tariff_assignments": len(tariff_rows),
            "service_assignments": len(service_rows),
            "black_list_entries": len(black_list_rows),
        },
    )
