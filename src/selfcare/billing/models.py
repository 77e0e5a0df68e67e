"""Recurring fees (docs/billing.md).

A FeeCharge is one fee of one line for one product (tariff or service) and one period. It is unique
on (line, product kind, product id, period start), and the ledger transaction that takes the money
uses an idempotency key derived from the same four values: whatever runs twice or crashes midway, a
period is charged at most once.

A fee the balance cannot cover is kept as "unpaid" (the line's debt) and charged when money arrives;
if its period ends first it "lapses": no service was given for it, so nothing is owed for it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductKind(models.TextChoices):
    TARIFF = "tariff", _("Tariff")
    SERVICE = "service", _("Service")


class FeeStatus(models.TextChoices):
    CHARGED = "charged", _("Charged")
    UNPAID = "unpaid", _("Unpaid (debt)")
    LAPSED = "lapsed", _("Lapsed unpaid")


class FeeCharge(models.Model):
    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="+", verbose_name=_("line"))
    account = models.ForeignKey(
        "lines.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    product_kind = models.CharField(_("product kind"), max_length=8, choices=ProductKind.choices)
    product_id = models.BigIntegerField(_("product id"))
    fee_period = models.CharField(_("fee period"), max_length=8)
    # Local dates in the operator's time zone; the end is exclusive (the first day of the next period).
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    status = models.CharField(_("status"), max_length=8, choices=FeeStatus.choices)
    idempotency_key = models.CharField(_("ledger idempotency key"), max_length=200, unique=True)
    # A plain id, not a foreign key: ledger rows are append-only and owned by the ledger.
    ledger_transaction_id = models.BigIntegerField(_("ledger transaction"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    charged_at = models.DateTimeField(_("charged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fee charge")
        verbose_name_plural = _("fee charges")
        constraints = [
            models.UniqueConstraint(
                fields=["line", "product_kind", "product_id", "period_start"],
                name="billing_fee_once_per_period",
            ),
            models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="billing_fee_positive"),
            models.CheckConstraint(
                condition=models.Q(status="charged", ledger_transaction_id__isnull=False)
                | (~models.Q(status="charged") & models.Q(ledger_transaction_id__isnull=True)),
                name="billing_fee_charged_has_transaction",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"], name="billing_fee_account_status"),
            models.Index(fields=["status", "line"], name="billing_fee_status_line"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.product_kind}:{self.product_id} {self.period_start} {self.status}"


class ChangeAction(models.TextChoices):
    TARIFF = "tariff", _("Tariff change")
    CONNECT = "connect", _("Service connection")
    DISCONNECT = "disconnect", _("Service disconnection")
    BLACK_LIST_ADD = "black_list_add", _("Number added to the black list")


class ProductChange(models.Model):
    """One applied change a subscriber (or staff) asked for, with what it cost (billing/changes.py).

    Unique on the request key (the line and the caller's idempotency key): a repeated request finds
    this row and returns what was applied, charging nothing again. The money is in the ledger: the
    one-off fees (change, connection, black-list entry) in `transaction_ids`, the first period's fee
    as an ordinary FeeCharge (so the fee job never charges that period again).
    """

    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="+", verbose_name=_("line"))
    account = models.ForeignKey(
        "lines.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    action = models.CharField(_("action"), max_length=16, choices=ChangeAction.choices)
    # The tariff, the service, or (black_list_add) the service the entry belongs to.
    product_kind = models.CharField(_("product kind"), max_length=8, choices=ProductKind.choices)
    product_id = models.BigIntegerField(_("product id"))
    # The tariff left behind (tariff changes) or the black-list entry added (black_list_add).
    previous_tariff_id = models.BigIntegerField(_("previous tariff"), null=True, blank=True)
    entry_id = models.BigIntegerField(_("black list entry"), null=True, blank=True)
    entry_msisdn = models.CharField(_("black-listed number"), max_length=16, blank=True)
    request_key = models.CharField(_("request key"), max_length=250, unique=True)
    fee_today_minor = models.BigIntegerField(_("period fee charged now (minor units)"), default=0)
    change_fee_minor = models.BigIntegerField(_("one-off fee (minor units)"), default=0)
    balance_before_minor = models.BigIntegerField(_("balance before (minor units)"))
    balance_after_minor = models.BigIntegerField(_("balance after (minor units)"))
    effective_at = models.DateTimeField(_("effective at"))
    notes = models.JSONField(_("notes"), default=list, blank=True)
    # Ledger transactions of the one-off fees (plain ids: ledger rows are owned by the ledger); the
    # period fee's transaction is on its FeeCharge row.
    transaction_ids = models.JSONField(_("ledger transactions"), default=list, blank=True)
    actor = models.CharField(_("actor"), max_length=100)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("product change")
        verbose_name_plural = _("product changes")
        indexes = [models.Index(fields=["line", "created_at"], name="billing_change_line_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fee_today_minor__gte=0) & models.Q(change_fee_minor__gte=0),
                name="billing_change_fees_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.action} {self.product_kind}:{self.product_id}"

    @property
    def total_minor(self) -> int:
        return self.fee_today_minor + self.change_fee_minor


class BalanceAdjustment(models.Model):
    """A correction of a balance by the operator's staff (billing.services.adjust_balance).

    Positive amounts credit the customer, negative ones debit. The money is one ledger transaction
    (kind "adjustment") between the customer's account and the adjustments system account; this row
    keeps why, who, and the balance before and after. Unique on the idempotency key: a repeated form
    submission finds this row and posts nothing again. Its Meta permission `billing.adjust_balance`
    is what the back office's "Adjust balance" page asks for.
    """

    account = models.ForeignKey(
        "lines.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"), help_text=_("Credit > 0, debit < 0."))
    reason = models.CharField(_("reason"), max_length=300)
    below_floor_allowed = models.BooleanField(_("allowed below the floor"), default=False)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    # A plain id, not a foreign key: ledger rows are append-only and owned by the ledger.
    ledger_transaction_id = models.BigIntegerField(_("ledger transaction"))
    balance_before_minor = models.BigIntegerField(_("balance before (minor units)"))
    balance_after_minor = models.BigIntegerField(_("balance after (minor units)"))
    actor = models.CharField(_("actor"), max_length=100)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("balance adjustment")
        verbose_name_plural = _("balance adjustments")
        indexes = [models.Index(fields=["account", "created_at"], name="billing_adjust_account_time")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_minor=0), name="billing_adjustment_nonzero"),
        ]
        permissions = [("adjust_balance", _("Can adjust a balance by hand (credit or debit)"))]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_minor:+d}"
