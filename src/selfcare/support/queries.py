"""Reads of support for the help pages and the API. Every read of a request is its requester's own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from selfcare.support.errors import RequestNotFound
from selfcare.support.models import FaqEntry, SupportRequest


def list_faq() -> list[FaqEntry]:
    """The published FAQ entries in their order (texts are picked per language by the caller)."""
    return list(FaqEntry.objects.filter(is_published=True).order_by("sort_order", "id"))


def list_requests_for(user: Any, *, limit: int = 50, offset: int = 0) -> list[SupportRequest]:
    """The user's own requests, newest first."""
    rows: QuerySet[SupportRequest] = SupportRequest.objects.filter(requester_id=user.pk).order_by(
        "-created_at", "-id"
    )
    return list(rows[offset : offset + limit])


def get_request_for(user: Any, public_id: UUID | str) -> SupportRequest:
    """The user's own request; anybody else's, or none, is RequestNotFound (the same answer for both)."""
    try:
        key = public_id if isinstance(public_id, UUID) else UUID(str(public_id))
    except ValueError:
        raise RequestNotFound() from None
    found = SupportRequest.objects.filter(public_id=key, requester_id=user.pk).first()
    if found is None:
        raise RequestNotFound()
    return found
