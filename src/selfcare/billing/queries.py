"""Reads of billing for pages, the API and other domains."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from selfcare.billing.errors import LineBlockedBySubscriber, LineBlockedForDebt, NotABlackListService
from selfcare.billing.models import FeeCharge, FeeStatus, ProductChange, ProductKind
from selfcare.catalog import queries as catalog_queries
from selfcare.catalog.queries import AllowanceCard, TariffCard
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError
from selfcare.lines import queries as lines_queries
from selfcare.lines import services as lines_services
from selfcare.lines.errors import LineTerminated, ServiceRequiredBy

BLACK_LIST_KIND = "black_list"

# What the subscriber cabinet and the company pages call each kind of spending (the "this month by
# category" breakdowns): ledger transaction kinds of fees, and usage record kinds of usage charges.
SPENDING_CATEGORIES: tuple[tuple[str, Promise], ...] = (
    ("calls", gettext_lazy("Calls")),
    ("sms", gettext_lazy("SMS")),
    ("data", gettext_lazy("Mobile internet")),
    ("subscription", gettext_lazy("Subscription fees")),
    ("services", gettext_lazy("Services")),
    ("other", gettext_lazy("Other")),
)
SPENDING_CATEGORY_OF_KIND = {
    "tariff_fee": "subscription",
    "tariff_change_fee": "subscription",
    "service_fee": "services",
    "service_connect_fee": "services",
    "black_list_entry_fee": "services",
}
SPENDING_CATEGORY_OF_RECORD = {
    "voice_out": "calls",
    "voice_in": "calls",
    "sms_out": "sms",
    "sms_in": "sms",
    "data": "data",
}


def list_fee_charges(*, line_id: int, limit: int = 50) -> list[FeeCharge]:
    return list(FeeCharge.objects.filter(line_id=line_id).order_by("-period_start", "-id")[:limit])


def list_unpaid_fees(account_id: int) -> list[FeeCharge]:
    """The account's debt: fees that could not be charged and whose period has not ended yet."""
    return list(
        FeeCharge.objects.filter(account_id=account_id, status=FeeStatus.UNPAID).order_by(
            "period_start", "id"
        )
    )


def get_debt_minor(account_id: int) -> int:
    total = FeeCharge.objects.filter(account_id=account_id, status=FeeStatus.UNPAID).aggregate(
        total=Sum("amount_minor")
    )["total"]
    return int(total or 0)


def list_unpaid_periods(
    periods: Iterable[tuple[int, str, int, date]], *, debt_blocked_line_ids: Collection[int] = ()
) -> set[tuple[int, str, int, date]]:
    """Fair blocking: which of these (line id, product kind, product id, local period start) periods
    of recurring fees are not paid for, so their allowances must not be granted.

    Not paid for: the fee is recorded unpaid (the debt) or lapsed; and, on a line blocked for debt, a
    product with a fee whose period has no charge yet (the fee job would record it unpaid). A period
    not billed yet on a line in good standing is not refused: the fee job charges it at the period
    start, and withdraws what was granted if the money is not there (docs/billing.md).
    """
    wanted = set(periods)
    if not wanted:
        return set()
    recorded = {
        (line_id, kind, product_id, start): status
        for line_id, kind, product_id, start, status in FeeCharge.objects.filter(
            line_id__in={p[0] for p in wanted}, period_start__in={p[3] for p in wanted}
        ).values_list("line_id", "product_kind", "product_id", "period_start", "status")
    }
    refused = set()
    schedule = None
    for period in wanted:
        status = recorded.get(period)
        if status in (FeeStatus.UNPAID, FeeStatus.LAPSED):
            refused.add(period)
        elif status is None and period[0] in debt_blocked_line_ids:
            schedule = schedule or catalog_queries.get_fee_schedule()
            fees = schedule.tariffs if period[1] == ProductKind.TARIFF else schedule.services
            fee = fees.get(period[2])
            if fee is not None and fee[0] > 0:
                refused.add(period)
    return refused


