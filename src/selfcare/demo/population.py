"""Who the demo operator's subscribers are: customers, accounts, lines and their tariff and service
history, drawn from one `random.Random(seed)` (pure Python, no database).

The plan is deterministic for a given (seed, lines, days, today): the same numbers, names, tariffs and
services every time, so a demo can be described in the docs and rebuilt with `--reset`.
"""

# ruff: noqa: RUF001 - Cyrillic and Persian letters are the content here, not look-alikes.

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from selfcare.demo import catalog_data as cat
from selfcare.demo.names import EMAIL_DOMAINS, person_name

# Lines (and the accounts they belong to) beyond this many individual lines get a thinner history;
# see `thin_history_days`.
FULL_HISTORY_LINES = 2_000
# Line-days of history the thin part of a large demo gets in total (divided among its lines).
THIN_HISTORY_LINE_DAYS = 300_000
MIN_THIN_HISTORY_DAYS = 3

COMPANY_SHARE = 20  # one company line per this many individual lines (at least 50)
MIN_COMPANY_LINES = 50
MAX_COMPANY_LINES = 500


DEFAULT_SEED = 20260301


@dataclass(frozen=True)
class DemoConfig:
    # The last simulated day is the day before `today` (in the operator's time zone); callers pass
    # kit.clock's local date, so a frozen clock gives the same demo every time.
    today: date
    lines: int = 1000
    days: int = 90
    seed: int = DEFAULT_SEED
    time_zone: str = "Europe/Moscow"

    def __post_init__(self) -> None:
        if self.lines < 10:
            raise ValueError("the demo needs at least 10 individual lines")
        if self.days < 1:
            raise ValueError("the demo needs at least one day of history")

    @property
    def window_start(self) -> date:
        return self.today - timedelta(days=self.days)


