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
