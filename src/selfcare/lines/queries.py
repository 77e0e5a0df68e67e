"""Reads about customers, accounts and lines."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL

from selfcare.kit.i18n import pick_translation
from selfcare.lines.models import (
    Account,
    BlackListEntry,
    Customer,
    Line,
    LineQuota,
    LineStatus,
    ServiceAssignment,
    TariffAssignment,
)

# Below SQLite's limit of bound parameters per statement (32766), far above typical batches.
_CHUNK = 20_000


def _one_of(values: list[Any], sql_type: str) -> Any:
    """The right side of an `__in` for thousands of values: one array parameter on PostgreSQL
    (instead of one placeholder per value, which the driver has to parse), the list elsewhere."""
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [values])  # noqa: S611 - a fixed type name
    return values


def get_line_by_msisdn(msisdn: str) -> Line | None:
    return Line.objects.select_related("account", "tariff").filter(msisdn=msisdn).first()


def get_lines_by_msisdns(msisdns: Iterable[str]) -> dict[str, Line]:
    """The lines with these numbers (E.164) that exist, by number, with account and customer."""
    wanted = sorted(set(msisdns))
    if not wanted:
        return {}
    return {
        line.msisdn: line
        for line in Line.objects.select_related("account__customer").filter(msisdn__in=wanted)
    }


def get_line(line_id: int) -> Line:
    """The line with its account and tariff (raises Line.DoesNotExist)."""
    return Line.objects.select_related("account", "tariff").get(pk=line_id)


def find_account_lines(
    account_id: int, *, line_ids: Iterable[int] = (), msisdns: Iterable[str] = ()
) -> list[Line]:
    """The account's lines among the given ids or numbers (either may be empty), by number."""
    ids, numbers = list(line_ids), list(msisdns)
    if not ids and not numbers:
        return []
    wanted = Q(pk__in=ids) if ids else Q()
    if numbers:
        wanted = (wanted | Q(msisdn__in=numbers)) if ids else Q(msisdn__in=numbers)
    return list(Line.objects.filter(wanted, account_id=account_id).order_by("msisdn"))


def list_account_numbers(msisdn: str) -> list[str]:
    """The numbers (E.164) of the lines on the same account as `msisdn` that are not terminated,
    `msisdn` first; empty when it is not one of our lines."""
    account = Line.objects.filter(msisdn=msisdn).values("account_id")[:1]
    numbers = list(
        Line.objects.filter(account_id__in=account)
        .exclude(status=LineStatus.TERMINATED)
        .order_by("msisdn")
        .values_list("msisdn", flat=True)
    )
    return sorted(numbers, key=lambda number: number != msisdn)


# --- Tariff, services and black list of one line (cabinet, billing.changes) -------------------------


def list_tariff_history(line_id: int) -> list[TariffAssignment]:
    """The line's tariffs, newest first (the open one, if any, first)."""
    return list(
        TariffAssignment.objects.filter(line_id=line_id)
        .select_related("tariff")
        .order_by("-started_at", "-id")
    )


def get_last_tariff_change_at(line_id: int) -> datetime | None:
    """When the line last changed its tariff; None when it still has the tariff it was activated on
    (the first assignment is the activation, not a change). One query."""
    starts = list(
        TariffAssignment.objects.filter(line_id=line_id)
        .order_by("-started_at", "-id")
        .values_list("started_at", flat=True)[:2]
    )
    return starts[0] if len(starts) == 2 else None


def list_service_history(line_id: int) -> list[ServiceAssignment]:
    """Every connection of a service to the line, newest first, with the service."""
    return list(
        ServiceAssignment.objects.filter(line_id=line_id)
        .select_related("service")
        .order_by("-connected_at", "-id")
    )


def list_connected_services(line_id: int) -> list[ServiceAssignment]:
    """The line's open service assignments with their services, oldest connection first."""
    return list(
        ServiceAssignment.objects.filter(line_id=line_id, disconnected_at__isnull=True)
        .select_related("service")
        .order_by("connected_at", "id")
    )


def get_last_disconnection(line_id: int, service_ids: Iterable[int]) -> datetime | None:
    """When one of these services was last disconnected from the line (None: never)."""
    return (
        ServiceAssignment.objects.filter(
            line_id=line_id, service_id__in=list(service_ids), disconnected_at__isnull=False
        )
        .order_by("-disconnected_at")
        .values_list("disconnected_at", flat=True)
        .first()
    )


def list_black_list(line_id: int) -> list[BlackListEntry]:
    """The line's black-listed numbers, newest first."""
    return list(BlackListEntry.objects.filter(line_id=line_id).order_by("-created_at", "-id"))


