"""Reads about customers, accounts and lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from selfcare.lines.models import Account, BlackListEntry, Line, LineStatus, ServiceAssignment

# Below SQLite's limit of bound parameters per statement (32766), far above typical batches.
_CHUNK = 20_000


def get_line_by_msisdn(msisdn: str) -> Line | None:
    return Line.objects.select_related("account", "tariff").filter(msisdn=msisdn).first()


def list_active_services(line: Line) -> QuerySet[ServiceAssignment]:
    return ServiceAssignment.objects.filter(line=line, disconnected_at__isnull=True).select_related("service")


def get_account_for_line(line: Line) -> Account:
    return Account.objects.select_related("ledger_account").get(pk=line.account_id)


# --- Bulk reads for the rating engine (usage.services.rate_batch) -----------------------------------
# Plain tuples, a few queries per batch whatever its size: the engine rates millions of records.


def get_lines_for_rating(msisdns: Iterable[str]) -> list[tuple[int, str, int, int, str, datetime]]:
    """(line id, msisdn, ledger account id, tariff id, status, activated_at) of these numbers' lines."""
    numbers = list(set(msisdns))
    rows: list[tuple[int, str, int, int, str, datetime]] = []
    for start in range(0, len(numbers), _CHUNK):
        rows.extend(
            Line.objects.filter(msisdn__in=numbers[start : start + _CHUNK]).values_list(
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
                line_id__in=ids[start : start + _CHUNK], disconnected_at__isnull=True
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
