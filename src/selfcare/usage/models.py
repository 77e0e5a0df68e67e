"""Usage records, the batches they came in, and the buckets they draw on (DESIGN.md §7).

A UsageRecord is one network event (a call, an SMS, a data session) from one source, unique by
(source, source_record_id) so that a re-delivered record is recognised whatever path it comes by.
Each stored record keeps what the rating engine decided: its usage class and zone, the units after
rounding, the bucket it drew on, the units priced and the price, and the ledger transaction of its
batch that carries that price. A record that draws on more than one bucket (one ran out mid-call)
keeps its first draw on the row and every further draw as a BucketConsumption row, so the sum
`bucket_units + Σ consumption.units + priced_units == charged_units` explains every write-off.

A Bucket is the remaining allowance of one kind for one line and one period, created from a tariff
allowance (one per tariff period) or from a connected service (a pack for its validity, or per
period for a periodic service). Periods are never reset in place: a new period is a new row, so a
late record still draws on the bucket of the period it happened in.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    VOICE_OUT = "voice_out", _("Outgoing call")
    VOICE_IN = "voice_in", _("Incoming call")
    SMS_OUT = "sms_out", _("Outgoing SMS")
    SMS_IN = "sms_in", _("Incoming SMS")
    DATA = "data", _("Data session")


class RecordStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")


class RefusalReason(models.TextChoices):
    LINE_BLOCKED = "line_blocked", _("The line is blocked")
    BLACK_LISTED = "black_listed", _("The caller is on the line's black list")
    INSUFFICIENT_FUNDS = "insufficient_funds", _("Not enough money on the balance")
    NO_RATE = "no_rate", _("The tariff has no price for this usage")
    QUOTA_EXCEEDED = "quota_exceeded", _("The line's monthly spending quota is reached")


class UsageBatch(models.Model):
    """One call of `rate_batch`: what arrived together, and what became of it."""

    received_at = models.DateTimeField(_("received at"))
    actor = models.CharField(_("actor"), max_length=100)
    records_total = models.PositiveIntegerField(_("records"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    refused = models.PositiveIntegerField(_("refused"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    charged_minor = models.BigIntegerField(_("charged (minor units)"), default=0)

    class Meta:
        verbose_name = _("usage batch")
        verbose_name_plural = _("usage batches")

    def __str__(self) -> str:
        return f"#{self.pk} {self.received_at:%Y-%m-%d %H:%M}"


class Bucket(models.Model):
    # Indexed by the (line, period_start) index and the unique constraint, both led by line.
    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="+", db_index=False)
    usage_kind = models.CharField(_("usage kind"), max_length=8)
    # The usage classes it covers (catalog.UsageClass values), copied from the allowance so that a
    # catalog edit never changes what an existing bucket meant.
    usage_classes = models.JSONField(_("usage classes"), default=list)
    zone = models.ForeignKey(
        "catalog.Zone", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    allowance = models.ForeignKey("catalog.Allowance", on_delete=models.PROTECT, related_name="+")
    # Where it came from: exactly one of a tariff or a service assignment.
    tariff = models.ForeignKey(
        "catalog.Tariff", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    service_assignment = models.ForeignKey(
        "lines.ServiceAssignment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.BigIntegerField(_("amount"), help_text=_("Seconds, messages or bytes."))
    remaining = models.BigIntegerField(_("remaining"))
    period_start = models.DateTimeField(_("valid from"))
    period_end = models.DateTimeField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("bucket")
        verbose_name_plural = _("buckets")
        indexes = [models.Index(fields=["line", "period_start"], name="usage_bucket_line_period")]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "allowance", "period_start"], name="usage_bucket_one_per_period"
            ),
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0) & models.Q(remaining__lte=models.F("amount")),
                name="usage_bucket_remaining_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(tariff__isnull=False, service_assignment__isnull=True)
                | models.Q(tariff__isnull=True, service_assignment__isnull=False),
                name="usage_bucket_one_origin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.usage_kind} {self.remaining}/{self.amount}"

    @property
    def used(self) -> int:
        return self.amount - self.remaining


class UsageRecord(models.Model):
    source = models.CharField(_("source"), max_length=32)
    source_record_id = models.CharField(_("source record id"), max_length=64)
    # Every index and every foreign-key check slows the bulk write (PostgreSQL checks each deferred
    # constraint per row at commit). Only the indexes reads need are kept (line + time for call
    # detail, bucket and transaction to explain a write-off or a charge), and only the line is a
    # database constraint: batch, zones, bucket and transaction ids are written by the engine in the
    # same transaction that reads or creates those rows, and none of them is ever deleted.
    batch = models.ForeignKey(
        UsageBatch, on_delete=models.PROTECT, related_name="records", db_index=False, db_constraint=False
    )
    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(_("type"), max_length=10, choices=RecordKind.choices)
    started_at = models.DateTimeField(_("started at"))
    duration_s = models.IntegerField(_("duration (s)"), default=0)
    volume_bytes = models.BigIntegerField(_("volume (bytes)"), default=0)
    counterparty = models.CharField(_("other number"), max_length=32, blank=True)
    roaming_zone = models.ForeignKey(
        "catalog.Zone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    cell = models.CharField(_("cell / location"), max_length=32, blank=True)
    # What the rating engine decided.
    status = models.CharField(_("status"), max_length=10, choices=RecordStatus.choices)
    refusal_reason = models.CharField(
        _("refusal reason"), max_length=20, choices=RefusalReason.choices, blank=True
    )
    usage_class = models.CharField(_("usage class"), max_length=16, blank=True)
    zone = models.ForeignKey(
        "catalog.Zone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    charged_units = models.BigIntegerField(_("units after rounding"), default=0)
    bucket = models.ForeignKey(
        Bucket, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_constraint=False
    )
    bucket_units = models.BigIntegerField(_("units from the bucket"), default=0)
    priced_units = models.BigIntegerField(_("units priced"), default=0)
    price_minor = models.BigIntegerField(_("price (minor units)"), default=0)
    transaction = models.ForeignKey(
        "ledger.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    rated_at = models.DateTimeField(_("rated at"))

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_record_id"], name="usage_record_unique_source_id"
            ),
            models.CheckConstraint(
                condition=models.Q(price_minor__gte=0), name="usage_record_price_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["line", "started_at"], name="usage_record_line_time")]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_record_id}"


class BucketConsumption(models.Model):
    """A record's second and later draws on buckets (the first one is on the record itself)."""

    record = models.ForeignKey(UsageRecord, on_delete=models.PROTECT, related_name="extra_consumptions")
    bucket = models.ForeignKey(Bucket, on_delete=models.PROTECT, related_name="+")
    units = models.BigIntegerField(_("units"))

    class Meta:
        verbose_name = _("bucket consumption")
        verbose_name_plural = _("bucket consumptions")
        constraints = [
            models.CheckConstraint(condition=models.Q(units__gt=0), name="usage_consumption_positive")
        ]

    def __str__(self) -> str:
        return f"{self.record_id} → {self.bucket_id}: {self.units}"
