"""Identity: users (staff and subscribers), one-time codes, devices, sessions, API tokens, API keys
and the audit log.

No secret is stored in the clear: codes, device ids, session keys and refresh tokens are kept as keyed
hashes (selfcare.kit.signing.keyed_hash with SELFCARE_HASH_KEY), passwords as Argon2id hashes.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in: operator staff (is_staff) or a subscriber / company user.

    A subscriber's username is their number in E.164 until they choose an alias.
    """

    language = models.CharField(_("language"), max_length=8, blank=True)
    # The subscriber's line (E.164); None for staff. The line itself is found through
    # selfcare.lines.queries.get_line_by_msisdn, so identity keeps no foreign key into lines.
    msisdn = models.CharField(_("number (E.164)"), max_length=16, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class CodePurpose(models.TextChoices):
    REGISTRATION = "registration", _("Registration")
    LOGIN = "login", _("Sign-in")
    RESET = "reset", _("Password reset")
    CONFIRM = "confirm", _("Confirmation")
    # Confirms an order of call detail (selfcare.statements); a code for anything else cannot.
    STATEMENT = "statement", _("Call-detail order")


class OneTimeCode(models.Model):
    """A code sent by SMS, bound to one number and one purpose; only its keyed hash is kept."""

    msisdn = models.CharField(_("number (E.164)"), max_length=16)
    purpose = models.CharField(_("purpose"), max_length=16, choices=CodePurpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # Set when a newer code for the same number and purpose replaces this one.
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["msisdn", "purpose", "created_at"], name="identity_otp_lookup")]

    def __str__(self) -> str:
        return f"{self.msisdn} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class Device(models.Model):
    """A browser or app a user has signed in from, recognised by a random id in a long-lived cookie."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    device_hash = models.CharField(max_length=64)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    last_ip = models.GenericIPAddressField(_("last IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [models.UniqueConstraint(fields=["user", "device_hash"], name="identity_device_once")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.user_agent[:40]}"


class UserSession(models.Model):
    """One signed-in browser session, so the subscriber can see it and end it.

    The session key is kept only as a keyed hash; ending a session marks the row and the middleware
    refuses (and flushes) a session whose row is ended, idle too long or too old.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="web_sessions")
    session_hash = models.CharField(max_length=64, unique=True)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("started"))
    last_activity_at = models.DateTimeField(_("last activity"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["user", "ended_at"], name="identity_session_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class RefreshToken(models.Model):
    """A refresh token of the mobile API. Each use rotates it; a reused one revokes its whole family."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    family = models.UUIDField(_("family"), db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("rotated at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")

    def __str__(self) -> str:
        return f"{self.user_id} {self.family}"


class ApiKey(models.Model):
    """A key for network and partner systems (usage push, call screening).

    The key is shown once at creation; only its prefix (to find it) and a keyed hash are stored.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(
        _("scopes"), default=list, help_text=_('e.g. ["usage:write", "screening:read"]')
    )
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    """Who did what to which object, when, from where, and with what outcome (never a secret)."""

    created_at = models.DateTimeField(_("at"), db_index=True)
    actor = models.CharField(_("actor"), max_length=100, help_text=_('"user:42", "staff:7", "system:fees"…'))
    action = models.CharField(_("action"), max_length=64)
    subject_type = models.CharField(_("subject type"), max_length=32, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, default="ok")
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "created_at"], name="identity_audit_subject")
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