def black_list_entry_fee_minor(service_id: int) -> int:
    """What adding one number to the black list costs (the service's `entry_fee_minor` parameter).

    The daily fee of the black list is an ordinary recurring fee; the per-entry fee is charged by the
    cabinet when an entry is added.
    """
    kind, parameters = catalog_queries.get_service_parameters(service_id)
    if kind != BLACK_LIST_KIND:
        raise NotABlackListService()
    fee = int(parameters.get("entry_fee_minor", 0) or 0)
    if fee < 0:
        raise ValueError("entry_fee_minor must not be negative")
    return fee


def get_fee_charges_by_keys(keys: Iterable[str]) -> dict[str, FeeCharge]:
    """Fee charges by their ledger idempotency key (a fee's transaction names its charge by that key)."""
    return {
        charge.idempotency_key: charge
        for charge in FeeCharge.objects.filter(idempotency_key__in=list(set(keys)))
    }


# --- Product changes: what the cabinet offers and what was changed (billing/changes.py) -------------


def change_fee_window_days() -> int:
    """A tariff's change fee is charged when the previous change was less than this many days ago
    (SELFCARE_TARIFF_CHANGE_FEE_WINDOW_DAYS, default 30)."""
    return int(settings.SELFCARE_TARIFF_CHANGE_FEE_WINDOW_DAYS)


def change_fee_due_minor(line: Any, tariff: Any, *, now: datetime | None = None) -> int:
    """The change fee a change of `line` to `tariff` costs now: the tariff's `change_fee_minor` when
    the line's previous tariff change was within the window, else 0 (the activation is no change)."""
    if tariff.change_fee_minor <= 0:
        return 0
    last = lines_queries.get_last_tariff_change_at(line.pk)
    moment = now or clock.now()
    if last is None or moment - last >= timedelta(days=change_fee_window_days()):
        return 0
    return int(tariff.change_fee_minor)


@dataclass(frozen=True)
class TariffChoice:
    """One tariff of the comparison: the line's current one (always listed, to compare with) or one
    open for change. `change_fee_minor` is what the change fee would be now for this line."""

    card: TariffCard
    is_current: bool
    change_fee_minor: int

    @property
    def tariff(self) -> Any:
        return self.card.tariff

    @property
    def can_choose(self) -> bool:
        return not self.is_current and bool(self.card.tariff.is_offered())


def list_tariffs_for_change(line: Any) -> list[TariffChoice]:
    """The line's current tariff and the tariffs open for change (closed ones are never offered), in
    catalog order, with their fees, allowances and main rates to compare side by side. Four queries."""
    cards = catalog_queries.list_tariff_cards(include_id=line.tariff_id)
    last = lines_queries.get_last_tariff_change_at(line.pk)
    now = clock.now()
    in_window = last is not None and now - last < timedelta(days=change_fee_window_days())
    return [
        TariffChoice(
            card=card,
            is_current=card.id == line.tariff_id,
            change_fee_minor=int(card.tariff.change_fee_minor) if in_window else 0,
        )
        for card in cards
    ]


@dataclass(frozen=True)
class ServiceChoice:
    """A service in the line's list: connected ones (to disconnect) and the open ones (to connect).

    `action` is what the subscriber can ask for ("connect" or "disconnect"); `allowed` says whether
    the rules let them (the balance is not judged here: the preview does), else why not."""

    service: Any
    connected: bool
    connected_at: datetime | None
    action: str
    allowed: bool
    refusal_code: str
    refusal_message: str
    allowances: tuple[AllowanceCard, ...]


def list_services_for_line(line: Any) -> list[ServiceChoice]:
    """Available services for the line with their compatibility (allowed tariffs, requires,
    excludes, open) and the connected ones, in catalog order. A constant number of queries."""
    connected = {a.service_id: a for a in lines_queries.list_connected_services(line.pk)}
    services = catalog_queries.list_services_for_offer(include_ids=connected)
    connected_ids = set(connected)
    by_id = {service.pk: service for service in services}
    choices = []
    for service in services:
        assignment = connected.get(service.pk)
        refusal: BusinessError | None = None
        if assignment is not None:
            dependant = next(
                (
                    by_id[other]
                    for other in sorted(connected_ids - {service.pk})
                    if other in by_id and any(r.pk == service.pk for r in by_id[other].requires.all())
                ),
                None,
            )
            if dependant is not None:
                refusal = ServiceRequiredBy(dependant=dependant.display_name)
        else:
            try:
                check_line_can_pay(line)
                lines_services.check_service_rules(line, service, connected_ids)
            except BusinessError as exc:
                refusal = exc
        choices.append(
            ServiceChoice(
                service=service,
                connected=assignment is not None,
                connected_at=assignment.connected_at if assignment is not None else None,
                action="disconnect" if assignment is not None else "connect",
                allowed=refusal is None,
                refusal_code=refusal.code if refusal else "",
                refusal_message=refusal.render_message() if refusal else "",
                allowances=tuple(
                    AllowanceCard(
                        a.usage_kind, a.amount, tuple(a.usage_classes or ()), a.zone.code if a.zone else ""
                    )
                    for a in service.allowances.all()
                ),
            )
        )
    return choices


