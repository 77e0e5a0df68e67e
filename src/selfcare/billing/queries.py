"""Reads of billing for pages, the API and other domains."""

from __future__ import annotations

from django.db.models import Sum

from selfcare.billing.errors import NotABlackListService
from selfcare.billing.models import FeeCharge, FeeStatus
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