def count_black_list(line_id: int) -> int:
    return BlackListEntry.objects.filter(line_id=line_id).count()


def get_black_list_entry(line_id: int, entry_id: int) -> BlackListEntry | None:
    return BlackListEntry.objects.filter(line_id=line_id, pk=entry_id).first()


def is_call_screened(*, caller: str, callee: str, at: datetime, black_list_kind: str = "black_list") -> bool:
    """Whether a call or SMS from `caller` to our line `callee` (both E.164) is refused by the
    callee's black list: the rating engine's rule (usage/engine/rater.py) — a service of kind
    black_list is connected to the line since `at` or earlier, and the caller is on its list.

    One query, each step on an index: the line by its unique msisdn, the entry by the unique
    (line, msisdn), the assignment by (line, connected_at).
    """
    return BlackListEntry.objects.filter(
        line__msisdn=callee,
        msisdn=caller,
        line__service_history__disconnected_at__isnull=True,
        line__service_history__connected_at__lte=at,
        line__service_history__service__kind=black_list_kind,
    ).exists()


# --- Bulk reads for the rating engine (usage.services.rate_batch) -----------------------------------


def get_quota_rooms(line_ids: Iterable[int], *, at: datetime) -> dict[int, int]:
    """line id → what it may still spend in the local month of `at` under its quota (negative when
    fees took it past the quota), for those of these lines that have a quota. One query on the quota
    table's primary key; the rating engine calls it after locking the lines' ledger accounts, so the
    counters it reads cannot change before its own charges are added."""
    ids = list(set(line_ids))
    month = LineQuota.month_of(at)
    rooms: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = LineQuota.objects.filter(
            line_id__in=_one_of(ids[start : start + _CHUNK], "bigint"), limit_minor__isnull=False
        ).values_list("line_id", "limit_minor", "month", "spent_minor")
        for line_id, limit, counted_month, spent in rows:
            if limit is not None:
                rooms[line_id] = limit - (spent if counted_month == month else 0)
    return rooms


def get_line_quota(line_id: int) -> LineQuota | None:
    """The line's quota and spend counter row (None before anything was charged or set)."""
    return LineQuota.objects.filter(line_id=line_id).first()


def get_lines_for_rating(msisdns: Iterable[str]) -> list[tuple[int, str, int, int, str, datetime]]:
    """(line id, msisdn, ledger account id, tariff id, status, activated_at) of these numbers' lines."""
    numbers = list(set(msisdns))
    rows: list[tuple[int, str, int, int, str, datetime]] = []
    for start in range(0, len(numbers), _CHUNK):
        rows.extend(
            Line.objects.filter(msisdn__in=_one_of(numbers[start : start + _CHUNK], "varchar")).values_list(
                "id", "msisdn", "account__ledger_account_id", "tariff_id", "status", "activated_at"
            )
        )
    return rows


def list_lines_for_buckets(*, after_id: int, limit: int) -> list[tuple[int, str, int, int, str, datetime]]:
    """Lines that are not terminated, by id, in the same shape as `get_lines_for_rating`."""
    return list(
        Line.objects.filter(pk__gt=after_id)
        .exclude(status=LineStatus.TERMINATED)
        .order_by("pk")
        .values_list("id", "msisdn", "account__ledger_account_id", "tariff_id", "status", "activated_at")[
            :limit
        ]
    )


def list_active_assignments(line_ids: Iterable[int]) -> list[tuple[int, int, int, datetime]]:
    """(assignment id, line id, service id, connected_at) of the services connected to these lines."""
    ids = list(set(line_ids))
    rows: list[tuple[int, int, int, datetime]] = []
    for start in range(0, len(ids), _CHUNK):
        rows.extend(
            ServiceAssignment.objects.filter(
                line_id__in=_one_of(ids[start : start + _CHUNK], "bigint"), disconnected_at__isnull=True
            ).values_list("id", "line_id", "service_id", "connected_at")
        )
    return rows


def get_black_lists(line_ids: Iterable[int]) -> dict[int, set[str]]:
    """The black-listed numbers of each of these lines."""
    ids = list(set(line_ids))
    lists: dict[int, set[str]] = {}
    for start in range(0, len(ids), _CHUNK):
        for line_id, msisdn in BlackListEntry.objects.filter(
            line_id__in=ids[start : start + _CHUNK]
        ).values_list("line_id", "msisdn"):
            lists.setdefault(line_id, set()).add(msisdn)
    return lists


# --- Reads for recurring fees (billing.services) ----------------------------------------------------