def check_line_can_pay(line: Any) -> None:
    """Changes that cost money need a working line: a blocked one pays its debt or is unblocked first."""
    if line.status == "terminated":
        raise LineTerminated()
    if line.status == "blocked_debt":
        raise LineBlockedForDebt()
    if line.status == "blocked_subscriber":
        raise LineBlockedBySubscriber()


@dataclass(frozen=True)
class BlackList:
    """The line's black list as the cabinet shows it."""

    entries: list[Any]  # lines.BlackListEntry, newest first
    is_on: bool  # a Black list service is connected: the numbers are blocked
    service: Any  # the connected Black list service, else the one the first number connects (or None)
    capacity: int | None  # None: no limit
    entry_fee_minor: int
    kept_until: datetime | None  # switched off with numbers kept: when they are deleted


def get_black_list(line: Any) -> BlackList:
    connected = next(
        (
            a.service
            for a in lines_queries.list_connected_services(line.pk)
            if a.service.kind == BLACK_LIST_KIND
        ),
        None,
    )
    service = connected or catalog_queries.get_black_list_service_to_connect()
    entries = lines_queries.list_black_list(line.pk)
    kept_until = None
    if connected is None and entries:
        off_since = lines_queries.get_last_disconnection(
            line.pk, catalog_queries.get_service_ids_of_kind(BLACK_LIST_KIND)
        )
        if off_since is not None:
            kept_until = off_since + timedelta(days=int(settings.SELFCARE_BLACK_LIST_RETENTION_DAYS))
    capacity = service.parameter("capacity") if service is not None else None
    return BlackList(
        entries=entries,
        is_on=connected is not None,
        service=service,
        capacity=int(capacity) if capacity is not None else None,
        entry_fee_minor=black_list_entry_fee_minor(service.pk) if service is not None else 0,
        kept_until=kept_until,
    )


def list_product_changes(line_id: int, *, limit: int = 50) -> list[ProductChange]:
    """The line's tariff changes, service connections and disconnections and black-list additions
    made through billing.changes, newest first, with what each cost."""
    return list(ProductChange.objects.filter(line_id=line_id).order_by("-created_at", "-id")[:limit])


def get_product_changes(change_ids: Iterable[int]) -> dict[int, ProductChange]:
    """Applied product changes by id (a one-off fee's transaction names its change)."""
    return {change.pk: change for change in ProductChange.objects.filter(pk__in=list(set(change_ids)))}


def sum_line_charges(
    *, account_id: int, since: datetime, line_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """What each line of an account was charged since `since` for fees (recurring fees charged, and the
    one-off fees of tariff and service changes), line id -> minor units, in two grouped queries. For
    the corporate cabinet."""
    fees = FeeCharge.objects.filter(account_id=account_id, status=FeeStatus.CHARGED, charged_at__gte=since)
    changes = ProductChange.objects.filter(
        account_id=account_id, created_at__gte=since, change_fee_minor__gt=0
    )
    if line_ids is not None:
        ids = list(line_ids)
        fees = fees.filter(line_id__in=ids)
        changes = changes.filter(line_id__in=ids)
    totals: dict[int, int] = {}
    for line_id, total in fees.values_list("line_id").annotate(total=Sum("amount_minor")).order_by():
        totals[int(line_id)] = totals.get(int(line_id), 0) + int(total or 0)
    for line_id, total in changes.values_list("line_id").annotate(total=Sum("change_fee_minor")).order_by():
        totals[int(line_id)] = totals.get(int(line_id), 0) + int(total or 0)
    return totals
