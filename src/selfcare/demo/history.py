"""The demo operator's money and usage history, simulated day by day (pure Python, no database).

For each day and account, in time order: recurring tariff and service fees in the night, pack
purchases and black-list additions in the day, and the day's usage as raw usage records (calls out and
in, SMS out and in, data sessions; at home to on-net, off-net, landline and international numbers, or
in roaming), which the caller rates through the usage engine (`usage.services.rate_batch`) and whose
prices it hands back with `settle`. The simulation never prices usage itself except to decide when a
customer tops up: it keeps a model of the engine's buckets (packs first, earliest expiry, then the
tariff's allowance per calendar period) to estimate what the day's records will cost, and a prepaid
owner tops up by card before the day's usage when the balance would not cover that estimate; the
actual prices come back from the engine, so balances are always exact. The few who stop paying have
their lines blocked for debt when the money runs out. The company pays its postpaid bill by bank
transfer and before reaching its credit limit.

`days()` yields one `Day` at a time: its money events (to post before the usage), its usage records
(chronological within each line) and the lines whose status changed; the caller must `settle` each
day with the records' prices before asking for the next one. `balances` then holds every ledger
account's final balance.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from selfcare.demo import catalog_data as cat
from selfcare.demo.population import AccountPlan, BlackListPlan, LinePlan, Population, ServicePeriod
from selfcare.usage.engine.inputs import UsageInput

REVENUE_USAGE = "revenue:usage"
REVENUE_FEES = "revenue:fees"
CLEARING_CARDS = "clearing:fake"
CLEARING_BANK = "clearing:bank"
SYSTEM_ACCOUNTS = {
    REVENUE_USAGE: "Usage revenue",
    REVENUE_FEES: "Tariff and service fees",
    CLEARING_CARDS: "Card payments (fake provider)",
    CLEARING_BANK: "Bank transfers",
}

KIND_TOPUP = "topup"
KIND_PAYMENT = "payment"
KIND_TARIFF_FEE = "tariff_fee"
KIND_SERVICE_FEE = "service_fee"
KIND_USAGE = "usage"

MB = cat.MB
DATA_BLOCK_BYTES = 102_400  # the catalog's default data rounding (per 100 KB)
# Where the records come from: one network element per kind, as an operator's mediation would name them.
SOURCE_VOICE = "msc-1"
SOURCE_SMS = "smsc-1"
SOURCE_DATA = "pgw-1"
# Usage happens in the waking hours of the day (07:00-23:55 local), after the night's fees.
USAGE_FROM_S = 7 * 3600
USAGE_UNTIL_S = 23 * 3600 + 55 * 60
# Records per active line-day, about 4 on average (the seeding time budget): at most this many outgoing
# calls a day on average (heavy talkers make longer calls instead), half as many incoming, a few SMS,
# and one data session (rarely two) carrying the day's volume.
MAX_CALLS_MEAN = 1.2
INCOMING_CALLS_SHARE = 0.5
SMS_OUT_SHARE = 0.7
SMS_IN_SHARE = 0.5
EXTRA_DATA_SESSIONS_MEAN = 0.2
HIDDEN_CALLER_SHARE = 0.03
BLACK_LISTED_CALL_SHARE = 0.12  # of a guarded line's active days: a call or SMS from a listed number
TOPUP_STEP_MINOR = 10_000  # top-ups are round sums
PAYMENT_STEP_MINOR = 1_000_000  # company transfers too


def customer_code(account_number: str) -> str:
    # The same code selfcare.lines.services.open_account gives an account's ledger account.
    return f"customer:{account_number}"


@dataclass(frozen=True, slots=True)
class MoneyEvent:
    kind: str
    at: datetime
    amount_minor: int  # > 0, moves from `source` to `target`
    source: str  # ledger code
    target: str  # ledger code
    key: str
    cause_type: str
    cause_id: str
    memo: str


@dataclass(slots=True)
class _Pack:
    expires: datetime
    voice_s: int
    sms: int
    data_bytes: int
    zone: str | None


@dataclass(slots=True)
class _LineState:
    begins: datetime
    voice_s: int = 0
    sms: int = 0
    data_bytes: int = 0
    blocked: bool = False
    packs: list[_Pack] | None = None
    period: tuple[str, date | None] | None = None  # the tariff bucket period the allowance counters are for


@dataclass(slots=True)
class _AccountState:
    code: str
    balance: int = 0
    last_at: datetime | None = None
    opened: bool = False
    reserved: int = 0  # what today's usage records are expected to cost, until the engine prices them


@dataclass(slots=True)
class Day:
    """One simulated day: post `events`, rate `records`, then `Simulation.settle` it."""

    day: date
    events: list[MoneyEvent] = field(default_factory=list)
    records: list[UsageInput] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)  # the account (plan index) of each record
    blocked_lines: list[int] = field(default_factory=list)  # line indices whose status changed today
    settled: bool = False


class Simulation:
    """Iterate `events()` once; afterwards `balances` holds every ledger account's final balance."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self.config = population.config
        self.rng = random.Random(self.config.seed ^ 0x5EED)
        self.tz = ZoneInfo(self.config.time_zone)
        self.balances: dict[str, int] = defaultdict(int)
        self.counts: dict[str, int] = defaultdict(int)
        self.usage_minor = 0  # what the engine charged for usage, in total
        self.usage_records = 0
        self.refused_records = 0
        self._serial = 0
        self._day = Day(self.config.window_start)
        self._reserved: set[int] = set()
        self._accounts = [_AccountState(customer_code(a.number)) for a in population.accounts]
        self._lines = [self._initial_line_state(line) for line in population.lines]
        self._own_prefix = {region.code: region.own_prefix for region in cat.REGIONS}
        self._own_prefixes = tuple(region.own_prefix for region in cat.REGIONS)
        self._landline = {region.code: region.landline_prefixes for region in cat.REGIONS}
        self._other_mobile = tuple(prefix for prefix, _holder in cat.OTHER_MOBILE_RANGES)
        self._international = {zone.code: zone.prefixes for zone in cat.ZONES}

    # --- setup --------------------------------------------------------------------------------
    def _at(self, day: date, seconds: int) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.tz) + timedelta(seconds=seconds)

    def _initial_line_state(self, line: LinePlan) -> _LineState:
        account = self.population.accounts[line.account]
        begins = max(self._at(account.history_start, 0), line.activated_at)
        # The engine opens a tariff bucket full when first used, so the model starts with none used.
        return _LineState(begins=begins, packs=[])

    # --- the day loop -------------------------------------------------------------------------
    def days(self) -> Iterator[Day]:
        """Each simulated day in turn; `settle` it (with the engine's prices) before taking the next."""
        day = self.config.window_start
        while day < self.config.today:
            self._day = current = Day(day)
            for account in self.population.accounts:
                if day >= account.history_start:
                    self._simulate_account_day(account, day)
            yield current
            if not current.settled:
                raise RuntimeError("settle() each day with its records' prices before the next one")
            day += timedelta(days=1)

    def settle(self, day: Day, prices: Sequence[int | None]) -> None:
        """Take the engine's price of each of the day's records (None: refused) off the balances."""
        if len(prices) != len(day.records):
            raise ValueError("one price per record")
        charged: dict[int, int] = defaultdict(int)
        for account_index, price in zip(day.accounts, prices, strict=True):
            if price is None:
                self.refused_records += 1
            elif price:
                charged[account_index] += price
        for account_index, amount in charged.items():
            state = self._accounts[account_index]
            state.balance -= amount
            self.balances[state.code] -= amount
            self.balances[REVENUE_USAGE] += amount
            self.usage_minor += amount
        for account_index in self._reserved:
            self._accounts[account_index].reserved = 0
        self._reserved.clear()
        self.usage_records += len(day.records)
        day.settled = True

    def _simulate_account_day(self, account: AccountPlan, day: date) -> None:
        state = self._accounts[account.index]
        day_start = self._at(day, 0)
        day_end = day_start + timedelta(days=1)
        plan: list[tuple[datetime, int, str, LinePlan | None, object]] = []
        active_lines = 0
        for line_index in account.lines:
            line = self.population.lines[line_index]
            line_state = self._lines[line_index]
            if line_state.begins >= day_end or line_state.blocked:
                continue
            active_lines += 1
            self._plan_line_day(line, line_state, day, day_start, day_end, plan)
        if not active_lines:
            return
        if not state.opened:
            state.opened = True
            if account.kind == "prepaid":
                first = min(self._lines[i].begins for i in account.lines)
                amount = account.topup_minor * self.rng.choice((1, 1, 2))
                plan.append((max(first, day_start), -1, "topup", None, amount))
        if account.kind == "prepaid":
            if not self._abandoned(account, day) and self.rng.random() < 0.04:
                plan.append((self._at(day, self.rng.randint(8 * 3600, 22 * 3600)), 0, "topup", None, 0))
        elif day.day == 5 and state.balance < 0:
            plan.append((self._at(day, 11 * 3600), 0, "invoice_payment", None, 0))
        plan.sort(key=lambda item: (item[0], item[1]))
        for at, _order, action, subject, payload in plan:
            if subject is not None and self._lines[subject.index].blocked:
                continue
            self._apply(account, state, at, action, subject, payload)

    def _plan_line_day(
        self,
        line: LinePlan,
        state: _LineState,
        day: date,
        day_start: datetime,
        day_end: datetime,
        plan: list[tuple[datetime, int, str, LinePlan | None, object]],
    ) -> None:
        rng = self.rng
        begins = state.begins
        night = day_start + timedelta(seconds=rng.randint(60, 3000))
        # Tariff: a period starting today (activation or change) is charged when it starts.
        current = line.tariff_on(day_start)
        started_before = line.tariffs[0].started < day_start
        if started_before and day_start >= begins:
            spec = cat.TARIFF_BY_CODE[current]
            if spec.fee_period == "daily" or (spec.fee_period == "monthly" and day.day == line.bill_day):
                plan.append((night, 1, "tariff_fee", line, current))
        for tariff_period in line.tariffs:
            if day_start <= tariff_period.started < day_end and tariff_period.started >= begins:
                plan.append(
                    (
                        tariff_period.started + timedelta(seconds=60),
                        1,
                        "tariff_fee",
                        line,
                        tariff_period.tariff,
                    )
                )
        # Services.
        for period in line.services:
            service = cat.SERVICE_BY_CODE[period.service]
            if day_start <= period.connected < day_end:
                if period.connected >= begins:
                    plan.append((period.connected, 2, "connect", line, period))
            elif period.connected < day_start and (
                period.disconnected is None or period.disconnected > day_start
            ):
                if day_start < begins:
                    continue
                if service.fee_period == "daily" or (
                    service.fee_period == "monthly" and day.day == line.bill_day
                ):
                    plan.append((night + timedelta(seconds=1), 2, "service_fee", line, period))
        for entry in line.black_list:
            if day_start <= entry.added < day_end and entry.added >= begins:
                plan.append((entry.added, 3, "black_list_entry", line, entry))
        if line.block_by_subscriber_at is not None and day_start <= line.block_by_subscriber_at < day_end:
            plan.append((line.block_by_subscriber_at, 4, "block_by_subscriber", line, None))
        # Usage in the waking hours, after the line begins or moves to today's new tariff (the engine
        # rates by the line's tariff at rating time) and before the subscriber blocks it.
        lo = max(self._at(day, USAGE_FROM_S), begins + timedelta(minutes=1))
        hi = self._at(day, USAGE_UNTIL_S)
        for tariff_period in line.tariffs[1:]:
            if day_start <= tariff_period.started < day_end:
                lo = max(lo, tariff_period.started + timedelta(minutes=2))
        if line.block_by_subscriber_at is not None and day_start <= line.block_by_subscriber_at < day_end:
            hi = min(hi, line.block_by_subscriber_at - timedelta(minutes=1))
        if rng.random() < line.profile.active_share and hi - lo >= timedelta(minutes=10):
            plan.append((lo, 5, "usage", line, (lo, hi)))

    # --- actions ------------------------------------------------------------------------------
    def _abandoned(self, account: AccountPlan, day: date) -> bool:
        return account.abandons_on is not None and day >= account.abandons_on

    def _apply(
        self,
        account: AccountPlan,
        state: _AccountState,
        at: datetime,
        action: str,
        line: LinePlan | None,
        payload: object,
    ) -> None:
        if action == "topup":
            amount = payload if isinstance(payload, int) and payload > 0 else account.topup_minor
            self._topup(account, state, at, amount, memo="Top-up by card")
        elif action == "invoice_payment":
            amount = -state.balance
            self._transfer(state, at, amount, memo="Payment of the monthly bill")
        elif action == "tariff_fee":
            assert line is not None
            assert isinstance(payload, str)
            self._charge_tariff(account, state, at, line, payload)
        elif action == "connect":
            assert line is not None
            self._connect(account, state, at, line, payload)
        elif action == "service_fee":
            assert line is not None
            self._service_fee(account, state, at, line, payload)
        elif action == "black_list_entry":
            assert line is not None
            self._black_list_entry(account, state, at, line, payload)
        elif action == "block_by_subscriber":
            assert line is not None
            self._block(line, at, "blocked_subscriber")
        elif action == "usage":
            assert line is not None
            assert isinstance(payload, tuple)
            self._usage(account, state, line, *payload)

    def _next_key(self) -> str:
        self._serial += 1
        return f"demo:{self.config.seed}:{self._serial:09d}"

    def _emit(
        self,
        state: _AccountState,
        *,
        kind: str,
        at: datetime,
        amount: int,
        source: str,
        target: str,
        cause_type: str,
        cause_id: str,
        memo: str,
    ) -> None:
        # Keep each account's history in time order even when a top-up was slotted in before a charge.
        when = at if state.last_at is None or at >= state.last_at else state.last_at
        state.last_at = when
        self.balances[source] -= amount
        self.balances[target] += amount
        self.counts[kind] += 1
        self._day.events.append(
            MoneyEvent(kind, when, amount, source, target, self._next_key(), cause_type, cause_id, memo)
        )

    def _topup(
        self, account: AccountPlan, state: _AccountState, at: datetime, amount: int, *, memo: str
    ) -> None:
        state.balance += amount
        self._emit(
            state,
            kind=KIND_TOPUP,
            at=at,
            amount=amount,
            source=CLEARING_CARDS,
            target=state.code,
            cause_type="payment",
            cause_id=f"demo-card-{self._serial + 1}",
            memo=memo,
        )

    def _transfer(self, state: _AccountState, at: datetime, amount: int, *, memo: str) -> None:
        if amount <= 0:
            return
        state.balance += amount
        self._emit(
            state,
            kind=KIND_PAYMENT,
            at=at,
            amount=amount,
            source=CLEARING_BANK,
            target=state.code,
            cause_type="bank_transfer",
            cause_id=f"demo-bank-{self._serial + 1}",
            memo=memo,
        )

    def _afford(self, account: AccountPlan, state: _AccountState, at: datetime, amount: int) -> int:
        """How much of `amount` can be charged now, topping up or paying first when the customer would.

        What today's usage records are expected to cost is set aside: the engine charges it later.
        """
        available = state.balance - state.reserved
        if account.kind == "postpaid":
            room = available + account.credit_limit_minor
            if room < amount:
                # The company's accountant pays ahead of the limit, in round sums.
                short = amount - room + account.credit_limit_minor // 2
                steps = -(-short // PAYMENT_STEP_MINOR)
                self._transfer(
                    state, at - timedelta(minutes=30), steps * PAYMENT_STEP_MINOR, memo="Advance payment"
                )
            return amount
        if available >= amount:
            return amount
        if self._abandoned(account, at.date()):
            # No more top-ups: fees are refused, and usage stops (the lines are cut off for debt).
            return 0
        short = amount - available
        topup = max(account.topup_minor, -(-short // TOPUP_STEP_MINOR) * TOPUP_STEP_MINOR)
        self._topup(account, state, at - timedelta(minutes=1), topup, memo="Top-up by card (auto)")
        return amount

    def _debit(
        self,
        account: AccountPlan,
        state: _AccountState,
        *,
        kind: str,
        at: datetime,
        amount: int,
        revenue: str,
        cause_type: str,
        cause_id: str,
        memo: str,
    ) -> bool:
        charged = self._afford(account, state, at, amount)
        if charged <= 0:
            return False
        state.balance -= charged
        self._emit(
            state,
            kind=kind,
            at=at,
            amount=charged,
            source=state.code,
            target=revenue,
            cause_type=cause_type,
            cause_id=cause_id,
            memo=memo,
        )
        return True

    def _block(self, line: LinePlan, at: datetime, status: str) -> None:
        self._lines[line.index].blocked = True
        self._day.blocked_lines.append(line.index)
        line.status = status
        line.status_changed_at = at

    def _block_account_for_debt(self, account: AccountPlan, at: datetime) -> None:
        for index in account.lines:
            line = self.population.lines[index]
            if not self._lines[index].blocked and self._lines[index].begins <= at:
                self._block(line, at, "blocked_debt")

    def _charge_tariff(
        self, account: AccountPlan, state: _AccountState, at: datetime, line: LinePlan, tariff: str
    ) -> None:
        spec = cat.TARIFF_BY_CODE[tariff]
        if spec.fee_minor:
            paid = self._debit(
                account,
                state,
                kind=KIND_TARIFF_FEE,
                at=at,
                amount=spec.fee_minor,
                revenue=REVENUE_FEES,
                cause_type="tariff_fee",
                cause_id=f"{line.msisdn}/{tariff}/{at.date().isoformat()}",
                memo=f"{spec.name['en']}: {'daily' if spec.fee_period == 'daily' else 'monthly'} fee",
            )
            if not paid:
                self._block_account_for_debt(account, at)
                return

    def _connect(
        self, account: AccountPlan, state: _AccountState, at: datetime, line: LinePlan, payload: object
    ) -> None:
        period = payload
        assert isinstance(period, ServicePeriod)
        spec = cat.SERVICE_BY_CODE[period.service]
        for amount, what in ((spec.connect_fee_minor, "connection"), (spec.fee_minor, "first period")):
            if not amount:
                continue
            paid = self._debit(
                account,
                state,
                kind=KIND_SERVICE_FEE,
                at=at,
                amount=amount,
                revenue=REVENUE_FEES,
                cause_type="service_connect",
                cause_id=f"{line.msisdn}/{spec.code}/{at.date().isoformat()}",
                memo=f"{spec.name['en']}: {what}",
            )
            if not paid:
                period.refused = True
                return
        if spec.validity_days:
            packs = self._lines[line.index].packs
            assert packs is not None
            packs.append(
                _Pack(
                    at + timedelta(days=spec.validity_days),
                    spec.voice_s,
                    spec.sms,
                    spec.data_bytes,
                    spec.zone,
                )
            )
            packs.sort(key=lambda pack: pack.expires)

    def _service_fee(
        self, account: AccountPlan, state: _AccountState, at: datetime, line: LinePlan, payload: object
    ) -> None:
        period = payload
        assert isinstance(period, ServicePeriod)
        if period.refused:
            return
        spec = cat.SERVICE_BY_CODE[period.service]
        if not spec.fee_minor:
            return
        paid = self._debit(
            account,
            state,
            kind=KIND_SERVICE_FEE,
            at=at,
            amount=spec.fee_minor,
            revenue=REVENUE_FEES,
            cause_type="service_fee",
            cause_id=f"{line.msisdn}/{spec.code}/{at.date().isoformat()}",
            memo=f"{spec.name['en']}: {'daily' if spec.fee_period == 'daily' else 'monthly'} fee",
        )
        if not paid:
            self._block_account_for_debt(account, at)

    def _black_list_entry(
        self, account: AccountPlan, state: _AccountState, at: datetime, line: LinePlan, payload: object
    ) -> None:
        entry = payload
        assert isinstance(entry, BlackListPlan)
        fee = int(cat.SERVICE_BY_CODE["black-list"].parameters["entry_fee_minor"])
        paid = self._debit(
            account,
            state,
            kind=KIND_SERVICE_FEE,
            at=at,
            amount=fee,
            revenue=REVENUE_FEES,
            cause_type="black_list_entry",
            cause_id=f"{line.msisdn}/{entry.msisdn}",
            memo="Black list: number added",
        )
        if not paid:
            entry.refused = True

    # --- usage --------------------------------------------------------------------------------
    def _consume(
        self, line_state: _LineState, at: datetime, field: str, amount: int, zone: str | None
    ) -> int:
        """Take `amount` from packs (earliest expiry first) then, at home, the tariff; return the rest."""
        packs = line_state.packs or []
        for pack in packs:
            if amount <= 0:
                break
            if pack.expires <= at or pack.zone != zone:
                continue
            have = getattr(pack, field)
            take = have if have < amount else amount
            if take:
                setattr(pack, field, have - take)
                amount -= take
        if zone is None and amount > 0:
            have = getattr(line_state, field)
            take = have if have < amount else amount
            setattr(line_state, field, have - take)
            amount -= take
        return amount

    def _refresh_allowance(self, line_state: _LineState, tariff: str, day: date) -> None:
        """Full counters at each bucket period of the engine: calendar month or day, or a new tariff."""
        spec = cat.TARIFF_BY_CODE[tariff]
        if spec.fee_period == "monthly":
            period: tuple[str, date | None] = (tariff, day.replace(day=1))
        elif spec.fee_period == "daily":
            period = (tariff, day)
        else:
            period = (tariff, None)
        if line_state.period != period:
            line_state.period = period
            line_state.voice_s, line_state.sms, line_state.data_bytes = (
                spec.voice_s,
                spec.sms,
                spec.data_bytes,
            )

    def _number(self, usage_class: str, region: str, zone: str = "") -> str:
        rng = self.rng
        if usage_class == "on_net":
            prefix = self._own_prefix[region] if rng.random() < 0.7 else rng.choice(self._own_prefixes)
        elif usage_class == "off_net":
            prefix = rng.choice(self._other_mobile)
        elif usage_class == "landline":
            prefix = rng.choice(self._landline[region])
        else:
            return f"+{rng.choice(self._international[zone])}{rng.randrange(10**9):09d}"
        return f"+{prefix}{rng.randrange(10**7):07d}"

    def _home_class(self) -> str:
        draw = self.rng.random()
        return "on_net" if draw < 0.38 else "off_net" if draw < 0.86 else "landline"

    def _guarded_numbers(self, line: LinePlan, lo: datetime) -> list[str]:
        """Listed numbers the engine refuses today: the Black list service is on all day long."""
        day_end = self._at(lo.date() + timedelta(days=1), 0)
        guarded = any(
            period.service == "black-list"
            and not period.refused
            and period.connected <= lo
            and (period.disconnected is None or period.disconnected >= day_end)
            for period in line.services
        )
        if not guarded:
            return []
        return [entry.msisdn for entry in line.black_list if not entry.refused and entry.added < lo]

    def _usage(
        self, account: AccountPlan, state: _AccountState, line: LinePlan, lo: datetime, hi: datetime
    ) -> None:
        """The line's raw usage records of the day, and a top-up first if they may cost more than is left."""
        rng = self.rng
        profile = line.profile
        line_state = self._lines[line.index]
        tariff = line.tariff_on(lo)
        spec = cat.TARIFF_BY_CODE[tariff]
        self._refresh_allowance(line_state, tariff, lo.date())
        if line_state.packs:
            line_state.packs = [pack for pack in line_state.packs if pack.expires > lo]
        per_second = spec.voice_rounding == "per_second"
        span = int((hi - lo).total_seconds())
        # Record ids sort like the records' start times (day, second of the day): the engine's unique
        # index then grows at its end, as it does with a network's own sequential ids.
        prefix = f"{lo.date().toordinal()}."
        suffix = f".{line.index}."
        base = int((lo - self._at(lo.date(), 0)).total_seconds())
        msisdn = line.msisdn
        records: list[UsageInput] = []
        cost = 0

        def moment() -> tuple[str, datetime]:
            offset = rng.randrange(span)
            return f"{prefix}{base + offset:05d}{suffix}{len(records)}", lo + timedelta(seconds=offset)

        def voice(
            kind: str, seconds: int, usage_class: str, zone: str, counterparty: str, roaming: str
        ) -> None:
            nonlocal cost
            record_id, started_at = moment()
            records.append(
                UsageInput(
                    SOURCE_VOICE,
                    record_id,
                    kind,
                    msisdn,
                    started_at,
                    duration_s=seconds,
                    counterparty=counterparty,
                    roaming_zone=roaming,
                )
            )
            if kind == "voice_in" and not roaming:
                return  # incoming calls at home are free
            units = seconds if per_second else -(-seconds // 60) * 60
            if usage_class == "international":
                left = units
            else:
                left = self._consume(line_state, lo, "voice_s", units, roaming or None)
            cost += -(-left * spec.rate_minor("voice", usage_class, zone or None) // 60)

        def sms(kind: str, usage_class: str, zone: str, counterparty: str, roaming: str) -> None:
            nonlocal cost
            record_id, started_at = moment()
            records.append(
                UsageInput(
                    SOURCE_SMS,
                    record_id,
                    kind,
                    msisdn,
                    started_at,
                    counterparty=counterparty,
                    roaming_zone=roaming,
                )
            )
            if kind == "sms_in":
                return  # incoming SMS are free everywhere
            left = (
                1
                if usage_class == "international"
                else self._consume(line_state, lo, "sms", 1, roaming or None)
            )
            cost += left * spec.rate_minor("sms", usage_class, zone or None)

        def data(volume: int, roaming: str) -> None:
            nonlocal cost
            record_id, started_at = moment()
            records.append(
                UsageInput(
                    SOURCE_DATA, record_id, "data", msisdn, started_at, volume_bytes=volume,
                    roaming_zone=roaming,
                )
            )  # fmt: skip
            units = -(-volume // DATA_BLOCK_BYTES) * DATA_BLOCK_BYTES
            left = self._consume(line_state, lo, "data_bytes", units, roaming or None)
            rate = spec.rate_minor("data", "roaming", roaming) if roaming else spec.rate_minor("data", "home")
            cost += -(-left * rate // MB)

        trip = line.trip
        day = lo.date()
        if trip is not None and trip.start <= day < trip.start + timedelta(days=trip.days):
            zone = trip.zone
            for _ in range(_count(rng, 1.5)):
                usage_class = self._home_class()
                seconds = 5 + int(rng.expovariate(1 / 180))
                voice("voice_out", seconds, "roaming", zone, self._number(usage_class, line.region), zone)
            for _ in range(_count(rng, 1.2)):
                seconds = 5 + int(rng.expovariate(1 / 150))
                voice("voice_in", seconds, "roaming", zone, self._number("on_net", line.region), zone)
            for _ in range(_count(rng, 1.0)):
                sms("sms_out", "roaming", zone, self._number(self._home_class(), line.region), zone)
            for _ in range(_count(rng, 1.0)):
                sms("sms_in", "roaming", zone, self._number("off_net", line.region), zone)
            total = rng.expovariate(1 / 60) * MB
            sessions = 1 + _count(rng, 1.5)
            for _ in range(sessions):
                data(int(total / sessions * rng.uniform(0.5, 1.5)), zone)
        else:
            calls_mean = min(profile.voice_min_mean * 60 / 150, MAX_CALLS_MEAN)
            call_mean_s = profile.voice_min_mean * 60 / calls_mean
            for _ in range(_count(rng, calls_mean)):
                usage_class = self._home_class()
                seconds = 3 + int(rng.expovariate(1 / call_mean_s))
                voice("voice_out", seconds, usage_class, "", self._number(usage_class, line.region), "")
            for _ in range(_count(rng, calls_mean * INCOMING_CALLS_SHARE)):
                hidden = rng.random() < HIDDEN_CALLER_SHARE
                caller = "" if hidden else self._number(self._home_class(), line.region)
                voice("voice_in", 3 + int(rng.expovariate(1 / call_mean_s)), "", "", caller, "")
            if rng.random() < profile.intl_share:
                zone = profile.intl_zone
                seconds = rng.randint(30, 600)
                voice(
                    "voice_out", seconds, "international", zone, self._number("international", "", zone), ""
                )
            for _ in range(_count(rng, profile.sms_mean * SMS_OUT_SHARE)):
                usage_class = "on_net" if rng.random() < 0.35 else "off_net"
                sms("sms_out", usage_class, "", self._number(usage_class, line.region), "")
            for _ in range(_count(rng, profile.sms_mean * SMS_IN_SHARE)):
                sms("sms_in", "", "", self._number(self._home_class(), line.region), "")
            total = rng.expovariate(1 / profile.data_mb_mean) * MB
            sessions = 1 + _count(rng, EXTRA_DATA_SESSIONS_MEAN)
            for _ in range(sessions):
                data(int(total / sessions * rng.uniform(0.5, 1.5)), "")
            if line.black_list and rng.random() < BLACK_LISTED_CALL_SHARE:
                listed = self._guarded_numbers(line, lo)
                if listed:
                    caller = rng.choice(listed)
                    if rng.random() < 0.6:
                        voice("voice_in", rng.randint(5, 90), "", "", caller, "")
                    else:
                        sms("sms_in", "", "", caller, "")
        if cost:
            if self._afford(account, state, lo, cost) <= 0:
                # Out of money and no longer paying: the operator cuts the lines off before any usage.
                self._block_account_for_debt(account, lo)
                return
            state.reserved += cost
            self._reserved.add(account.index)
        self._day.records.extend(records)
        self._day.accounts.extend([account.index] * len(records))


def _count(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth's method; the means here are small)."""
    limit = math.exp(-mean)
    count = 0
    product = rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
