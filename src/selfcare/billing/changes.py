"""Changes a subscriber makes to their line, with their money (docs/billing.md, "Product changes"):
change the tariff, connect and disconnect services, add numbers to the black list. (The voluntary
block costs nothing: lines.services.block_line_voluntarily / unblock_line_voluntarily.)

Each change has a preview (`preview_*`: what it would cost and why it would be refused, computed
exactly as the change itself computes it, and writing nothing) and an apply function that:

- takes an idempotency key: the request key is (line, key); a repeat finds the ProductChange row of
  the first call and returns what was applied, charging nothing again; the same key for a different
  change is refused (ChangeKeyReused);
- locks the customer's ledger account and the fee revenue account (ascending ids, the order of every
  ledger posting and of the fee job), then reads the line again and decides on what it reads under
  the lock: two concurrent changes of one account run one after the other, the second sees the
  first (no check-then-act);
- applies everything in one database transaction: the assignment (lines.services), the first
  period's fee as an ordinary FeeCharge (key `fee:<line>:<kind>:<product>:<period start>`, so the
  fee job never charges that period again), the one-off fee (key `change:<line>:<caller's key>:<part>`),
  both with FloorRule.ENFORCE, the buckets (usage.services.grant_buckets), the ProductChange row and
  an audit row. A refused change raises its typed error and writes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from django.conf import settings
from django.db import transaction
from django.utils.translation import get_language, ngettext, to_locale
from django.utils.translation import gettext as _

from selfcare.billing import queries as billing_queries
from selfcare.billing import services as billing_services
from selfcare.billing.errors import (
    BlackListNotAvailable,
    ChangeKeyReused,
    InsufficientBalance,
    InvalidRequestKey,
    TariffAlreadyCurrent,
    TariffClosed,
    TariffIncompatibleService,
)
from selfcare.billing.models import ChangeAction, FeeCharge, FeeStatus, ProductChange, ProductKind
from selfcare.billing.services import DueFee
from selfcare.catalog import queries as catalog_queries
from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError
from selfcare.kit.idempotency import InvalidIdempotencyKey, check_key
from selfcare.kit.money import format_money
from selfcare.ledger import queries as ledger_queries
from selfcare.ledger import services as ledger
from selfcare.ledger.errors import InsufficientFunds
from selfcare.lines import queries as lines_queries
from selfcare.lines import services as lines_services
from selfcare.lines.errors import (
    BlackListEntryNotFound,
    LineTerminated,
    ServiceAlreadyConnected,
)
from selfcare.usage import services as usage_services

if TYPE_CHECKING:
    from selfcare.catalog.models import Service, Tariff
    from selfcare.lines.models import BlackListEntry, Line

TARIFF = ChangeAction.TARIFF.value
CONNECT = ChangeAction.CONNECT.value
DISCONNECT = ChangeAction.DISCONNECT.value
BLACK_LIST_ADD = ChangeAction.BLACK_LIST_ADD.value

TERMINATED = "terminated"
BLACK_LIST_KIND = billing_queries.BLACK_LIST_KIND

# Ledger transaction kinds of the one-off fees (period fees are `tariff_fee` / `service_fee`).
KIND_TARIFF_CHANGE_FEE = "tariff_change_fee"
KIND_SERVICE_CONNECT_FEE = "service_connect_fee"
KIND_BLACK_LIST_ENTRY_FEE = "black_list_entry_fee"


@dataclass(frozen=True)
class ChangePreview:
    action: str  # "tariff" | "connect" | "disconnect" | "black_list_add"
    allowed: bool
    refusal_code: str  # "" when allowed; else the typed error's stable code
    refusal_message: str  # translated
    fee_today_minor: int  # period fee charged now (prorated or full, as billing decides)
    change_fee_minor: int  # tariff change fee / service connect fee / black-list entry fee
    total_minor: int
    balance_before_minor: int
    balance_after_minor: int
    effective_at: datetime  # now, or the next period start
    notes: list[str]  # translated plain sentences: what happens to remaining allowances, etc.


# --- Quotes: what a change would do, decided the same way by the preview and the change ------------


@dataclass
class _OneOff:
    kind: str  # ledger transaction kind
    part: str  # the last part of its idempotency key
    amount_minor: int
    memo: str


@dataclass
class _Quote:
    action: str
    product_kind: str
    product_id: int
    balance_minor: int
    floor_minor: int
    effective_at: datetime
    fees: list[DueFee] = field(default_factory=list)
    one_offs: list[_OneOff] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refusal: BusinessError | None = None
    # Black list: the normalised number, and the service the first number connects (None: connected).
    msisdn: str = ""
    connects: Service | None = None
    capacity: int | None = None
    # A service reconnected in a period it already paid: its buckets continue, not start again.
    period_already_paid: bool = False

    @property
    def fee_today_minor(self) -> int:
        return sum(fee.amount_minor for fee in self.fees)

    @property
    def change_fee_minor(self) -> int:
        return sum(item.amount_minor for item in self.one_offs)

    @property
    def total_minor(self) -> int:
        return self.fee_today_minor + self.change_fee_minor

    def preview(self) -> ChangePreview:
        if self.refusal is not None:
            return ChangePreview(
                action=self.action,
                allowed=False,
                refusal_code=self.refusal.code,
                refusal_message=self.refusal.render_message(),
                fee_today_minor=self.fee_today_minor,
                change_fee_minor=self.change_fee_minor,
                total_minor=self.total_minor,
                balance_before_minor=self.balance_minor,
                balance_after_minor=self.balance_minor,
                effective_at=self.effective_at,
                notes=list(self.notes),
            )
        return ChangePreview(
            action=self.action,
            allowed=True,
            refusal_code="",
            refusal_message="",
            fee_today_minor=self.fee_today_minor,
            change_fee_minor=self.change_fee_minor,
            total_minor=self.total_minor,
            balance_before_minor=self.balance_minor,
            balance_after_minor=self.balance_minor - self.total_minor,
            effective_at=self.effective_at,
            notes=list(self.notes),
        )


def _money(amount_minor: int) -> str:
    return format_money(amount_minor, settings.SELFCARE_CURRENCY, get_language() or settings.LANGUAGE_CODE)


def _new_quote(line: Line, action: str, product_kind: str, product_id: int, now: datetime) -> _Quote:
    return _Quote(
        action=action,
        product_kind=product_kind,
        product_id=product_id,
        balance_minor=ledger_queries.get_balance_minor(line.account.ledger_account_id),
        floor_minor=-int(line.account.credit_limit_minor),
        effective_at=now,
    )


def _check_money(quote: _Quote) -> None:
    room = quote.balance_minor - quote.floor_minor
    if quote.total_minor > room:
        raise InsufficientBalance(missing=_money(quote.total_minor - room))


def _period_fee(
    line: Line, product_kind: str, product_id: int, *, fee_minor: int, fee_period: str, today: date
) -> tuple[DueFee | None, bool]:
    """The fee of the current period a product starting today pays now, and whether that period is
    already paid (a product taken again in the same period is not charged again, docs/billing.md)."""
    due = billing_services.first_period_fee(
        product_kind, product_id, fee_minor=fee_minor, fee_period=fee_period, since=today
    )
    if due is None:
        return None, False
    if FeeCharge.objects.filter(
        line_id=line.pk, product_kind=product_kind, product_id=product_id, period_start=due.period_start
    ).exists():
        return None, True
    return due, False


def _period_note(fee: DueFee | None, paid: bool, name: str) -> str | None:
    if paid:
        return _("This period of %(name)s is already paid: nothing more is charged for it.") % {"name": name}
    if fee is None:
        return None
    if fee.fee_period == billing_services.DAILY:
        return _("%(amount)s is charged now for %(name)s for today.") % {
            "amount": _money(fee.amount_minor),
            "name": name,
        }
    return _("%(amount)s is charged now for %(name)s up to and including %(date)s.") % {
        "amount": _money(fee.amount_minor),
        "name": name,
        "date": _date(fee.period_end - timedelta(days=1)),
    }


def _date(day: date) -> str:
    return str(format_date(day, format="long", locale=to_locale(get_language() or settings.LANGUAGE_CODE)))


def _recurring_note(fee_minor: int, fee_period: str) -> str | None:
    if fee_minor <= 0:
        return None
    if fee_period == billing_services.DAILY:
        return _("After that: %(amount)s a day.") % {"amount": _money(fee_minor)}
    if fee_period == billing_services.MONTHLY:
        return _("After that: %(amount)s a month, on the 1st.") % {"amount": _money(fee_minor)}
    return None


def _today(now: datetime) -> date:
    return billing_services.local_date(now)


# --- Tariff ---------------------------------------------------------------------------------------------


def _quote_tariff(line: Line, tariff: Tariff, now: datetime) -> _Quote:
    quote = _new_quote(line, TARIFF, ProductKind.TARIFF, tariff.pk, now)
    try:
        billing_queries.check_line_can_pay(line)
        if tariff.pk == line.tariff_id:
            raise TariffAlreadyCurrent()
        if not tariff.is_offered(now):
            raise TariffClosed()
        for assignment in lines_queries.list_connected_services(line.pk):
            allowed = {t.pk for t in assignment.service.allowed_tariffs.all()}
            if allowed and tariff.pk not in allowed:
                raise TariffIncompatibleService(service=assignment.service.display_name)
        fee, paid = _period_fee(
            line,
            ProductKind.TARIFF,
            tariff.pk,
            fee_minor=tariff.fee_minor,
            fee_period=tariff.fee_period,
            today=_today(now),
        )
        if fee is not None:
            quote.fees.append(fee)
        change_fee = billing_queries.change_fee_due_minor(line, tariff, now=now)
        if change_fee:
            quote.one_offs.append(
                _OneOff(KIND_TARIFF_CHANGE_FEE, "change-fee", change_fee, f"tariff change to {tariff.code}")
            )
        quote.notes.extend(_tariff_notes(line, tariff, fee, paid, change_fee))
        _check_money(quote)
    except BusinessError as exc:
        quote.refusal = exc
    return quote


def _tariff_notes(line: Line, tariff: Tariff, fee: DueFee | None, paid: bool, change_fee: int) -> list[str]:
    name = tariff.display_name
    notes = [_("%(name)s starts now.") % {"name": name}]
    period = _period_note(fee, paid, name)
    if period:
        notes.append(period)
    recurring = _recurring_note(tariff.fee_minor, tariff.fee_period)
    if recurring:
        notes.append(recurring)
    window = billing_queries.change_fee_window_days()
    if change_fee:
        notes.append(
            ngettext(
                "A change fee of %(amount)s applies: your previous tariff change was "
                "less than %(days)s day ago.",
                "A change fee of %(amount)s applies: your previous tariff change was "
                "less than %(days)s days ago.",
                window,
            )
            % {"amount": _money(change_fee), "days": window}
        )
    if line.tariff.fee_minor > 0 and line.tariff.fee_period != "none":
        notes.append(
            _("What you paid for %(name)s for this period is not refunded.")
            % {"name": line.tariff.display_name}
        )
    if catalog_queries.list_tariff_allowances(line.tariff_id):
        notes.append(
            _("What is left of the minutes, SMS and data of %(name)s ends now.")
            % {"name": line.tariff.display_name}
        )
    if catalog_queries.list_tariff_allowances(tariff.pk):
        notes.append(
            _(
                "The minutes, SMS and data of %(name)s for this period are available at once "
                "(if you had this tariff earlier in this period, what was left of them comes back)."
            )
            % {"name": name}
        )
    return notes


def preview_tariff_change(line: Line, *, tariff: Tariff) -> ChangePreview:
    """What changing to `tariff` now would cost and change, or why it is refused. Writes nothing."""
    return _quote_tariff(lines_queries.get_line(line.pk), tariff, clock.now()).preview()


def change_tariff(line: Line, *, tariff: Tariff, actor: str, idempotency_key: str) -> ChangePreview:
    """Change the line's tariff now, charging as the preview says; returns what was applied."""

    def write(fresh: Line, quote: _Quote, now: datetime) -> dict[str, Any]:
        lines_services.assign_tariff(fresh, tariff=tariff, actor=actor, effective=now)
        return {"previous_tariff_id": fresh.tariff_id}

    change = _apply(
        line,
        action=TARIFF,
        product_kind=ProductKind.TARIFF,
        product_id=tariff.pk,
        idempotency_key=idempotency_key,
        actor=actor,
        quote=lambda fresh, now: _quote_tariff(fresh, tariff, now),
        write=write,
    )
    return preview_of(change)


