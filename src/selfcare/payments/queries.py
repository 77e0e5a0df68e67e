"""Reads of the payments domain for pages, the API and the services' own decisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from selfcare.kit import clock
from selfcare.ledger import queries as ledger_queries
from selfcare.payments.errors import PaymentNotFound
from selfcare.payments.models import (
    DEFAULT_PROMISED_TIERS,
    OPEN_PROMISED_STATUSES,
    AutopaySettings,
    Payment,
    PromisedPayment,
    PromisedPaymentRule,
    PromisedStatus,
    SavedCard,
)

# Kept in step with services.NOT_SPENDING_KINDS (queries may not import services).
_NOT_SPENDING_KINDS = ("promised_repay", "promised_collect")


def get_promised_rule() -> PromisedPaymentRule:
    """The rule in force: the newest saved row, or the defaults when the back office saved none."""
    rule = PromisedPaymentRule.objects.order_by("-pk").first()
    if rule is None:
        rule = PromisedPaymentRule(tiers=list(DEFAULT_PROMISED_TIERS), updated_at=clock.now())
    if not rule.tiers:
        rule.tiers = list(DEFAULT_PROMISED_TIERS)
    return rule


@dataclass(frozen=True)
class Tier:
    amount_minor: int
    fee_minor: int


@dataclass(frozen=True)
class PromisedOffer:
    eligible: bool
    reasons: list[str | Promise]
    tiers: list[Tier]
    max_amount_minor: int
    term_days: int
    due_at: datetime
    balance_minor: int
    tenure_days: int
    avg_monthly_spend_minor: int
    open_promised: PromisedPayment | None = None
    all_tiers: list[Tier] = field(default_factory=list)


def spend_window_days(rule: PromisedPaymentRule) -> int:
    """How far back the average monthly spending of a promised payment rule looks."""
    return 30 * max(rule.spend_months, 1)


def promised_offer(
    line: Any,
    *,
    rule: PromisedPaymentRule | None = None,
    balance_minor: int | None = None,
    spent_minor: int | None = None,
) -> PromisedOffer:
    """Whether this line may take a promised payment now, which amounts, at which fees, until when.

    A page that has already read the rule, the balance and the spending of the last
    `spend_window_days(rule)` days (excluding repayments) passes them in and saves their queries.
    """
    rule = rule if rule is not None else get_promised_rule()
    now = clock.now()
    account = line.account
    customer = int(account.ledger_account_id)
    balance = ledger_queries.get_balance_minor(customer) if balance_minor is None else balance_minor
    tenure_days = (now - line.activated_at).days
    spent = (
        ledger_queries.sum_debits_minor(
            customer, since=now - timedelta(days=spend_window_days(rule)), exclude_kinds=_NOT_SPENDING_KINDS
        )
        if spent_minor is None
        else spent_minor
    )
    avg_spend = spent // max(rule.spend_months, 1)
    cap = rule.max_amount_minor
    if rule.spend_multiplier_pct:
        cap = min(cap, avg_spend * rule.spend_multiplier_pct // 100)
    all_tiers = sorted(
        (Tier(int(t["amount_minor"]), int(t.get("fee_minor", 0))) for t in rule.tiers),
        key=lambda t: t.amount_minor,
    )
    tiers = [t for t in all_tiers if 0 < t.amount_minor <= cap and t.fee_minor < t.amount_minor]
    # The open promised payment and any written-off one, in one query.
    earlier = list(
        PromisedPayment.objects.filter(
            account_id=account.pk, status__in=[*OPEN_PROMISED_STATUSES, PromisedStatus.WRITTEN_OFF]
        ).order_by("granted_at", "pk")
    )
    open_promised = next((p for p in earlier if p.status in OPEN_PROMISED_STATUSES), None)
    written_off = any(p.status == PromisedStatus.WRITTEN_OFF for p in earlier)
    reasons: list[str | Promise] = []
    if not rule.enabled:
        reasons.append(_("Promised payments are not offered at the moment."))
    if account.kind != "prepaid":
        reasons.append(_("Promised payments are for prepaid accounts."))
    if open_promised is not None and open_promised.status == PromisedStatus.OVERDUE:
        reasons.append(_("An earlier promised payment is overdue; top up to repay it first."))
    elif open_promised is not None:
        reasons.append(_("You already have a promised payment; it is repaid with your next top-up."))
    if written_off:
        reasons.append(_("An earlier promised payment was not repaid."))
    if tenure_days < rule.min_tenure_days:
        reasons.append(
            _("The number must be with us for at least %(days)s days.") % {"days": rule.min_tenure_days}
        )
    if avg_spend < rule.min_avg_monthly_spend_minor:
        reasons.append(_("Average monthly spending is below what promised payments need."))
    if balance >= rule.min_balance_minor:
        reasons.append(_("There is enough money on the balance."))
    if not tiers:
        reasons.append(_("No promised payment amount is available for this number."))
    return PromisedOffer(
        eligible=not reasons,
        reasons=reasons,
        tiers=tiers,
        max_amount_minor=max((t.amount_minor for t in tiers), default=0),
        term_days=rule.term_days,
        due_at=now + timedelta(days=rule.term_days),
        balance_minor=balance,
        tenure_days=tenure_days,
        avg_monthly_spend_minor=avg_spend,
        open_promised=open_promised,
        all_tiers=all_tiers,
    )


def _visible_to(user: Any, account_id: int | None) -> Q:
    visible = Q(payer=user)
    if account_id is not None:
        visible |= Q(account_id=account_id)
    return visible


def list_payments(user: Any, *, account_id: int | None, limit: int = 50) -> QuerySet[Payment]:
    """Payments the user made, and payments to their own account (someone else topping them up)."""
    return Payment.objects.filter(_visible_to(user, account_id)).order_by("-created_at", "-pk")[:limit]


def get_payment_for(user: Any, public_id: Any, *, account_id: int | None) -> Payment:
    payment = Payment.objects.filter(_visible_to(user, account_id), public_id=public_id).first()
    if payment is None:
        raise PaymentNotFound()
    return payment


def list_saved_cards(user: Any) -> QuerySet[SavedCard]:
    return SavedCard.objects.filter(owner=user, removed_at__isnull=True).order_by("-created_at")


def get_autopay(account_id: int) -> AutopaySettings | None:
    return AutopaySettings.objects.select_related("card").filter(account_id=account_id).first()


def list_accounts_below_autopay_threshold(ledger_account_ids: list[int]) -> list[int]:
    """Of these customer ledger accounts, the (lines) accounts with autopay on, a card that is not
    removed, and a balance now below their threshold: the ones worth an autopay check (one query)."""
    if not ledger_account_ids:
        return []
    return sorted(
        account_id
        for account_id, threshold, balance in AutopaySettings.objects.filter(
            enabled=True,
            card__removed_at__isnull=True,
            account__ledger_account_id__in=sorted(set(ledger_account_ids)),
        ).values_list("account_id", "threshold_minor", "account__ledger_account__balance_minor")
        if balance < threshold
    )


def list_promised(account_id: int, *, limit: int = 20) -> QuerySet[PromisedPayment]:
    return PromisedPayment.objects.filter(account_id=account_id).order_by("-granted_at")[:limit]


def get_payment_cards(payment_ids: Iterable[int]) -> dict[int, tuple[str, str, str, str]]:
    """(kind, card brand, last four digits, public id) of these payments, by id, to name top-ups in a
    history and link their receipts."""
    return {
        pk: (kind, brand, last4, str(public_id))
        for pk, kind, brand, last4, public_id in Payment.objects.filter(
            pk__in=list(set(payment_ids))
        ).values_list("pk", "kind", "card_brand", "card_last4", "public_id")
    }


def count_payments(user: Any, *, account_id: int | None) -> int:
    """How many payments `list_payments` would list without a limit."""
    return Payment.objects.filter(_visible_to(user, account_id)).count()
