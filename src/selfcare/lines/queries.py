"""Reads about customers, accounts and lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL

from selfcare.lines.models import (
    BlackListEntry,
    Line,
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


def get_line(line_id: int) -> Line:
    """The line with its account and tariff (raises Line.DoesNotExist)."""
    return Line.objects.select_related("account", "tariff").get(pk=line_id)


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