class BillingLineRow(NamedTuple):
    id: int
    msisdn: str
    account_id: int
    ledger_account_id: int
    credit_limit_minor: int
    tariff_id: int
    status: str
    activated_at: datetime
    # When the current tariff started (the open assignment): the first period of a new tariff is prorated.
    tariff_since: datetime | None
    language: str


def list_lines_for_billing(
    *,
    after_id: int = 0,
    limit: int | None = None,
    line_ids: Iterable[int] | None = None,
    account_id: int | None = None,
) -> list[BillingLineRow]:
    """Lines that are not terminated, by id: a chunk after `after_id`, given lines, or one account's."""
    open_tariff = TariffAssignment.objects.filter(line=OuterRef("pk"), ended_at__isnull=True).values(
        "started_at"
    )[:1]
    query = Line.objects.filter(pk__gt=after_id).exclude(status=LineStatus.TERMINATED)
    if line_ids is not None:
        query = query.filter(pk__in=list(line_ids))
    if account_id is not None:
        query = query.filter(account_id=account_id)
    rows = (
        query.order_by("pk")
        .annotate(tariff_since=Subquery(open_tariff))
        .values_list(
            "id",
            "msisdn",
            "account_id",
            "account__ledger_account_id",
            "account__credit_limit_minor",
            "tariff_id",
            "status",
            "activated_at",
            "tariff_since",
            "account__customer__language",
        )
    )
    if limit is not None:
        rows = rows[:limit]
    return [BillingLineRow(*row) for row in rows]


def list_products_in_force(
    line_ids: Iterable[int], *, start: datetime, end: datetime
) -> tuple[dict[int, list[tuple[int, datetime]]], dict[int, list[tuple[int, datetime]]]]:
    """The tariffs and the services each line had at some moment in [start, end), from the history.

    Returns (tariffs, services): line id -> [(tariff id, started_at)] and line id -> [(service id,
    connected_at)], oldest first. The fee job bills a day by what was in force that day (a run for a
    past date by that day's tariff, not today's). A line without tariff history is left out of
    `tariffs` (its current tariff is the only one it ever had).
    """
    ids = list(set(line_ids))
    tariffs: dict[int, list[tuple[int, datetime]]] = {}
    services: dict[int, list[tuple[int, datetime]]] = {}
    for first in range(0, len(ids), _CHUNK):
        chunk = _one_of(ids[first : first + _CHUNK], "bigint")
        for line_id, tariff_id, started_at in (
            TariffAssignment.objects.filter(line_id__in=chunk, started_at__lt=end)
            .exclude(ended_at__lte=start)
            .order_by("started_at", "id")
            .values_list("line_id", "tariff_id", "started_at")
        ):
            tariffs.setdefault(line_id, []).append((tariff_id, started_at))
        for line_id, service_id, connected_at in (
            ServiceAssignment.objects.filter(line_id__in=chunk, connected_at__lt=end)
            .exclude(disconnected_at__lte=start)
            .order_by("connected_at", "id")
            .values_list("line_id", "service_id", "connected_at")
        ):
            services.setdefault(line_id, []).append((service_id, connected_at))
    return tariffs, services


def list_account_ids_with_line_status(status: str) -> list[int]:
    """Accounts that have at least one line in `status` (the billing sweep looks for blocked_debt)."""
    return list(Line.objects.filter(status=status).values_list("account_id", flat=True).distinct())


# --- Reads for the subscriber cabinet ---------------------------------------------------------------


def get_subscriber_line(msisdn: str) -> Line | None:
    """A line with what its owner's pages show at once: customer, account, balance, tariff (one query)."""
    if not msisdn:
        return None
    return (
        Line.objects.select_related("account__customer", "account__ledger_account", "tariff")
        .filter(msisdn=msisdn)
        .first()
    )


# --- The line card: what a subscriber's home page shows of the line, read without model instances ---------


def _json(value: Any) -> Any:
    """A JSON column read by plain SQL: text on both engines (Django reads jsonb as text), or decoded."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _datetime(value: Any) -> datetime:
    """A timestamp read by plain SQL: aware already on PostgreSQL, naive UTC text on SQLite."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _table_of(model: Any, foreign_key: str) -> str:
    """The table another domain's model behind one of our foreign keys lives in (no import of it)."""
    return str(model._meta.get_field(foreign_key).related_model._meta.db_table)


@dataclass(frozen=True)
class TariffCard:
    pk: int
    name: dict[str, str]
    fee_minor: int
    fee_period: str

    @property
    def display_name(self) -> str:
        return pick_translation(self.name)


@dataclass(frozen=True)
class AccountCard:
    pk: int
    kind: str
    ledger_account_id: int
    balance_minor: int
    customer_name: str


