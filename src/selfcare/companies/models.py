"""Companies: business applications, the company behind a corporate account, and its people.

A company is an organisation customer (`lines.Customer`, kind organization) with its details kept
here; its money is a `lines.Account` (postpaid with a credit limit, or prepaid) and its numbers are
ordinary lines of that account. People act for a company through a `Membership` with one role; an
employee sees only the line the membership names.

A business application is how a company arrives: the numbers it claims are proven by their PUK codes
at submission, and staff approve or reject it in the back office. Approval creates the company, its
account and the admin's invitation, and moves the lines under the new account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Company(models.Model):
    customer = models.OneToOneField(
        "lines.Customer", on_delete=models.PROTECT, related_name="company", verbose_name=_("customer")
    )
    account = models.OneToOneField(
        "lines.Account", on_delete=models.PROTECT, related_name="company", verbose_name=_("account")
    )
    region = models.ForeignKey(
        "catalog.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    name = models.CharField(_("company name"), max_length=200)
    tax_id = models.CharField(_("tax id"), max_length=20, db_index=True)
    legal_address = models.CharField(_("legal address"), max_length=300)
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_phone = models.CharField(_("contact phone (E.164)"), max_length=16)
    contact_email = models.EmailField(_("contact e-mail"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    ACCOUNTANT = "accountant", _("Accountant")
    VIEWER = "viewer", _("Viewer")
    EMPLOYEE = "employee", _("Employee")


class Membership(models.Model):
    """One person's role in one company. An employee's membership names their own line."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    line = models.ForeignKey(
        "lines.Line",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("line"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="companies_one_membership_per_user"),
            models.CheckConstraint(
                condition=~models.Q(role="employee") | models.Q(line__isnull=False),
                name="companies_employee_has_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} @ {self.company_id}"


class Invitation(models.Model):
    """A link sent by SMS and e-mail to set a password and join a company with a role."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    line = models.ForeignKey(
        "lines.Line",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("line"),
    )
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone (E.164)"), max_length=16)
    email = models.EmailField(_("e-mail"), blank=True)
    # sha256 of the token sent in the link; the token itself is never stored.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    invited_by = models.CharField(_("invited by"), max_length=100)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    membership = models.OneToOneField(
        Membership, on_delete=models.SET_NULL, related_name="invitation", null=True, blank=True
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Application(models.Model):
    """A business registration request, tracked by its number until staff decide it."""

    tracking_number = models.CharField(_("tracking number"), max_length=20, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    region = models.ForeignKey(
        "catalog.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    company_name = models.CharField(_("company name"), max_length=200)
    tax_id = models.CharField(_("tax id"), max_length=20)
    legal_address = models.CharField(_("legal address"), max_length=300)
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_phone = models.CharField(_("contact phone (E.164)"), max_length=16)
    contact_email = models.EmailField(_("contact e-mail"))
    terms_accepted_at = models.DateTimeField(_("terms accepted at"))
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.CharField(_("reviewed by"), max_length=100, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    company = models.OneToOneField(
        Company, on_delete=models.PROTECT, related_name="application", null=True, blank=True
    )
    # The language the applicant used: the decision's SMS and e-mail are written in it.
    language = models.CharField(_("language"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("business application")
        verbose_name_plural = _("business applications")

    def __str__(self) -> str:
        return self.tracking_number


class ApplicationNumber(models.Model):
    """A number claimed by an application; its PUK was checked when the application was submitted."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="numbers")
    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="+", verbose_name=_("line"))

    class Meta:
        verbose_name = _("application number")
        verbose_name_plural = _("application numbers")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "line"], name="companies_number_once_per_application"
            )
        ]

    def __str__(self) -> str:
        return str(self.line_id)


# --- Bulk requests ("История заявок"): one change applied to many lines by a background job ---------


class BulkAction(models.TextChoices):
    CHANGE_TARIFF = "change_tariff", _("Change tariff")
    CONNECT_SERVICE = "connect_service", _("Connect a service")
    DISCONNECT_SERVICE = "disconnect_service", _("Disconnect a service")
    SET_QUOTA = "set_quota", _("Set the monthly quota")
    BLOCK = "block", _("Block")
    UNBLOCK = "unblock", _("Unblock")


class BulkStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class BulkRequest(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="bulk_requests")
    action = models.CharField(_("action"), max_length=24, choices=BulkAction.choices)
    tariff = models.ForeignKey(
        "catalog.Tariff", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The quota to set; None with set_quota removes the line's quota.
    quota_minor = models.BigIntegerField(_("quota (minor units)"), null=True, blank=True)
    # How the lines were chosen (filter, ticked, CSV upload): shown in the request history.
    selection = models.CharField(_("selection"), max_length=200, blank=True)
    requested_by = models.CharField(_("requested by"), max_length=100)
    status = models.CharField(
        _("status"), max_length=16, choices=BulkStatus.choices, default=BulkStatus.QUEUED
    )
    total = models.PositiveIntegerField(_("lines"), default=0)
    succeeded = models.PositiveIntegerField(_("succeeded"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    charged_minor = models.BigIntegerField(_("charged (minor units)"), default=0)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk request")
        verbose_name_plural = _("bulk requests")
        indexes = [models.Index(fields=["company", "-created_at"], name="companies_bulk_company_recent")]

    def __str__(self) -> str:
        return f"{self.pk} {self.action}"


class BulkItemStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Refused")


class BulkItem(models.Model):
    """One line of a bulk request and its outcome (the per-line report)."""

    request = models.ForeignKey(BulkRequest, on_delete=models.CASCADE, related_name="items")
    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=16, choices=BulkItemStatus.choices, default=BulkItemStatus.PENDING
    )
    # The refusal's stable code and its message in the requester's language ("" when it succeeded).
    code = models.CharField(_("code"), max_length=64, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    charged_minor = models.BigIntegerField(_("charged (minor units)"), default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk request line")
        verbose_name_plural = _("bulk request lines")
        constraints = [
            models.UniqueConstraint(fields=["request", "line"], name="companies_bulk_line_once_per_request")
        ]
        indexes = [models.Index(fields=["request", "status"], name="companies_bulk_item_status")]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.line_id} {self.status}"
