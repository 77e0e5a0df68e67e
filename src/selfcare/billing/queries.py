"""Reads of billing for pages, the API and other domains."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from django.db.models import Sum

from selfcare.billing.errors import NotABlackListService
from selfcare.billing.models import FeeCharge, FeeStatus, ProductKind
from selfcare.catalog import queries as catalog_queries

BLACK_LIST_KIND = "black_list"


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