# --- Services ---------------------------------------------------------------------------------------


def _quote_connect(line: Line, service: Service, now: datetime) -> _Quote:
    quote = _new_quote(line, CONNECT, ProductKind.SERVICE, service.pk, now)
    try:
        billing_queries.check_line_can_pay(line)
        connected = {a.service_id for a in lines_queries.list_connected_services(line.pk)}
        if service.pk in connected:
            raise ServiceAlreadyConnected()
        lines_services.check_service_rules(line, service, connected)
        _add_service_fees(quote, line, service, now)
        quote.notes.extend(_connect_notes(service, quote))
        _check_money(quote)
    except BusinessError as exc:
        quote.refusal = exc
    return quote


def _add_service_fees(quote: _Quote, line: Line, service: Service, now: datetime) -> None:
    fee, paid = _period_fee(
        line,
        ProductKind.SERVICE,
        service.pk,
        fee_minor=service.fee_minor,
        fee_period=service.fee_period,
        today=_today(now),
    )
    if fee is not None:
        quote.fees.append(fee)
    quote.period_already_paid = paid
    if service.connect_fee_minor > 0:
        quote.one_offs.append(
            _OneOff(
                KIND_SERVICE_CONNECT_FEE,
                f"connect-{service.pk}",
                int(service.connect_fee_minor),
                f"connection of {service.code}",
            )
        )


