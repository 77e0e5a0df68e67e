"""Help for subscribers (docs/support.md): the FAQ staff edit, and the requests subscribers send and
staff answer in the back office.

FAQ texts are JSON objects of language code → text, like catalog names (docs/decisions.md), so an
operator can add a language without a migration.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from selfcare.kit.i18n import pick_translation


def _empty_texts() -> dict[str, str]:
    return {}


class FaqEntry(models.Model):
    question = models.JSONField(_("question"), default=_empty_texts, help_text=_("Text per language code."))
    answer = models.JSONField(_("answer"), default=_empty_texts, help_text=_("Text per language code."))
    sort_order = models.PositiveIntegerField(_("order"), default=100, help_text=_("Smaller numbers first."))
    is_published = models.BooleanField(_("published"), default=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ")
        ordering = ["sort_order", "id"]
        indexes = [models.Index(fields=["is_published", "sort_order"], name="support_faq_published")]

    def __str__(self) -> str:
        return self.display_question or str(self.pk)

    @property
    def display_question(self) -> str:
        return pick_translation(self.question)

    @property
    def display_answer(self) -> str:
        return pick_translation(self.answer)


class RequestStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("support request", "Open")
    ANSWERED = "answered", pgettext_lazy("support request", "Answered")
    CLOSED = "closed", pgettext_lazy("support request", "Closed")


class SupportRequest(models.Model):
    """A question a subscriber sent; staff answer it in the back office (open → answered → closed)."""

    # In addresses and the API instead of the row id, which would tell how many requests exist.
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="support_requests",
        verbose_name=_("subscriber"),
    )
    # The requester's own number when they wrote (the answer's SMS goes there).
    msisdn = models.CharField(_("number (E.164)"), max_length=16)
    # The line the request is about, one of the requester's account; empty: not about one line.
    line_msisdn = models.CharField(_("about the line"), max_length=16, blank=True)
    subject = models.CharField(_("subject"), max_length=120)
    message = models.TextField(_("message"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=100, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.CharField(_("closed by"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        indexes = [
            models.Index(fields=["requester", "created_at"], name="support_request_requester"),
            models.Index(fields=["status", "created_at"], name="support_request_status"),
        ]

    def __str__(self) -> str:
        return f"{self.msisdn}: {self.subject}"
