"""Call-detail statements: what a subscriber ordered, how its generation went, where the file is.

The document itself is a file under SELFCARE_STATEMENTS_DIR, never a database row: call detail is
personal data and secrecy of communications, kept only for the retention period and then deleted
by the periodic purge (the row stays, marked expired, as the record that it existed).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Format(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "XLSX"
    CSV = "csv", "CSV"


class Category(models.TextChoices):
    CALLS = "calls", _("Calls")
    SMS = "sms", _("SMS")
    DATA = "data", _("Mobile internet")
    OTHER = "other", _("Other charges")


class OrderStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    GENERATING = "generating", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted after the retention period")


class StatementOrder(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    # The owner: the only person who may ever download the file.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="+")
    msisdn = models.CharField(_("number (E.164)"), max_length=16)
    # The local days ordered, both included; the instants are the operator's local midnights.
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    categories = models.JSONField(_("categories"), default=list)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    language = models.CharField(_("language"), max_length=8)
    by_email = models.BooleanField(_("also by e-mail"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("events"), default=0)
    rows_done = models.PositiveIntegerField(_("events written"), default=0)
    fee_minor = models.BigIntegerField(_("fee (minor units)"), default=0)
    fee_transaction_id = models.BigIntegerField(_("fee transaction"), null=True, blank=True)
    # Per user: the same key from the same person returns the first order instead of a second one.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    file_name = models.CharField(_("file"), max_length=100, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"), default=0)
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("ordered at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("kept until"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("call-detail order")
        verbose_name_plural = _("call-detail orders")
        indexes = [
            models.Index(fields=["user", "created_at"], name="statements_order_user"),
            # The purge looks for ready files past their retention.
            models.Index(
                fields=["expires_at"], condition=models.Q(status="ready"), name="statements_order_expiry"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")), name="statements_period_order"
            ),
            models.CheckConstraint(condition=models.Q(fee_minor__gte=0), name="statements_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.msisdn} {self.period_start}…{self.period_end} {self.format}"

    @property
    def progress_percent(self) -> int:
        if self.status == OrderStatus.READY:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def is_pending(self) -> bool:
        return self.status in (OrderStatus.QUEUED, OrderStatus.GENERATING)
