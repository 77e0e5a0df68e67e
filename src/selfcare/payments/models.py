"""Payments: card top-ups through providers, webhooks, alerts, saved cards, autopay, promised payments.

Card data never reaches these tables (PCI DSS SAQ A): a payment keeps the provider's id and, once
the provider reports it, the card's last four digits and brand; a saved card keeps the provider's
token, last four, brand and expiry. Money moves only through the ledger (selfcare.ledger.services);
these rows record what was asked, what the provider said, and which ledger transaction resulted.

The fake acquirer (providers/fake/) keeps its own state in the FakeAcquirer* tables at the end: it
stands for an outside system and is never read by our payment logic except through the provider.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentKind(models.TextChoices):
    TOPUP = "topup", _("Card top-up")
    AUTOPAY = "autopay", _("Autopay")


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")
    # The provider confirmed a payment that differs from what we asked (amount or currency): nothing
    # is credited and staff decide (PaymentAlert).
    REVIEW = "review", _("Under review")


FINAL_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.REVIEW)


class Payment(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=PaymentKind.choices, default=PaymentKind.TOPUP)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payer"),
    )
    # The idempotency key the payer sent, scoped by payer (two payers may pick the same key).
    request_key = models.CharField(_("idempotency key"), max_length=250, unique=True)
    request_fingerprint = models.CharField(max_length=64)
    account = models.ForeignKey(
        "lines.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    msisdn = models.CharField(_("number topped up (E.164)"), max_length=16)
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    provider = models.CharField(_("provider"), max_length=32)
    # NULL until the provider answers: many unopened payments, yet each provider id at most once.
    provider_payment_id = models.CharField(  # noqa: DJ001
        _("provider payment id"), max_length=100, null=True, blank=True
    )
    confirmation_url = models.URLField(_("payment page"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    failure_code = models.CharField(_("failure"), max_length=64, blank=True)
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True)
    card_brand = models.CharField(_("card brand"), max_length=20, blank=True)
    save_card = models.BooleanField(_("save the card (consent)"), default=False)
    saved_card = models.ForeignKey(
        "SavedCard", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    # A top-up made to put a new card in the place of an expiring one (autopay moves to the new card).
    replaces_card = models.ForeignKey(
        "SavedCard", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ledger_transaction_id = models.BigIntegerField(_("ledger transaction"), null=True, blank=True)
    repaid_promised_minor = models.BigIntegerField(_("promised payment repaid (minor units)"), default=0)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last status query"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"], name="payments_provider_payment_once"
            ),
            models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="payments_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payments_status_created"),
            models.Index(fields=["account", "created_at"], name="payments_account_created"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.amount_minor} {self.currency} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class WebhookEvent(models.Model):
    """One provider notification we accepted (signature verified), kept to drop redeliveries."""

    provider = models.CharField(_("provider"), max_length=32)
    event_id = models.CharField(_("event id"), max_length=200)
    event_type = models.CharField(_("type"), max_length=64, blank=True)
    provider_payment_id = models.CharField(_("provider payment id"), max_length=100, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=32)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payments_webhook_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class AlertKind(models.TextChoices):
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount mismatch")
    CURRENCY_MISMATCH = "currency_mismatch", _("Currency mismatch")
    UNKNOWN_PAYMENT = "unknown_payment", _("Confirmation of an unknown payment")


class PaymentAlert(models.Model):
    """Something the back office must look at: money the provider reports that we did not credit."""

    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    provider = models.CharField(_("provider"), max_length=32)
    provider_payment_id = models.CharField(_("provider payment id"), max_length=100, blank=True)
    details = models.JSONField(_("details"), default=dict)
    created_at = models.DateTimeField(_("created at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("payment alert")
        verbose_name_plural = _("payment alerts")
        constraints = [
            # One alert per problem, however many times the provider repeats the confirmation.
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id", "kind"], name="payments_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider}:{self.provider_payment_id}"


class SavedCard(models.Model):
    """A card the subscriber agreed to keep for one-tap and automatic top-ups: the provider's token only."""

    account = models.ForeignKey("lines.Account", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=32)
    token = models.CharField(_("provider token"), max_length=200)
    last4 = models.CharField(_("last 4 digits"), max_length=4)
    brand = models.CharField(_("brand"), max_length=20)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    created_at = models.DateTimeField(_("saved at"))
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    # The expiry month ("2026-04") we last announced, so the reminder goes out once.
    expiry_announced_for = models.CharField(max_length=7, blank=True)

    class Meta:
        verbose_name = _("saved card")
        verbose_name_plural = _("saved cards")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "token"],
                condition=models.Q(removed_at__isnull=True),
                name="payments_saved_card_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"