def _connect_notes(service: Service, quote: _Quote) -> list[str]:
    name = service.display_name
    notes = [_("%(name)s is connected now.") % {"name": name}]
    if service.connect_fee_minor > 0:
        notes.append(_("Connection fee: %(amount)s, once.") % {"amount": _money(service.connect_fee_minor)})
    fee = next((f for f in quote.fees if f.product_id == service.pk), None)
    period = _period_note(fee, quote.period_already_paid, name)
    if period:
        notes.append(period)
    recurring = _recurring_note(service.fee_minor, service.fee_period)
    if recurring:
        notes.append(recurring)
    if catalog_queries.list_service_allowances(service.pk):
        if quote.period_already_paid:
            notes.append(_("Its minutes, SMS and data continue with what was left of them in this period."))
        elif service.validity_days:
            notes.append(
                ngettext(
                    "Its minutes, SMS and data are available at once, for %(days)s day.",
                    "Its minutes, SMS and data are available at once, for %(days)s days.",
                    service.validity_days,
                )
                % {"days": service.validity_days}
            )
        else:
            notes.append(_("Its minutes, SMS and data are available at once."))
    return notes


def preview_service_connect(line: Line, *, service: Service) -> ChangePreview:
    """What connecting `service` now would cost, or why it is refused. Writes nothing."""
    return _quote_connect(lines_queries.get_line(line.pk), service, clock.now()).preview()