@dataclass(frozen=True)
class LineCard:
    """A line as its owner's home page shows it (the fields `payments.queries.promised_offer` reads of a
    line included): number, status, owner, account with its balance, current tariff with its fee."""

    pk: int
    msisdn: str
    status: str
    activated_at: datetime
    tariff_id: int
    account: AccountCard
    tariff: TariffCard

    def get_status_display(self) -> str:
        return str(LineStatus(self.status).label) if self.status in LineStatus.values else self.status


def get_line_card(msisdn: str) -> LineCard | None:
    """The line with its owner, account, balance and tariff: one plain SQL statement on the unique index
    of numbers. The cabinet's home page reads it on every request (and every poll); the ORM's compilation
    and five model instances cost more than the database's work."""
    if not msisdn:
        return None
    sql = (
        "SELECT l.id, l.msisdn, l.status, l.activated_at, l.tariff_id, a.id, a.kind, a.ledger_account_id, "  # noqa: S608
        "la.balance_minor, c.name, t.name, t.fee_minor, t.fee_period "
        f"FROM {Line._meta.db_table} l "
        f"JOIN {Account._meta.db_table} a ON a.id = l.account_id "
        f"JOIN {Customer._meta.db_table} c ON c.id = a.customer_id "
        f"JOIN {_table_of(Account, 'ledger_account')} la ON la.id = a.ledger_account_id "
        f"JOIN {_table_of(Line, 'tariff')} t ON t.id = l.tariff_id "
        "WHERE l.msisdn = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [msisdn])
        row = cursor.fetchone()
    if row is None:
        return None
    (line_id, number, status, activated, tariff_id, account_id, kind, ledger_id, balance, customer, t_name,
     t_fee, t_period) = row  # fmt: skip
    return LineCard(
        pk=int(line_id),
        msisdn=number,
        status=status,
        activated_at=_datetime(activated),
        tariff_id=int(tariff_id),
        account=AccountCard(
            pk=int(account_id),
            kind=kind,
            ledger_account_id=int(ledger_id),
            balance_minor=int(balance),
            customer_name=customer,
        ),
        tariff=TariffCard(
            pk=int(tariff_id), name=_json(t_name) or {}, fee_minor=int(t_fee), fee_period=t_period
        ),
    )


def line_card_of(line: Line) -> LineCard:
    """The card of a line already read with its account, customer, ledger account and tariff."""
    account, tariff = line.account, line.tariff
    return LineCard(
        pk=int(line.pk),
        msisdn=line.msisdn,
        status=line.status,
        activated_at=line.activated_at,
        tariff_id=int(line.tariff_id),
        account=AccountCard(
            pk=int(account.pk),
            kind=account.kind,
            ledger_account_id=int(account.ledger_account_id),
            balance_minor=int(account.ledger_account.balance_minor),
            customer_name=account.customer.name,
        ),
        tariff=TariffCard(
            pk=int(tariff.pk),
            name=tariff.name or {},
            fee_minor=int(tariff.fee_minor),
            fee_period=tariff.fee_period,
        ),
    )


class ConnectedService(NamedTuple):
    service_id: int
    code: str
    name: dict[str, str]
    kind: str
    fee_minor: int
    fee_period: str
    connected_at: datetime


class BlackListed(NamedTuple):
    id: int
    msisdn: str
    note: str
    created_at: datetime


def get_services_and_black_list(
    line_id: int, *, black_list_kind: str = "black_list"
) -> tuple[list[ConnectedService], list[BlackListed] | None]:
    """The line's connected services (oldest connection first) and, when a service of `black_list_kind`
    is among them, its black-listed numbers (newest first; None when that service is off): one plain SQL
    statement, each part on the line's index."""
    assignments, entries = ServiceAssignment._meta.db_table, BlackListEntry._meta.db_table
    services = _table_of(ServiceAssignment, "service")
    sql = (
        "SELECT 's', sa.id, sa.connected_at, s.code, s.name, s.kind, s.fee_minor, s.fee_period, s.id "  # noqa: S608
        f"FROM {assignments} sa JOIN {services} s ON s.id = sa.service_id "
        "WHERE sa.line_id = %s AND sa.disconnected_at IS NULL "
        "UNION ALL SELECT 'b', e.id, e.created_at, e.msisdn, NULL, e.note, NULL, NULL, NULL "
        f"FROM {entries} e WHERE e.line_id = %s AND EXISTS (SELECT 1 FROM {assignments} sa2 "
        f"JOIN {services} s2 ON s2.id = sa2.service_id "
        "WHERE sa2.line_id = %s AND sa2.disconnected_at IS NULL AND s2.kind = %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [line_id, line_id, line_id, black_list_kind])
        rows = cursor.fetchall()
    connected: list[tuple[datetime, int, ConnectedService]] = []
    listed: list[tuple[datetime, int, BlackListed]] = []
    for tag, pk, at, code, name, kind, fee, period, service_id in rows:
        moment = _datetime(at)
        if tag == "s":
            item = ConnectedService(int(service_id), code, _json(name) or {}, kind, int(fee), period, moment)
            connected.append((moment, int(pk), item))
        else:
            listed.append((moment, int(pk), BlackListed(int(pk), code, kind or "", moment)))
    connected.sort(key=lambda row: (row[0], row[1]))
    listed.sort(key=lambda row: (row[0], row[1]), reverse=True)
    services_on = [item for _at, _pk, item in connected]
    black_list_on = any(item.kind == black_list_kind for item in services_on)
    return services_on, ([item for _at, _pk, item in listed] if black_list_on else None)


def list_tariff_eras(line_ids: Iterable[int], *, since: datetime) -> dict[int, list[tuple[datetime, int]]]:
    """For the lines whose tariff changed after `since`: (from, tariff id) of every tariff in force
    since then, oldest first. Lines without such a change are left out (their current tariff is the
    one in force since `since`). The rating engine asks this once per batch; changes are rare, so the
    first query (on the index of ended assignments) almost always finds nothing and there is no second."""
    wanted = set(line_ids)
    changed = {
        line_id
        for line_id in TariffAssignment.objects.filter(ended_at__gt=since).values_list("line_id", flat=True)
        if line_id in wanted
    }
    eras: dict[int, list[tuple[datetime, int]]] = {}
    if not changed:
        return eras
    rows = (
        TariffAssignment.objects.filter(line_id__in=sorted(changed))
        .exclude(ended_at__lte=since)
        .order_by("line_id", "started_at", "id")
        .values_list("line_id", "started_at", "tariff_id")
    )
    for line_id, started_at, tariff_id in rows:
        eras.setdefault(line_id, []).append((started_at, tariff_id))
    return eras


# --- Reads for the corporate cabinet (selfcare.companies) ------------------------------------------------

ACCOUNT_LINE_ORDERS = {"number": ("msisdn", "id"), "name": ("holder_name", "msisdn", "id")}


def list_account_lines(
    account_id: int,
    *,
    search: str = "",
    tariff_id: int | None = None,
    status: str = "",
    order: str = "number",
) -> Any:
    """The account's lines (a lazy queryset with their tariff, to paginate), searched by number or
    holder name, filtered by tariff and status, ordered by number or holder name. Served by the
    (account, status) index; a number search narrows on the unique msisdn index."""
    lines = Line.objects.filter(account_id=account_id).select_related("tariff")
    text = search.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        condition = Q(holder_name__icontains=text)
        if digits and len(digits) >= 3:
            condition |= Q(msisdn__contains=digits)
        lines = lines.filter(condition)
    if tariff_id is not None:
        lines = lines.filter(tariff_id=tariff_id)
    if status:
        lines = lines.filter(status=status)
    return lines.order_by(*ACCOUNT_LINE_ORDERS.get(order, ACCOUNT_LINE_ORDERS["number"]))


def list_lines_by_ids(line_ids: Iterable[int]) -> dict[int, Line]:
    """Lines with their tariff, by id (one query)."""
    ids = list(line_ids)
    return {line.pk: line for line in Line.objects.filter(pk__in=ids).select_related("tariff")} if ids else {}


def get_account_line(account_id: int, line_id: int) -> Line | None:
    """One line of the account with its account, balance and tariff; None for anyone else's line."""
    return (
        Line.objects.select_related("account__ledger_account", "tariff")
        .filter(account_id=account_id, pk=line_id)
        .first()
    )


def get_account_line_by_msisdn(account_id: int, msisdn: str) -> Line | None:
    return Line.objects.filter(account_id=account_id, msisdn=msisdn).first()


def list_account_tariffs(account_id: int) -> list[tuple[int, dict[str, str]]]:
    """The tariffs the account's lines are on (id, names by language), for a filter (one query)."""
    rows = (
        Line.objects.filter(account_id=account_id)
        .values_list("tariff_id", "tariff__name")
        .distinct()
        .order_by("tariff_id")
    )
    return [(int(tariff_id), name or {}) for tariff_id, name in rows]


def count_account_lines_by_status(account_id: int) -> dict[str, int]:
    rows = Line.objects.filter(account_id=account_id).values_list("status").annotate(n=Count("id"))
    return {status: int(n) for status, n in rows}
