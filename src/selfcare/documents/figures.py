"""The figures of a document, read when it is issued (and stored with it, so it never changes).

Figures come from the company account's ledger (DESIGN.md §6): charges are the account's debits in
the period by transaction kind, usage charges split into calls, SMS and data by the records they are
made of (one usage transaction per account and batch, so an account's usage transactions hold only
its own lines' records). Every amount is an integer of minor units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from selfcare.ledger import queries as ledger_queries
from selfcare.usage import queries as usage_queries

# The lines of an invoice and an act, in this order.
CHARGE_CATEGORIES = ("subscription", "services", "calls", "sms", "data", "other")
CATEGORY_OF_KIND = {
    "tariff_fee": "subscription",
    "tariff_change_fee": "subscription",
    "service_fee": "services",
    "service_connect_fee": "services",
    "black_list_entry_fee": "services",
}
CATEGORY_OF_RECORD = {
    "voice_out": "calls",
    "voice_in": "calls",
    "sms_out": "sms",
    "sms_in": "sms",
    "data": "data",
}
# Repaying a promised payment moves money already spent: not a charge (as the cabinet counts spending).
NOT_CHARGES = ("promised_repay", "promised_collect")
# Money the company paid in.
PAYMENT_KINDS = ("topup", "payment")


def operator_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=operator_tz())


def vat_part(total_minor: int, rate_percent: int) -> int:
    """The VAT inside a VAT-inclusive amount, rounded half up (away from zero) to the minor unit:
    total * rate / (100 + rate), in integers only."""
    if rate_percent <= 0 or total_minor == 0:
        return 0
    sign = -1 if total_minor < 0 else 1
    base = 100 + rate_percent
    return sign * ((2 * abs(total_minor) * rate_percent + base) // (2 * base))


def _company_details(company: Any) -> dict[str, str]:
    return {
        "name": company.name,
        "tax_id": company.tax_id,
        "address": company.legal_address,
        "account": company.account.number,
    }


def _operator_details() -> dict[str, str]:
    return {
        "name": settings.SELFCARE_OPERATOR_LEGAL_NAME,
        "tax_id": settings.SELFCARE_OPERATOR_TAX_ID,
        "address": settings.SELFCARE_OPERATOR_ADDRESS,
        "bank": settings.SELFCARE_OPERATOR_BANK_DETAILS,
    }


@dataclass(frozen=True)
class Charges:
    by_category: dict[str, int]  # every CHARGE_CATEGORIES key, positive amounts charged

    @property
    def total_minor(self) -> int:
        return sum(self.by_category.values())


def sum_charges(ledger_account_id: int, *, since: datetime, until: datetime) -> Charges:
    """What the account was charged in [since, until), by category (four queries)."""
    period = ledger_queries.get_period_money(ledger_account_id, since=since, until=until)
    totals = dict.fromkeys(CHARGE_CATEGORIES, 0)
    debits = {kind: -amount for kind, amount in period.debits_by_kind.items() if kind not in NOT_CHARGES}
    usage_total = debits.pop("usage", 0)
    if usage_total:
        by_record = usage_queries.sum_charges_by_kind(
            ledger_queries.list_transaction_ids(ledger_account_id, kind="usage", since=since, until=until)
        )
        for record_kind, amount in by_record.items():
            totals[CATEGORY_OF_RECORD.get(record_kind, "other")] += amount
        # Whatever the records do not explain stays "other", so the lines always add up to the ledger.
        totals["other"] += usage_total - sum(by_record.values())
    for kind, amount in debits.items():
        totals[CATEGORY_OF_KIND.get(kind, "other")] += amount
    return Charges(totals)


def month_figures(company: Any, *, start: date, end: date, vat_rate_percent: int) -> dict[str, Any]:
    """The figures of the invoice and the act of [start, end] (local days)."""
    since, until = local_midnight(start), local_midnight(end + timedelta(days=1))
    charges = sum_charges(int(company.account.ledger_account_id), since=since, until=until)
    total = charges.total_minor
    return {
        "operator": _operator_details(),
        "company": _company_details(company),
        "lines": [{"category": c, "amount_minor": charges.by_category[c]} for c in CHARGE_CATEGORIES],
        "total_minor": total,
        "vat_rate_percent": vat_rate_percent,
        "vat_minor": vat_part(total, vat_rate_percent),
    }


def _movement_category(kind: str, amount: int) -> str:
    if amount > 0:
        return "payments" if kind in PAYMENT_KINDS else "other_credits"
    if kind == "usage":
        return "usage"
    return CATEGORY_OF_KIND.get(kind, "other")


def reconciliation_figures(company: Any, *, start: date, end: date, until: datetime) -> dict[str, Any]:
    """Opening balance, the movements of each local day by category (charges and payments apart), and
    the closing balance of [start, end], read from the ledger up to `until` (the moment it is made)."""
    ledger_id = int(company.account.ledger_account_id)
    since = local_midnight(start)
    until = min(local_midnight(end + timedelta(days=1)), until)
    period = ledger_queries.get_period_money(ledger_id, since=since, until=until)
    tz = operator_tz()
    rows: dict[tuple[str, str], list[int]] = {}
    postings: Iterable[dict[str, Any]] = ledger_queries.list_account_postings(
        ledger_id, since=since, until=until
    )
    for posting in postings:
        amount = int(posting["amount_minor"])
        day = posting["created_at"].astimezone(tz).date().isoformat()
        category = _movement_category(str(posting["transaction__kind"]), amount)
        debit_credit = rows.setdefault((day, category), [0, 0])
        if amount < 0:
            debit_credit[0] += -amount
        else:
            debit_credit[1] += amount
    movements = [
        {"day": day, "category": category, "debit_minor": debit, "credit_minor": credit}
        for (day, category), (debit, credit) in sorted(rows.items())
    ]
    return {
        "operator": _operator_details(),
        "company": _company_details(company),
        "opening_minor": period.opening_minor,
        "closing_minor": period.closing_minor,
        "movements": movements,
        "debit_minor": sum(m["debit_minor"] for m in movements),
        "credit_minor": sum(m["credit_minor"] for m in movements),
        "until": until.isoformat(),
    }