def connect_service(line: Line, *, service: Service, actor: str, idempotency_key: str) -> ChangePreview:
    """Connect a service now, charging its connection fee and its first period; returns what was applied."""

    def write(fresh: Line, quote: _Quote, now: datetime) -> dict[str, Any]:
        assignment = lines_services.connect_service(fresh, service=service, actor=actor)
        return {"assignment": assignment}

    change = _apply(
        line,
        action=CONNECT,
        product_kind=ProductKind.SERVICE,
        product_id=service.pk,
        idempotency_key=idempotency_key,
        actor=actor,
        quote=lambda fresh, now: _quote_connect(fresh, service, now),
        write=write,
    )
    return preview_of(change)


def _quote_disconnect(line: Line, service: Service, now: datetime) -> _Quote:
    quote = _new_quote(line, DISCONNECT, ProductKind.SERVICE, service.pk, now)
    try:
        if line.status == TERMINATED:
            raise LineTerminated()
        lines_services.check_service_disconnect(line, service)
        name = service.display_name
        quote.notes.append(_("%(name)s is disconnected now.") % {"name": name})
        if (service.fee_minor > 0 and service.fee_period != "none") or service.connect_fee_minor > 0:
            quote.notes.append(_("What you paid for it is not refunded."))
        if catalog_queries.list_service_allowances(service.pk):
            quote.notes.append(_("What is left of its minutes, SMS and data ends now."))
        if service.kind == BLACK_LIST_KIND:
            count = lines_queries.count_black_list(line.pk)
            days = black_list_retention_days()
            if count:
                quote.notes.append(
                    ngettext(
                        "Calls from your %(count)s black-listed number reach you again. The list is kept "
                        "for %(days)s days: connect the Black list again within that time to have it back.",
                        "Calls from your %(count)s black-listed numbers reach you again. The list is kept "
                        "for %(days)s days: connect the Black list again within that time to have it back.",
                        count,
                    )
                    % {"count": count, "days": days}
                )
    except BusinessError as exc:
        quote.refusal = exc
    return quote


