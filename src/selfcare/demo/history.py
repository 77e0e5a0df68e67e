"""The demo operator's money history, simulated day by day (pure Python, no database).

For each day and account, in time order: recurring tariff and service fees in the night, pack
purchases and black-list additions in the day, and the day's usage aggregated into one charge in the
late evening (the Usage issue replaces that with raw records rated by the engine). Usage first eats
packs (earliest expiry first), then the tariff's allowance; what remains is priced by the catalog's
rates. A prepaid account never goes below zero: its owner tops up by card before a charge the
balance cannot cover, except the few who stop paying, whose lines end blocked for debt. The company
pays its postpaid bill by bank transfer and before reaching its credit limit.

The simulation yields `MoneyEvent`s in posting order (per account chronological) and keeps the final
balance of every ledger account, so a test can recompute what the database must hold.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from selfcare.demo import catalog_data as cat
from selfcare.demo.population import AccountPlan, BlackListPlan, LinePlan, Population, ServicePeriod

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
    usage: bool = False  # usage that already happened may use the account's overdraft room


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


@dataclass(slots=True)
class _AccountState:
    code: str
    balance: int = 0
    last_at: datetime | None = None
    opened: bool = False


class Simulation:
    """Iterate `events()` once; afterwards `balances` holds every ledger account's final balance."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self.config = population.config
        self.rng = random.Random(self.config.seed ^ 0x5EED)
        self.tz = ZoneInfo(self.config.time_zone)
        self.balances: dict[str, int] = defaultdict(int)
        self.counts: dict[str, int] = defaultdict(int)
        self._serial = 0
        self._pending: list[MoneyEvent] = []
        self._accounts = [_AccountState(customer_code(a.number)) for a in population.accounts]
        self._lines = [self._initial_line_state(line) for line in population.lines]

    # --- setup --------------------------------------------------------------------------------
    def _at(self, day: date, seconds: int) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.tz) + timedelta(seconds=seconds)

    def _initial_line_state(self, line: LinePlan) -> _LineState:
        account = self.population.accounts[line.account]
        begins = max(self._at(account.history_start, 0), line.activated_at)
        state = _LineState(begins=begins, packs=[])
        first = line.tariffs[0]
        if first.started < begins:
            # The history opens in the middle of a fee period: part of the allowance is already used.
            spec = cat.TARIFF_BY_CODE[line.tariff_on(begins)]
            share = self.rng.uniform(0.2, 1.0)
            state.voice_s = int(spec.voice_s * share)
            state.sms = int(spec.sms * share)
            state.data_bytes = int(spec.data_bytes * share)
        return state

    # --- the day loop -------------------------------------------------------------------------
    def events(self) -> Iterator[MoneyEvent]:
        day = self.config.window_start
        while day < self.config.today:
            for account in self.population.accounts:
                if day >= account.history_start:
                    self._simulate_account_day(account, day)
                    if self._pending:
                        yield from self._pending
                        self._pending.clear()
            day += timedelta(days=1)

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
        if rng.random() < line.profile.active_share:
            plan.append((self._at(day, 23 * 3600 + 50 * 60 + rng.randint(0, 540)), 5, "usage", line, day))

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
            assert isinstance(payload, date)
            self._usage(account, state, at, line, payload)

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
        usage: bool = False,
    ) -> None:
        # Keep each account's history in time order even when a top-up was slotted in before a charge.
        when = at if state.last_at is None or at >= state.last_at else state.last_at
        state.last_at = when
        self.balances[source] -= amount
        self.balances[target] += amount
        self.counts[kind] += 1
        self._pending.append(
            MoneyEvent(
                kind, when, amount, source, target, self._next_key(), cause_type, cause_id, memo, usage
            )
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

    def _afford(
        self, account: AccountPlan, state: _AccountState, at: datetime, amount: int, *, usage: bool
    ) -> int:
        """How much of `amount` can be charged now, topping up or paying first when the customer would."""
        if account.kind == "postpaid":
            room = state.balance + account.credit_limit_minor
            if room < amount:
                # The company's accountant pays ahead of the limit, in round sums.
                short = amount - room + account.credit_limit_minor // 2
                steps = -(-short // PAYMENT_STEP_MINOR)
                self._transfer(
                    state, at - timedelta(minutes=30), steps * PAYMENT_STEP_MINOR, memo="Advance payment"
                )
            return amount
        if state.balance >= amount:
            return amount
        if self._abandoned(account, at.date()):
            # Usage already happened on the network; in this simulation the line is cut off when the money
            # runs out, so only what is left is charged. Fees are refused.
            return min(amount, state.balance) if usage else 0
        short = amount - state.balance
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
        usage: bool = False,
    ) -> bool:
        charged = self._afford(account, state, at, amount, usage=usage)
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
            usage=usage,
        )
        return True

    def _block(self, line: LinePlan, at: datetime, status: str) -> None:
        self._lines[line.index].blocked = True
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
        line_state = self._lines[line.index]
        line_state.voice_s, line_state.sms, line_state.data_bytes = spec.voice_s, spec.sms, spec.data_bytes

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

    def _usage(
        self, account: AccountPlan, state: _AccountState, at: datetime, line: LinePlan, day: date
    ) -> None:
        rng = self.rng
        profile = line.profile
        line_state = self._lines[line.index]
        spec = cat.TARIFF_BY_CODE[line.tariff_on(at)]
        if line_state.packs:
            line_state.packs = [pack for pack in line_state.packs if pack.expires > at]
        trip = line.trip
        cost = 0
        abroad_min = 0
        if trip is not None and trip.start <= day < trip.start + timedelta(days=trip.days):
            zone = trip.zone
            voice_min = int(rng.expovariate(2 / max(profile.voice_min_mean, 1.0)))
            sms = int(rng.expovariate(1.0))
            data_mb = int(rng.expovariate(1 / 180))
            left_s = self._consume(line_state, at, "voice_s", voice_min * 60, zone)
            cost += -(-left_s // 60) * spec.rate_minor("voice", "roaming", zone)
            cost += self._consume(line_state, at, "sms", sms, zone) * spec.rate_minor("sms", "roaming", zone)
            left_bytes = self._consume(line_state, at, "data_bytes", data_mb * MB, zone)
            cost += -(-left_bytes // MB) * spec.rate_minor("data", "roaming", zone)
            memo = f"{day.isoformat()} in roaming: {voice_min} min, {sms} SMS, {data_mb} MB"
        else:
            voice_min = int(rng.expovariate(1 / profile.voice_min_mean))
            sms = int(rng.expovariate(1 / profile.sms_mean))
            data_mb = int(rng.expovariate(1 / profile.data_mb_mean))
            on_net = voice_min * 35 // 100
            landline = voice_min * 12 // 100
            for usage_class, minutes in (
                ("on_net", on_net),
                ("off_net", voice_min - on_net - landline),
                ("landline", landline),
            ):
                left_s = self._consume(line_state, at, "voice_s", minutes * 60, None)
                cost += -(-left_s // 60) * spec.rate_minor("voice", usage_class)
            sms_on = sms // 3
            for usage_class, count in (("on_net", sms_on), ("off_net", sms - sms_on)):
                cost += self._consume(line_state, at, "sms", count, None) * spec.rate_minor(
                    "sms", usage_class
                )
            left_bytes = self._consume(line_state, at, "data_bytes", data_mb * MB, None)
            cost += -(-left_bytes // MB) * spec.rate_minor("data", "home")
            if rng.random() < profile.intl_share:
                abroad_min = rng.randint(1, 10)
                cost += abroad_min * spec.rate_minor("voice", "international", profile.intl_zone)
            memo = f"{day.isoformat()}: {voice_min} min, {sms} SMS, {data_mb} MB"
            if abroad_min:
                memo += f", {abroad_min} min abroad"
        if cost <= 0:
            return
        self._debit(
            account,
            state,
            kind=KIND_USAGE,
            at=at,
            amount=cost,
            revenue=REVENUE_USAGE,
            cause_type="usage_day",
            cause_id=f"{line.msisdn}/{day.isoformat()}",
            memo=memo,
            usage=True,
        )