class AutopaySettings(models.Model):
    """Top up `amount_minor` from a saved card when the balance falls below `threshold_minor`."""

    account = models.OneToOneField("lines.Account", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    card = models.ForeignKey(SavedCard, on_delete=models.PROTECT, related_name="+")
    msisdn = models.CharField(_("number (E.164)"), max_length=16)
    enabled = models.BooleanField(_("enabled"), default=True)
    threshold_minor = models.BigIntegerField(_("when the balance falls below (minor units)"))
    amount_minor = models.BigIntegerField(_("top up by (minor units)"))
    max_per_month = models.PositiveSmallIntegerField(_("at most per month"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("autopay")
        verbose_name_plural = _("autopay")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="payments_autopay_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"autopay {self.account_id}"


class PromisedPaymentRule(models.Model):
    """The conditions of promised payments, edited in the back office. The newest row applies."""

    enabled = models.BooleanField(_("promised payments offered"), default=True)
    min_tenure_days = models.PositiveIntegerField(_("minimum days with us"), default=60)
    spend_months = models.PositiveSmallIntegerField(_("months of spending looked at"), default=3)
    min_avg_monthly_spend_minor = models.BigIntegerField(
        _("minimum average monthly spend (minor units)"), default=0
    )
    # The allowed maximum is the smaller of max_amount_minor and spend_multiplier_pct% of the average
    # monthly spend (0 turns the spend cap off).
    max_amount_minor = models.BigIntegerField(_("maximum amount (minor units)"), default=80_000)
    # The "%" is a literal percent sign, not a placeholder; without this xgettext marks the string
    # python-format and msgfmt then rejects every translation. xgettext:no-python-format
    spend_multiplier_pct = models.PositiveIntegerField(_("maximum as % of average monthly spend"), default=0)
    min_balance_minor = models.BigIntegerField(
        _("offered when the balance is below (minor units)"),
        default=30_000,
        help_text=_("A promised payment is for subscribers running out of money."),
    )
    term_days = models.PositiveSmallIntegerField(_("term (days)"), default=3)
    # [{"amount_minor": 10000, "fee_minor": 0}, ...] in ascending amount; the fee of the chosen tier.
    tiers = models.JSONField(_("amount tiers and fees"), default=list)
    write_off_after_days = models.PositiveIntegerField(
        _("write off an overdue remainder after (days)"), default=90
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("promised payment rules")
        verbose_name_plural = _("promised payment rules")

    def __str__(self) -> str:
        return f"promised payment rules #{self.pk}"


DEFAULT_PROMISED_TIERS = [
    {"amount_minor": 10_000, "fee_minor": 0},
    {"amount_minor": 20_000, "fee_minor": 700},
    {"amount_minor": 50_000, "fee_minor": 1_500},
    {"amount_minor": 80_000, "fee_minor": 3_000},
]


class PromisedStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    OVERDUE = "overdue", _("Overdue")
    REPAID = "repaid", _("Repaid")
    WRITTEN_OFF = "written_off", _("Written off")


OPEN_PROMISED_STATUSES = (PromisedStatus.ACTIVE, PromisedStatus.OVERDUE)


class PromisedPayment(models.Model):
    account = models.ForeignKey("lines.Account", on_delete=models.PROTECT, related_name="+")
    msisdn = models.CharField(_("number (E.164)"), max_length=16)
    requested_by = models.CharField(_("requested by"), max_length=100)
    request_key = models.CharField(_("idempotency key"), max_length=250, unique=True)
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    fee_minor = models.BigIntegerField(_("fee (minor units)"))
    outstanding_minor = models.BigIntegerField(_("still owed (minor units)"))
    status = models.CharField(_("status"), max_length=16, choices=PromisedStatus.choices)
    granted_at = models.DateTimeField(_("granted at"))
    due_at = models.DateTimeField(_("due at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    written_off_minor = models.BigIntegerField(_("written off (minor units)"), default=0)
    grant_transaction_id = models.BigIntegerField(_("ledger transaction"), null=True, blank=True)

    class Meta:
        verbose_name = _("promised payment")
        verbose_name_plural = _("promised payments")
        constraints = [
            # One open promised payment per account, whatever races the checks above it lose.
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status__in=["active", "overdue"]),
                name="payments_one_open_promised",
            ),
            models.CheckConstraint(
                condition=models.Q(outstanding_minor__gte=0),
                name="payments_promised_outstanding_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="payments_promised_due")]

    def __str__(self) -> str:
        return f"promised {self.amount_minor} ({self.status})"


# --- The fake acquirer's own state (an outside system's, see providers/fake/) -----------------------


class FakeAcquirerPayment(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=200, blank=True)
    # The merchant's reference is its idempotency key: one acquirer payment per reference.
    reference = models.CharField(max_length=100, unique=True)
    return_url = models.URLField(max_length=1000)
    save_card = models.BooleanField(default=False)
    status = models.CharField(max_length=24)
    failure_code = models.CharField(max_length=64, blank=True)
    # Only what a real acquirer hands back to a merchant: never the card number or the code.
    card_last4 = models.CharField(max_length=4, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    card_token = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "fake acquirer payment"

    def __str__(self) -> str:
        return f"{self.id} {self.status}"


class FakeAcquirerCard(models.Model):
    """A card token the fake acquirer issued; its outcome is remembered by the card's behaviour."""

    token = models.CharField(primary_key=True, max_length=60)
    last4 = models.CharField(max_length=4)
    brand = models.CharField(max_length=20)
    behaviour = models.CharField(max_length=24)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = "fake acquirer card"

    def __str__(self) -> str:
        return f"{self.brand} {self.last4}"


class FakeAcquirerWebhook(models.Model):
    """A signed notification waiting to be (re)delivered by the simulator."""

    payment = models.ForeignKey(FakeAcquirerPayment, on_delete=models.CASCADE, related_name="webhooks")
    event_id = models.CharField(max_length=40)
    body = models.TextField()
    deliver_after = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "fake acquirer webhook"
        indexes = [models.Index(fields=["delivered_at", "deliver_after"], name="payments_fakehook_due")]

    def __str__(self) -> str:
        return self.event_id