def preview_service_disconnect(line: Line, *, service: Service) -> ChangePreview:
    """What disconnecting `service` now would change, or why it is refused. Writes nothing."""
    return _quote_disconnect(lines_queries.get_line(line.pk), service, clock.now()).preview()


def disconnect_service(line: Line, *, service: Service, actor: str, idempotency_key: str) -> ChangePreview:
    """Disconnect a service now (nothing is refunded); returns what was applied."""

    def write(fresh: Line, quote: _Quote, now: datetime) -> dict[str, Any]:
        lines_services.disconnect_service(fresh, service=service, actor=actor)
        return {}

    change = _apply(
        line,
        action=DISCONNECT,
        product_kind=ProductKind.SERVICE,
        product_id=service.pk,
        idempotency_key=idempotency_key,
        actor=actor,
        quote=lambda fresh, now: _quote_disconnect(fresh, service, now),
        write=write,
    )
    return preview_of(change)


# --- Black list -----------------------------------------------------------------------------------------


def black_list_retention_days() -> int:
    """Days the numbers of a switched-off black list are kept (SELFCARE_BLACK_LIST_RETENTION_DAYS, 30)."""
    return int(settings.SELFCARE_BLACK_LIST_RETENTION_DAYS)


def get_connected_black_list_service(line: Line) -> Service | None:
    for assignment in lines_queries.list_connected_services(line.pk):
        if assignment.service.kind == BLACK_LIST_KIND:
            return assignment.service
    return None


def _quote_black_list(line: Line, number: str, now: datetime) -> _Quote:
    connected = get_connected_black_list_service(line)
    service = connected or catalog_queries.get_black_list_service_to_connect()
    quote = _new_quote(line, BLACK_LIST_ADD, ProductKind.SERVICE, service.pk if service else 0, now)
    try:
        billing_queries.check_line_can_pay(line)
        if service is None:
            raise BlackListNotAvailable()
        quote.msisdn = lines_services.normalize_number(number)
        capacity = service.parameter("capacity")
        quote.capacity = int(capacity) if capacity is not None else None
        lines_services.check_black_list_entry(line, quote.msisdn, capacity=quote.capacity)
        if connected is None:
            ids = {a.service_id for a in lines_queries.list_connected_services(line.pk)}
            lines_services.check_service_rules(line, service, ids)
            quote.connects = service
            _add_service_fees(quote, line, service, now)
        entry_fee = billing_queries.black_list_entry_fee_minor(service.pk)
        if entry_fee:
            quote.one_offs.append(
                _OneOff(KIND_BLACK_LIST_ENTRY_FEE, "entry-fee", entry_fee, f"black list entry {quote.msisdn}")
            )
        quote.notes.extend(_black_list_notes(line, service, quote, entry_fee))
        _check_money(quote)
    except BusinessError as exc:
        quote.refusal = exc
    return quote


def _black_list_notes(line: Line, service: Service, quote: _Quote, entry_fee: int) -> list[str]:
    notes = []
    if quote.connects is not None:
        notes.append(_("Adding your first number connects %(name)s.") % {"name": service.display_name})
        notes.extend(_connect_notes(service, quote)[1:])
        kept = lines_queries.count_black_list(line.pk)
        if kept:
            notes.append(
                ngettext(
                    "The %(count)s number kept from your previous black list is blocked again too.",
                    "The %(count)s numbers kept from your previous black list are blocked again too.",
                    kept,
                )
                % {"count": kept}
            )
    if entry_fee:
        notes.append(_("Each number added costs %(amount)s, once.") % {"amount": _money(entry_fee)})
    notes.append(_("Calls and SMS from this number will not reach you."))
    return notes


def preview_black_list_add(line: Line, *, number: str) -> ChangePreview:
    """What adding `number` (any format) to the black list costs — with the Black list service's
    connection and first-period fees when this first number would connect it — or why it is refused."""
    return _quote_black_list(lines_queries.get_line(line.pk), number, clock.now()).preview()


