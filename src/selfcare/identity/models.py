"""Identity: users (staff and subscribers), network API keys and the audit log.

One-time codes, sessions, devices and subscriber API tokens come with the Identity issue.
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

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


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