def thin_history_days(config: DemoConfig) -> int:
    """How many days of history lines beyond FULL_HISTORY_LINES get (all of them when few lines)."""
    thin_lines = config.lines - FULL_HISTORY_LINES
    if thin_lines <= 0:
        return config.days
    return min(config.days, max(MIN_THIN_HISTORY_DAYS, THIN_HISTORY_LINE_DAYS // thin_lines))


@dataclass(slots=True)
class UsageProfile:
    voice_min_mean: float  # minutes a day at home
    sms_mean: float
    data_mb_mean: float
    active_share: float  # share of days with any usage
    intl_zone: str
    intl_share: float  # share of active days with a call abroad


@dataclass(slots=True)
class TariffPeriod:
    tariff: str
    started: datetime
    ended: datetime | None = None


@dataclass(slots=True)
class ServicePeriod:
    service: str
    connected: datetime
    disconnected: datetime | None = None
    refused: bool = False  # the simulation could not charge it: never written


@dataclass(slots=True)
class Trip:
    start: date
    days: int
    zone: str  # roaming zone code


@dataclass(slots=True)
class BlackListPlan:
    msisdn: str
    added: datetime
    refused: bool = False


@dataclass(slots=True)
class LinePlan:
    index: int
    msisdn: str
    iccid: str
    imsi: str
    puk: str
    region: str
    account: int
    holder_name: str
    activated_at: datetime
    bill_day: int
    tariffs: list[TariffPeriod]
    services: list[ServicePeriod]
    black_list: list[BlackListPlan]
    profile: UsageProfile
    trip: Trip | None = None
    block_by_subscriber_at: datetime | None = None
    # Final state, set by the simulation.
    status: str = "active"
    status_changed_at: datetime | None = None

    def tariff_on(self, moment: datetime) -> str:
        current = self.tariffs[0].tariff
        for period in self.tariffs:
            if period.started <= moment:
                current = period.tariff
        return current


@dataclass(slots=True)
class AccountPlan:
    index: int
    number: str
    customer: int
    kind: str  # prepaid | postpaid
    credit_limit_minor: int
    created_at: datetime
    history_start: date
    topup_minor: int  # the amount this customer usually tops up by
    abandons_on: date | None = None  # stops topping up from this day (and ends blocked for debt)
    lines: list[int] = field(default_factory=list)


@dataclass(slots=True)
class CustomerPlan:
    index: int
    kind: str
    name: str
    email: str
    language: str
    tax_id: str
    created_at: datetime


@dataclass(frozen=True)
class Showcase:
    msisdn: str
    description: str


@dataclass
class Population:
    config: DemoConfig
    customers: list[CustomerPlan]
    accounts: list[AccountPlan]
    lines: list[LinePlan]
    showcase: list[Showcase]


def _luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def iccid_for(index: int) -> str:
    # 89 (telecom) + 7 (Russia) + 01 (issuer) + 99 (demo batch) + serial + Luhn check digit = 20 digits.
    body = f"8970199{index:012d}"
    return body + _luhn_digit(body)


def imsi_for(index: int) -> str:
    return f"25099{index:010d}"  # MCC 250 (Russia), MNC 99 (a test network code)


SHOWCASE_INDIVIDUALS = (
    # (msisdn, language, name, region, tariff, services, description)
    (
        "+79001234567",
        "ru",
        "Анна Смирнова",
        "moscow",
        "smart-m",
        ("caller-id", "who-called", "black-list"),
        "Smart M, black list, monthly data packs (Russian)",
    ),
    (
        "+79001112233",
        "en",
        "Emily Clarke",
        "spb",
        "simple",
        ("caller-id", "voicemail"),
        "pay-as-you-go, no monthly fee (English)",
    ),
    (
        "+79005556677",
        "fa",
        "سارا احمدی",
        "kazan",
        "smart-s",
        ("caller-id",),
        "Smart S, calls abroad and a roaming trip (Persian)",
    ),
)
COMPANIES = (
    # (name, language, tax id, first line's msisdn or "")
    ("ООО «Северный ветер»", "ru", "7701234567", "+79007654321"),
    ("Parsian Trading LLC", "fa", "7702345678", ""),
)
RESERVED_NUMBERS = {item[0] for item in SHOWCASE_INDIVIDUALS} | {c[3] for c in COMPANIES if c[3]}
# The numbers to try the demo with: the same in every seed and every size.
SHOWCASE: tuple[Showcase, ...] = (
    *(Showcase(item[0], item[6]) for item in SHOWCASE_INDIVIDUALS),
    *(Showcase(c[3], f"a line of the company {c[0]} (postpaid)") for c in COMPANIES if c[3]),
)

INDIVIDUAL_TARIFF_WEIGHTS = (
    ("simple", 18),
    ("smart-s", 28),
    ("smart-m", 26),
    ("smart-xl", 10),
    ("day-by-day", 18),
)
INDIVIDUAL_TARIFFS = tuple(code for code, _ in INDIVIDUAL_TARIFF_WEIGHTS)
# Cumulative weights: `random.choices` would otherwise re-add the weights on every one of 100,000 calls.
INDIVIDUAL_TARIFF_CUMULATIVE = tuple(itertools.accumulate(share for _, share in INDIVIDUAL_TARIFF_WEIGHTS))
LANGUAGES = ("ru", "en", "fa")
LANGUAGE_CUMULATIVE = tuple(itertools.accumulate((70, 15, 15)))
INTL_ZONE_BY_LANGUAGE = {"ru": "intl-cis", "en": "intl-europe", "fa": "intl-world"}
ROAMING_BY_LANGUAGE = {"ru": "roaming-europe", "en": "roaming-europe", "fa": "roaming-world"}


class _Planner:
    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.tz = ZoneInfo(config.time_zone)
        self.customers: list[CustomerPlan] = []
        self.accounts: list[AccountPlan] = []
        self.lines: list[LinePlan] = []
        self.thin_days = thin_history_days(config)
        self.numbers = self._draw_numbers()
        self.account_numbers = iter(self.rng.sample(range(10**9, 10**10), self._account_count_bound()))

    # --- numbers ------------------------------------------------------------------------------
    def _company_sizes(self) -> tuple[int, int]:
        big = max(MIN_COMPANY_LINES, min(self.config.lines // COMPANY_SHARE, MAX_COMPANY_LINES))
        small = max(5, min(self.config.lines // 200, 100))
        return big, small

    def _account_count_bound(self) -> int:
        return self.config.lines + len(COMPANIES)

    def _draw_numbers(self) -> dict[str, list[str]]:
        """Random, unique numbers per region from the region's own prefix (showcase numbers kept free)."""
        big, small = self._company_sizes()
        total = self.config.lines + big + small
        weights = [region.weight for region in cat.REGIONS]
        regions = self.rng.choices([region.code for region in cat.REGIONS], weights, k=total)
        needed = {region.code: regions.count(region.code) for region in cat.REGIONS}
        pools: dict[str, list[str]] = {}
        for region in cat.REGIONS:
            reserved = {n for n in RESERVED_NUMBERS if n[1:].startswith(region.own_prefix)}
            drawn = self.rng.sample(range(10**7), needed[region.code] + len(reserved))
            numbers = [f"+{region.own_prefix}{suffix:07d}" for suffix in drawn]
            pools[region.code] = [n for n in numbers if n not in reserved][: needed[region.code]]
        self.region_sequence = regions
        return pools

    def _next_number(self, position: int) -> tuple[str, str]:
        region = self.region_sequence[position]
        return self.numbers[region].pop(), region

    # --- time helpers -------------------------------------------------------------------------
    def at(self, day: date, seconds: int) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.tz) + timedelta(seconds=seconds)

    def daytime(self, day: date) -> datetime:
        return self.at(day, self.rng.randint(9 * 3600, 20 * 3600))

    def history_start_for(self, individual_line_position: int | None) -> date:
        if individual_line_position is None or individual_line_position < FULL_HISTORY_LINES:
            return self.config.window_start
        return self.config.today - timedelta(days=self.thin_days)

    # --- people -------------------------------------------------------------------------------
    def add_customer(
        self, *, kind: str, name: str, email: str, language: str, tax_id: str, created: datetime
    ) -> int:
        index = len(self.customers)
        self.customers.append(CustomerPlan(index, kind, name, email, language, tax_id, created))
        return index

    def add_account(
        self, customer: int, *, kind: str, credit_limit_minor: int, created: datetime, history_start: date
    ) -> AccountPlan:
        account = AccountPlan(
            index=len(self.accounts),
            number=str(next(self.account_numbers)),
            customer=customer,
            kind=kind,
            credit_limit_minor=credit_limit_minor,
            created_at=created,
            history_start=history_start,
            topup_minor=self.rng.choice((20_000, 30_000, 50_000, 50_000, 100_000, 150_000)),
        )
        self.accounts.append(account)
        return account

    def profile(self, tariff: str, language: str) -> UsageProfile:
        """Daily habits sized to the tariff: most bundle users stay inside their allowance."""
        rng = self.rng
        spec = cat.TARIFF_BY_CODE[tariff]
        if spec.fee_period == "monthly":
            voice = spec.voice_s / 60 / 30 * rng.choice((0.2, 0.35, 0.5, 0.7, 0.9))
            data = spec.data_bytes / cat.MB / 30 * rng.choice((0.2, 0.35, 0.5, 0.7, 0.9, 1.05))
        elif spec.fee_period == "daily":
            voice = spec.voice_s / 60 * rng.choice((0.1, 0.2, 0.3))
            data = spec.data_bytes / cat.MB * rng.choice((0.15, 0.3, 0.45))
        else:
            voice, data = rng.choice((1.0, 2.0, 3.0, 5.0)), rng.choice((1.0, 2.0, 4.0, 8.0))
        diaspora = rng.random() < 0.12
        return UsageProfile(
            voice_min_mean=max(voice, 0.5),
            sms_mean=rng.choice((0.2, 0.5, 1.0, 2.0)),
            data_mb_mean=max(data, 0.5),
            active_share=rng.uniform(0.6, 0.97),
            intl_zone=INTL_ZONE_BY_LANGUAGE[language],
            intl_share=0.08 if diaspora else 0.01,
        )

    def activation(self, history_start: date) -> datetime:
        """Most lines predate the window; one in fourteen is activated inside it (a new subscriber)."""
        last_day = self.config.today - timedelta(days=1)
        if self.rng.random() < 0.07 and history_start <= last_day:
            span = (last_day - history_start).days
            return self.daytime(history_start + timedelta(days=self.rng.randint(0, span)))
        return self.daytime(self.config.window_start - timedelta(days=self.rng.randint(1, 1500)))

    def add_line(
        self,
        account: AccountPlan,
        *,
        msisdn: str,
        region: str,
        tariff: str,
        activated: datetime,
        holder_name: str = "",
        language: str,
    ) -> LinePlan:
        index = len(self.lines)
        line = LinePlan(
            index=index,
            msisdn=msisdn,
            iccid=iccid_for(index),
            imsi=imsi_for(index),
            puk=f"{self.rng.randrange(10**8):08d}",
            region=region,
            account=account.index,
            holder_name=holder_name,
            activated_at=activated,
            bill_day=min(activated.day, 28),
            tariffs=[TariffPeriod(tariff, activated)],
            services=[],
            black_list=[],
            profile=self.profile(tariff, language),
        )
        self.lines.append(line)
        account.lines.append(index)
        return line

    # --- services -----------------------------------------------------------------------------
    def history_begins(self, line: LinePlan) -> datetime:
        start = self.at(self.accounts[line.account].history_start, 0)
        return max(start, line.activated_at)

    def connect_standing(self, line: LinePlan, service: str, *, during_history: bool | None = None) -> None:
        rng = self.rng
        begins = self.history_begins(line)
        last_day = self.config.today - timedelta(days=1)
        inside = during_history if during_history is not None else rng.random() < 0.15
        if inside and begins.date() < last_day:
            span = (last_day - begins.date()).days
            connected = self.daytime(begins.date() + timedelta(days=rng.randint(1, span)))
        else:
            earliest = line.activated_at + timedelta(minutes=5)
            room = max(0, int((begins - earliest).total_seconds()) - 3600)
            connected = earliest + timedelta(seconds=rng.randint(0, room)) if room else earliest
        period = ServicePeriod(service, connected)
        if rng.random() < 0.05 and connected.date() < last_day:
            span = (last_day - connected.date()).days
            period.disconnected = self.daytime(connected.date() + timedelta(days=rng.randint(1, span)))
        line.services.append(period)
        if service == "black-list":
            self.fill_black_list(line, period)

    def fill_black_list(self, line: LinePlan, period: ServicePeriod) -> None:
        rng = self.rng
        end = period.disconnected or self.at(self.config.today, 0)
        taken: set[str] = set()
        for _ in range(rng.randint(1, 6)):
            prefix, _holder = rng.choice(cat.OTHER_MOBILE_RANGES)
            number = f"+{prefix}{rng.randrange(10**7):07d}"
            if number in taken:
                continue
            taken.add(number)
            span = max(60, int((end - period.connected).total_seconds()) - 60)
            line.black_list.append(
                BlackListPlan(number, period.connected + timedelta(seconds=rng.randint(30, span)))
            )
        line.black_list.sort(key=lambda entry: entry.added)

    def buy_packs(self, line: LinePlan, service: str) -> None:
        """A habit of buying a pack about once a month inside the history window."""
        rng = self.rng
        validity = cat.SERVICE_BY_CODE[service].validity_days or 30
        day = self.history_begins(line).date() + timedelta(days=rng.randint(2, 20))
        last_day = self.config.today - timedelta(days=1)
        while day <= last_day:
            connected = self.daytime(day)
            expires = connected + timedelta(days=validity)
            now = self.at(self.config.today, 0)
            line.services.append(ServicePeriod(service, connected, expires if expires <= now else None))
            day += timedelta(days=validity + rng.randint(0, 10))

    def plan_trip(self, line: LinePlan, pack: str) -> None:
        rng = self.rng
        begins = self.history_begins(line).date()
        last_day = self.config.today - timedelta(days=1)
        if (last_day - begins).days < 10:
            return
        start = begins + timedelta(days=rng.randint(3, (last_day - begins).days - 7))
        spec = cat.SERVICE_BY_CODE[pack]
        connected = self.at(start, rng.randint(6 * 3600, 9 * 3600))
        validity = timedelta(days=spec.validity_days or 7)
        ends = connected + validity
        line.services.append(
            ServicePeriod(pack, connected, ends if ends <= self.at(self.config.today, 0) else None)
        )
        line.trip = Trip(start, rng.randint(3, 7), spec.zone or "roam-europe")

    def change_tariff(self, line: LinePlan) -> None:
        rng = self.rng
        begins = self.history_begins(line).date()
        last_day = self.config.today - timedelta(days=1)
        if (last_day - begins).days < 3:
            return
        current = line.tariffs[-1]
        choices = [t for t in INDIVIDUAL_TARIFFS if t != current.tariff]
        when = self.daytime(begins + timedelta(days=rng.randint(1, (last_day - begins).days)))
        current.ended = when
        line.tariffs.append(TariffPeriod(rng.choice(choices), when))

    # --- the whole population -----------------------------------------------------------------
    def plan(self) -> Population:
        self._plan_showcase()
        self._plan_individuals()
        self._plan_companies()
        return Population(self.config, self.customers, self.accounts, self.lines, list(SHOWCASE))

    def _plan_showcase(self) -> None:
        start = self.config.window_start
        for msisdn, language, name, region, tariff, services, _description in SHOWCASE_INDIVIDUALS:
            activated = self.daytime(start - timedelta(days=400 + len(self.lines) * 37))
            handle = {"ru": "anna.smirnova", "en": "emily.clarke", "fa": "sara.ahmadi"}[language]
            customer = self.add_customer(
                kind="individual",
                name=name,
                email=f"{handle}@example.com",
                language=language,
                tax_id="",
                created=activated,
            )
            account = self.add_account(
                customer, kind="prepaid", credit_limit_minor=0, created=activated, history_start=start
            )
            account.topup_minor = 100_000
            line = self.add_line(
                account, msisdn=msisdn, region=region, tariff=tariff, activated=activated, language=language
            )
            for service in services:
                self.connect_standing(line, service, during_history=False)
            if tariff == "smart-m":
                self.buy_packs(line, "data-3gb")
            if language == "fa":
                line.profile.intl_share = 0.15
                self.plan_trip(line, "roaming-world")

    def _plan_individuals(self) -> None:
        rng = self.rng
        position = len(self.lines)  # showcase lines count towards the individual lines
        while position < self.config.lines:
            history_start = self.history_start_for(position)
            language = rng.choices(LANGUAGES, cum_weights=LANGUAGE_CUMULATIVE)[0]
            name, handle = person_name(rng, language)
            activated = self.activation(history_start)
            email = f"{handle}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}" if rng.random() < 0.6 else ""
            customer = self.add_customer(
                kind="individual", name=name, email=email, language=language, tax_id="", created=activated
            )
            account = self.add_account(
                customer, kind="prepaid", credit_limit_minor=0, created=activated, history_start=history_start
            )
            family = 2 if rng.random() < 0.07 and position + 1 < self.config.lines else 1
            abandons = rng.random() < 0.03
            for member in range(family):
                msisdn, region = self._next_number(position)
                line_activated = activated if member == 0 else max(activated, self.activation(history_start))
                old_customer = (self.config.window_start - line_activated.date()).days > 2 * 365
                if old_customer and rng.random() < 0.35:
                    tariff = "classic-2019"
                else:
                    tariff = rng.choices(INDIVIDUAL_TARIFFS, cum_weights=INDIVIDUAL_TARIFF_CUMULATIVE)[0]
                holder = "" if member == 0 else person_name(rng, language)[0]
                line = self.add_line(
                    account,
                    msisdn=msisdn,
                    region=region,
                    tariff=tariff,
                    activated=line_activated,
                    holder_name=holder,
                    language=language,
                )
                self._plan_line_services(line, language, quiet=abandons)
                position += 1
            if abandons:
                begins = max(history_start, activated.date())
                span = (self.config.today - begins).days
                if span > 2:
                    account.abandons_on = begins + timedelta(days=rng.randint(1, span - 1))

    def _plan_line_services(self, line: LinePlan, language: str, *, quiet: bool) -> None:
        rng = self.rng
        for service, percent in cat.STANDING_SERVICES:
            if rng.randrange(100) < percent:
                self.connect_standing(line, service)
        if any(p.service == "caller-id" for p in line.services) and rng.random() < 0.1:
            caller_id = next(p for p in line.services if p.service == "caller-id")
            # Who called needs caller ID, so it never outlives it.
            line.services.append(
                ServicePeriod(
                    "who-called", caller_id.connected + timedelta(minutes=10), caller_id.disconnected
                )
            )
        if quiet:
            return
        tariff = line.tariffs[-1].tariff
        if rng.random() < 0.07:
            self.change_tariff(line)
        elif tariff in cat.BUNDLE_TARIFFS and rng.random() < 0.18:
            self.buy_packs(line, rng.choice(("data-3gb", "data-3gb", "data-10gb")))
        if rng.random() < 0.03:
            self.buy_packs(line, rng.choice(("minutes-300", "sms-200")))
        if rng.random() < 0.04:
            self.plan_trip(line, ROAMING_BY_LANGUAGE[language])
        if rng.random() < 0.01:
            begins = self.history_begins(line).date()
            span = (self.config.today - begins).days
            if span > 2:
                line.block_by_subscriber_at = self.daytime(begins + timedelta(days=rng.randint(1, span - 1)))

    def _plan_companies(self) -> None:
        rng = self.rng
        sizes = self._company_sizes()
        position = self.config.lines
        start = self.config.window_start
        for (name, language, tax_id, first_number), size in zip(COMPANIES, sizes, strict=True):
            created = self.daytime(start - timedelta(days=rng.randint(200, 900)))
            customer = self.add_customer(
                kind="organization",
                name=name,
                email=f"billing{len(self.customers)}@example.com",
                language=language,
                tax_id=tax_id,
                created=created,
            )
            account = self.add_account(
                customer,
                kind="postpaid",
                credit_limit_minor=size * 150_000,
                created=created,
                history_start=start,
            )
            for member in range(size):
                msisdn, region = self._next_number(position)
                if member == 0 and first_number:
                    msisdn = first_number
                position += 1
                activated = self.daytime(created.date() + timedelta(days=rng.randint(0, 150)))
                line = self.add_line(
                    account,
                    msisdn=msisdn,
                    region=region,
                    tariff="business",
                    activated=activated,
                    holder_name=person_name(rng, language)[0],
                    language=language,
                )
                if rng.random() < 0.8:
                    self.connect_standing(line, "caller-id", during_history=False)
                if rng.random() < 0.3:
                    self.connect_standing(line, "voicemail")
                if rng.random() < 0.15:
                    self.buy_packs(line, "data-3gb")
                if rng.random() < 0.05:
                    self.plan_trip(line, ROAMING_BY_LANGUAGE[language])


def plan_population(config: DemoConfig) -> Population:
    return _Planner(config).plan()