def add_black_list_number(
    line: Line, *, number: str, note: str = "", actor: str, idempotency_key: str
) -> BlackListEntry:
    """Add a number to the line's black list, connecting the Black list service first when it is off;
    returns the entry (a repeat of the same key returns the entry the first call added)."""

    def write(fresh: Line, quote: _Quote, now: datetime) -> dict[str, Any]:
        if quote.connects is not None:
            lines_services.connect_service(fresh, service=quote.connects, actor=actor)
        entry = lines_services.add_black_list_entry(
            fresh, number=quote.msisdn, note=note, actor=actor, capacity=quote.capacity
        )
        return {"entry": entry}

    normalized = _normalized_or_raw(number)
    change = _apply(
        line,
        action=BLACK_LIST_ADD,
        product_kind=ProductKind.SERVICE,
        product_id=None,
        idempotency_key=idempotency_key,
        actor=actor,
        quote=lambda fresh, now: _quote_black_list(fresh, number, now),
        write=write,
        msisdn=normalized,
    )
    entry = lines_queries.get_black_list_entry(line.pk, int(change.entry_id or 0))
    if entry is None:
        # The entry the first call added has been removed since: say so rather than add it again.
        raise BlackListEntryNotFound()
    return entry


def _normalized_or_raw(number: str) -> str:
    try:
        return lines_services.normalize_number(number)
    except BusinessError:
        return number.strip()[:16]


def remove_black_list_number(line: Line, *, entry_id: int, actor: str) -> None:
    """Take a number off the black list. Nothing is refunded; the Black list service stays on (the
    subscriber disconnects it in the services list, which keeps the list for 30 days)."""
    lines_services.remove_black_list_entry(line, entry_id=entry_id, actor=actor)


def purge_expired_black_lists(*, now: datetime | None = None) -> int:
    """Delete the numbers of black lists switched off more than the retention period ago."""
    moment = now or clock.now()
    return lines_services.purge_black_lists(
        service_ids=catalog_queries.get_service_ids_of_kind(BLACK_LIST_KIND),
        older_than=moment - timedelta(days=black_list_retention_days()),
    )


# --- Applying a change ---------------------------------------------------------------------------------


def _lock_account_and_read(line: Line) -> Line:
    current = lines_queries.get_line(line.pk)
    ledger_queries.lock_spending_room([current.account.ledger_account_id, _revenue_account_id()])
    return lines_queries.get_line(line.pk)


def _revenue_account_id() -> int:
    return int(
        ledger.open_account(
            billing_services.REVENUE_ACCOUNT, kind="system", currency=settings.SELFCARE_CURRENCY
        ).pk
    )


def _key_part(idempotency_key: str) -> str:
    # Ledger keys are at most 200 characters: a long caller key is represented by its hash.
    if len(idempotency_key) <= 120:
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def _apply(
    line: Line,
    *,
    action: str,
    product_kind: str,
    product_id: int | None,
    idempotency_key: str,
    actor: str,
    quote: Any,
    write: Any,
    msisdn: str = "",
) -> ProductChange:
    try:
        check_key(idempotency_key)
    except InvalidIdempotencyKey as exc:
        raise InvalidRequestKey() from exc
    request_key = f"{line.pk}:{idempotency_key}"
    with transaction.atomic():
        fresh = _lock_account_and_read(line)
        existing = ProductChange.objects.filter(request_key=request_key).first()
        if existing is not None:
            same = existing.action == action and (
                existing.entry_msisdn == msisdn
                if action == BLACK_LIST_ADD
                else existing.product_id == product_id
            )
            if not same:
                raise ChangeKeyReused()
            return existing
        now = clock.now()
        decided: _Quote = quote(fresh, now)
        if decided.refusal is not None:
            raise decided.refusal
        written = write(fresh, decided, now)
        change = ProductChange.objects.create(
            line_id=fresh.pk,
            account_id=fresh.account_id,
            action=action,
            product_kind=decided.product_kind,
            product_id=decided.product_id,
            previous_tariff_id=written.get("previous_tariff_id"),
            entry_id=written["entry"].pk if "entry" in written else None,
            entry_msisdn=decided.msisdn,
            request_key=request_key,
            fee_today_minor=decided.fee_today_minor,
            change_fee_minor=decided.change_fee_minor,
            balance_before_minor=decided.balance_minor,
            balance_after_minor=decided.balance_minor - decided.total_minor,
            effective_at=now,
            notes=decided.notes,
            actor=actor[:100],
            created_at=now,
        )
        change.transaction_ids = _charge(fresh, decided, change, idempotency_key, actor, now)
        if change.transaction_ids:
            change.save(update_fields=["transaction_ids"])
        if action in (TARIFF, CONNECT) or decided.connects is not None:
            usage_services.grant_buckets(fresh, at=now, actor=actor)
            if decided.period_already_paid and "assignment" in written:
                usage_services.carry_over_service_buckets(
                    fresh, assignment_id=written["assignment"].pk, actor=actor
                )
        record_audit(
            actor,
            f"billing.change.{action}",
            subject_type="line",
            subject_id=fresh.pk,
            before={"balance_minor": decided.balance_minor, "tariff_id": fresh.tariff_id},
            after={
                "product_kind": decided.product_kind,
                "product_id": decided.product_id,
                "msisdn": decided.msisdn,
                "fee_today_minor": decided.fee_today_minor,
                "change_fee_minor": decided.change_fee_minor,
                "balance_minor": change.balance_after_minor,
                "transactions": change.transaction_ids,
                "change": change.pk,
            },
        )
    return change


