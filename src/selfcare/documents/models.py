"""Accounting documents of companies: the month's invoice and act, and reconciliation statements.

A document is numbered when it is issued (per kind and calendar year, gap-free: the counter row is
locked and advanced in the same transaction that creates the document) and its figures are fixed
then (`figures`, JSON of integer minor units): the PDF is drawn from them, so drawing it again gives
the same document. The file lives under SELFCARE_DOCUMENTS_DIR and is kept: accounting documents are
not deleted after a retention period like call detail (docs/documents.md).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    ACT = "act", _("Act of services rendered")
    RECONCILIATION = "reconciliation", _("Reconciliation statement")


# Issued once per company and month by the month-close job (the unique constraint below).
MONTHLY_KINDS = (Kind.INVOICE, Kind.ACT)


class Status(models.TextChoices):
    QUEUED = "queued", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Document(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    year = models.PositiveIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=32)
    # The local days covered, both included.
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    language = models.CharField(_("language"), max_length=8)
    currency = models.CharField(_("currency"), max_length=3)
    total_minor = models.BigIntegerField(_("total (minor units)"), default=0)
    vat_minor = models.BigIntegerField(_("VAT (minor units)"), default=0)
    vat_rate_percent = models.PositiveSmallIntegerField(_("VAT rate (%)"), default=0)
    figures = models.JSONField(_("figures"), default=dict)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField(_("file"), max_length=100, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"), default=0)
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    # Who asked: "system:documents" for the month close, the audit name of a person otherwise.
    ordered_by = models.CharField(_("ordered by"), max_length=100)
    ordered_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("issued at"))
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)

    class Meta:
        verbose_name = _("company document")
        verbose_name_plural = _("company documents")
        indexes = [models.Index(fields=["company", "created_at"], name="documents_company_time")]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "sequence"], name="documents_number_unique"),
            models.UniqueConstraint(
                fields=["company", "kind", "period_start", "period_end"],
                condition=models.Q(kind__in=["invoice", "act"]),
                name="documents_one_per_company_kind_period",
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")), name="documents_period_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class NumberCounter(models.Model):
    """The last number given to a kind of document in a year: locked and advanced by each issue."""

    kind = models.CharField(max_length=16, choices=Kind.choices)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("document number counter")
        verbose_name_plural = _("document number counters")
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="documents_counter_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"
