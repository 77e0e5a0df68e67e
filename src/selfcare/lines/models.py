"""Customers, their accounts and lines (DESIGN.md §7).

An Account is where a customer's money is: it owns one ledger account (balance, floor) and any
number of lines. Prepaid accounts stop at zero; postpaid (corporate) ones at minus the credit limit.
A line's current tariff is kept on the line for fast reads; the assignments are the history.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ORGANIZATION = "organization", _("Organization")


class Customer(models.Model):
    kind = models.CharField(
        _("kind"), max_length=16, choices=CustomerKind.choices, default=CustomerKind.INDIVIDUAL
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    tax_id = models.CharField(_("tax id"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class AccountKind(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid")
    POSTPAID = "postpaid", _("Postpaid")


class Account(models.Model):
    number = models.CharField(_("account number"), max_length=20, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(_("kind"), max_length=8, choices=AccountKind.choices, default=AccountKind.PREPAID)
    credit_limit_minor = models.BigIntegerField(_("credit limit (minor units)"), default=0)
    currency = models.CharField(_("currency"), max_length=3)
    ledger_account = models.OneToOneField(
        "ledger.LedgerAccount", on_delete=models.PROTECT, related_name="+", verbose_name=_("ledger account")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credit_limit_minor__gte=0), name="lines_credit_limit_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="postpaid") | models.Q(credit_limit_minor=0),
                name="lines_prepaid_has_no_credit",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LineStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    BLOCKED_BY_SUBSCRIBER = "blocked_subscriber", _("Blocked by the subscriber")
    BLOCKED_FOR_DEBT = "blocked_debt", _("Blocked for debt")
    TERMINATED = "terminated", _("Terminated")


class Line(models.Model):
    msisdn = models.CharField(_("number (E.164)"), max_length=16, unique=True)
    iccid = models.CharField(_("ICCID"), max_length=22, unique=True)
    imsi = models.CharField(_("IMSI"), max_length=15, unique=True, null=True, blank=True)
    # A keyed hash (selfcare.lines.services.hash_puk); the PUK itself is never stored.
    puk_hash = models.CharField(_("PUK hash"), max_length=64, blank=True)
    region = models.ForeignKey(
        "catalog.Region", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    tariff = models.ForeignKey("catalog.Tariff", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=20, choices=LineStatus.choices, default=LineStatus.ACTIVE
    )
    status_changed_at = models.DateTimeField(_("status changed at"))
    # While the subscriber has the line blocked (lost phone): the status lifting that block returns
    # to. A line blocked for debt stays blocked for debt after the subscriber's own block is lifted.
    status_before_block = models.CharField(
        _("status before the subscriber's block"), max_length=20, choices=LineStatus.choices, blank=True
    )
    holder_name = models.CharField(
        _("holder name"), max_length=200, blank=True, help_text=_("The person using the line (employee).")
    )
    activated_at = models.DateTimeField(_("activated at"))

    class Meta:
        verbose_name = _("line")
        verbose_name_plural = _("lines")
        indexes = [models.Index(fields=["account", "status"], name="lines_line_account_status")]

    def __str__(self) -> str:
        return self.msisdn


class TariffAssignment(models.Model):
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="tariff_history")
    tariff = models.ForeignKey("catalog.Tariff", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    actor = models.CharField(_("actor"), max_length=100)

    class Meta:
        verbose_name = _("tariff assignment")
        verbose_name_plural = _("tariff assignments")
        indexes = [
            models.Index(fields=["line", "started_at"], name="lines_tariffhist_line"),
            # The rating engine asks each batch "which tariffs ended since the batch's first record?":
            # only ended assignments are indexed, few next to the lines, so the answer costs a probe.
            models.Index(
                fields=["ended_at"], condition=models.Q(ended_at__isnull=False), name="lines_tariffhist_ended"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["line"], condition=models.Q(ended_at__isnull=True), name="lines_one_current_tariff"
            )
        ]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.tariff_id} from {self.started_at:%Y-%m-%d}"


class ServiceAssignment(models.Model):
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="service_history")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    connected_at = models.DateTimeField(_("connected at"))
    disconnected_at = models.DateTimeField(_("disconnected at"), null=True, blank=True)
    actor = models.CharField(_("actor"), max_length=100)

    class Meta:
        verbose_name = _("service assignment")
        verbose_name_plural = _("service assignments")
        indexes = [models.Index(fields=["line", "connected_at"], name="lines_servicehist_line")]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "service"],
                condition=models.Q(disconnected_at__isnull=True),
                name="lines_service_connected_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.service_id} from {self.connected_at:%Y-%m-%d}"


class BlackListEntry(models.Model):
    """A number whose calls and SMS to this line are refused while the Black list service is on."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="black_list")
    msisdn = models.CharField(_("blocked number (E.164)"), max_length=16)
    note = models.CharField(_("note"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("black list entry")
        verbose_name_plural = _("black list entries")
        constraints = [models.UniqueConstraint(fields=["line", "msisdn"], name="lines_blacklist_unique")]

    def __str__(self) -> str:
        return self.msisdn


class LineQuota(models.Model):
    """A line's monthly spending quota and the counter of what the line spent this month.

    `spent_minor` is what the ledger charged the line's account for the line's usage, fees and
    services in the local calendar month starting on `month` (SELFCARE's TIME_ZONE). The services
    that post those charges add to it in the same database transaction (`services.record_line_spend`),
    so rating checks a quota by reading one row, never by summing postings. A row exists for every
    line that was charged something or had a quota set; `limit_minor` None means no quota. A counter
    of an earlier month reads as 0 and restarts at the first charge of the new month.
    """

    line = models.OneToOneField(
        Line, on_delete=models.CASCADE, primary_key=True, related_name="quota", verbose_name=_("line")
    )
    limit_minor = models.BigIntegerField(
        _("monthly quota (minor units)"), null=True, blank=True, help_text=_("Empty: no quota.")
    )
    month = models.DateField(_("month of the counter"))
    spent_minor = models.BigIntegerField(_("spent this month (minor units)"), default=0)
    # The month whose 80 percent notice was sent: at most one notice per line and month.
    alerted_month = models.DateField(_("quota notice sent for the month"), null=True, blank=True)

    class Meta:
        verbose_name = _("line quota")
        verbose_name_plural = _("line quotas")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(limit_minor__isnull=True) | models.Q(limit_minor__gte=0),
                name="lines_quota_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.spent_minor}/{self.limit_minor}"

    @staticmethod
    def month_of(moment: datetime) -> date:
        """The first day of the operator's local calendar month containing `moment`."""
        return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date().replace(day=1)

    def spent_in(self, month: date) -> int:
        """What the counter says for `month` (0 when it still counts an earlier month)."""
        return self.spent_minor if self.month == month else 0