def _charge(
    line: Line, quote: _Quote, change: ProductChange, idempotency_key: str, actor: str, now: datetime
) -> list[int]:
    """Post the period fees (as FeeCharge rows) and the one-off fees together, or nothing."""
    if quote.total_minor == 0:
        return []
    customer = int(line.account.ledger_account_id)
    revenue = _revenue_account_id()
    charges = [
        FeeCharge(
            line_id=line.pk,
            account_id=line.account_id,
            product_kind=fee.product_kind,
            product_id=fee.product_id,
            fee_period=fee.fee_period,
            period_start=fee.period_start,
            period_end=fee.period_end,
            amount_minor=fee.amount_minor,
            status=FeeStatus.CHARGED,
            idempotency_key=billing_services.fee_idempotency_key(
                line.pk, fee.product_kind, fee.product_id, fee.period_start
            ),
            created_at=now,
            charged_at=now,
        )
        for fee in quote.fees
    ]
    entries = [
        ledger.Entry(
            kind=billing_services.TRANSACTION_KIND[ProductKind(charge.product_kind)],
            idempotency_key=charge.idempotency_key,
            legs=[ledger.Leg(customer, -charge.amount_minor), ledger.Leg(revenue, charge.amount_minor)],
            actor=actor[:100],
            cause_type="fee_charge",
            cause_id=charge.idempotency_key,
            memo=f"{charge.product_kind} {charge.product_id} {charge.fee_period} fee "
            f"from {charge.period_start.isoformat()}",
            floor=ledger.FloorRule.ENFORCE,
        )
        for charge in charges
    ]
    key = _key_part(idempotency_key)
    entries.extend(
        ledger.Entry(
            kind=item.kind,
            idempotency_key=f"change:{line.pk}:{key}:{item.part}",
            legs=[ledger.Leg(customer, -item.amount_minor), ledger.Leg(revenue, item.amount_minor)],
            actor=actor[:100],
            cause_type="product_change",
            cause_id=str(change.pk),
            memo=item.memo[:300],
            floor=ledger.FloorRule.ENFORCE,
        )
        for item in quote.one_offs
    )
    try:
        posted = ledger.post_transactions(entries)
    except InsufficientFunds as exc:  # pragma: no cover - checked under the same lock just before
        raise InsufficientBalance(missing=_money(quote.total_minor)) from exc
    for charge, txn in zip(charges, posted, strict=False):
        charge.ledger_transaction_id = txn.pk
    FeeCharge.objects.bulk_create(charges)
    lines_services.record_line_spend({line.pk: quote.total_minor}, at=now)
    return [int(txn.pk) for txn in posted[len(charges) :]]


def preview_of(change: ProductChange) -> ChangePreview:
    """What an applied change did, in the shape of its preview."""
    return ChangePreview(
        action=change.action,
        allowed=True,
        refusal_code="",
        refusal_message="",
        fee_today_minor=change.fee_today_minor,
        change_fee_minor=change.change_fee_minor,
        total_minor=change.total_minor,
        balance_before_minor=change.balance_before_minor,
        balance_after_minor=change.balance_after_minor,
        effective_at=change.effective_at,
        notes=list(change.notes or []),
    )
