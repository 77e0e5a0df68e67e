"""Outbound messages to subscribers.

An `OutboundSms` row is the record of one SMS: who, which template, in which language, how delivery
went. Its `text` is kept only while the message waits to be sent: one-time codes are in it, and the
database must never keep a plaintext code, so delivery (or its final failure) blanks it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    # Claimed by one delivery job, which is handing it to the gateway right now: no other job may.
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class OutboundSms(models.Model):
    msisdn = models.CharField(_("number"), max_length=16, help_text=_("E.164, with the leading +"))
    template = models.CharField(_("template"), max_length=64)
    language = models.CharField(_("language"), max_length=8)
    text = models.TextField(_("text"), blank=True, help_text=_("Blanked once the message is sent."))
    status = models.CharField(_("status"), max_length=8, choices=SmsStatus.choices, default=SmsStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # When the message is due for its next try: at queueing, then after each retryable failure the
    # back-off's end. The resend sweep picks queued messages whose time passed long ago (a lost job).
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # When the delivery job in progress claimed it (status "sending").
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound SMS")
        verbose_name_plural = _("outbound SMS")
        indexes = [
            models.Index(fields=["msisdn", "created_at"], name="notif_sms_msisdn_created"),
            models.Index(fields=["status", "next_attempt_at"], name="notif_sms_status_next"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.msisdn} ({self.status})"


class SmsKind(models.TextChoices):
    """The kinds of SMS a subscriber may switch off (message_templates.OPTIONAL_TEMPLATE_KINDS).
    Codes, security notices and the notices of a block are not among them: those are always sent."""

    LOW_BALANCE = "low_balance", _("Low balance")
    PAYMENTS = "payments", _("Payments: autopay, promised payment, expiring card")
    BLOCKING = "blocking", _("Services restored after a block for debt")


class SmsPreference(models.Model):
    """What the subscriber of a number chose for their SMS: a language and the kinds they switched off.

    Keyed by the number, like the messages themselves. No row: every kind on, the caller's language.
    """

    msisdn = models.CharField(
        _("number"), max_length=16, unique=True, help_text=_("E.164, with the leading +")
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    muted_kinds = models.JSONField(_("kinds switched off"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("SMS preference")
        verbose_name_plural = _("SMS preferences")

    def __str__(self) -> str:
        return self.msisdn
