"""Builders for the billing tests: lines with fees, money, and what was charged or sent."""

from __future__ import annotations

from django.db.models import Sum

from selfcare.billing.models import FeeCharge
from selfcare.catalog.models import FeePeriod, Service, Tariff
from selfcare.ledger.queries import get_balance_minor
from selfcare.lines.models import Account, Line
from selfcare.notifications.models import OutboundSms
from tests.factories import TEST_ACTOR, fund, make_line, make_service, make_tariff


def daily_tariff(fee_minor: int = 1_000) -> Tariff:
    return make_tariff(fee_minor=fee_minor, fee_period=FeePeriod.DAILY)


def monthly_tariff(fee_minor: int = 31_000) -> Tariff:
    return make_tariff(fee_minor=fee_minor, fee_period=FeePeriod.MONTHLY)


def service_with_fee(fee_minor: int, period: str = FeePeriod.DAILY, **kwargs: object) -> Service:
    return make_service(fee_minor=fee_minor, fee_period=period, **kwargs)  # type: ignore[arg-type]


def line_with_money(tariff: Tariff, balance_minor: int, **kwargs: object) -> Line:
    line = make_line(tariff=tariff, **kwargs)  # type: ignore[arg-type]
    if balance_minor:
        fund(line.account.ledger_account, balance_minor)
    return line


def top_up(account: Account, amount_minor: int) -> None:
    fund(account.ledger_account, amount_minor)


def balance_of(line: Line) -> int:
    return get_balance_minor(Account.objects.get(pk=line.account_id).ledger_account_id)


def status_of(line: Line) -> str:
    return str(Line.objects.values_list("status", flat=True).get(pk=line.pk))


def fees_of(line: Line) -> list[tuple[str, int, str, int, str]]:
    """(period start, product id, product kind, amount, status) of every fee of the line, in order."""
    return [
        (start.isoformat(), product_id, kind, amount, status)
        for start, product_id, kind, amount, status in FeeCharge.objects.filter(line=line)
        .order_by("period_start", "product_kind", "product_id")
        .values_list("period_start", "product_id", "product_kind", "amount_minor", "status")
    ]


def charged_total(line: Line) -> int:
    return int(
        FeeCharge.objects.filter(line=line, status="charged").aggregate(t=Sum("amount_minor"))["t"] or 0
    )


def sms_templates(line: Line) -> list[str]:
    return list(
        OutboundSms.objects.filter(msisdn=line.msisdn).order_by("id").values_list("template", flat=True)
    )


__all__ = ["TEST_ACTOR"]
