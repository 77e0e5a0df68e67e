"""Every write of support: a subscriber's request, staff's answer, closing (docs/support.md).

Each runs in one transaction, locks the request it changes, writes an audit row and queues its SMS
to go out when the caller commits (notifications.queue_sms).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from selfcare.identity.services import check_rate_limit, record_audit
from selfcare.kit import clock
from selfcare.lines import queries as lines_queries
from selfcare.notifications.services import queue_sms
from selfcare.support.errors import (
    AnswerRequired,
    LineNotOnAccount,
    MessageRequired,
    NoNumber,
    RequestClosed,
    SubjectRequired,
)
from selfcare.support.models import RequestStatus, SupportRequest
from selfcare.support.queries import get_request_for

SUBJECT_MAX = 120
MESSAGE_MAX = 4000
ANSWER_MAX = 4000
# A person writes a few requests a day; more is a script or a flood that staff would have to read.
REQUESTS_PER_HOUR = 5
REQUESTS_PER_DAY = 20


def _text(value: str, *, limit: int, error: type[SubjectRequired | MessageRequired | AnswerRequired]) -> str:
    cleaned = (value or "").strip()
    if not cleaned or len(cleaned) > limit:
        raise error(limit=limit)
    return cleaned


def create_request(
    user: Any, *, subject: str, message: str, line_msisdn: str = "", actor: str
) -> SupportRequest:
    """Record a subscriber's question. `line_msisdn` (optional) is one of the numbers on their account.

    Rate-limited per subscriber (REQUESTS_PER_HOUR, REQUESTS_PER_DAY): TooManyRequests. Invalid input
    is refused before the limit is touched, so typos do not use it up.
    """
    if not getattr(user, "msisdn", None):
        raise NoNumber()
    subject = _text(subject, limit=SUBJECT_MAX, error=SubjectRequired)
    message = _text(message, limit=MESSAGE_MAX, error=MessageRequired)
    line_msisdn = (line_msisdn or "").strip()
    if line_msisdn and line_msisdn not in lines_queries.list_account_numbers(user.msisdn):
        raise LineNotOnAccount()
    check_rate_limit("support-hour", str(user.pk), amount=REQUESTS_PER_HOUR, period_s=3600)
    check_rate_limit("support-day", str(user.pk), amount=REQUESTS_PER_DAY, period_s=86400)
    with transaction.atomic():
        request = SupportRequest.objects.create(
            requester=user,
            msisdn=user.msisdn,
            line_msisdn=line_msisdn,
            subject=subject,
            message=message,
            language=user.language or "",
            status=RequestStatus.OPEN,
            created_at=clock.now(),
        )
        # The message itself stays out of the audit log: it may hold personal details.
        record_audit(
            actor,
            "support.request.create",
            subject_type="support_request",
            subject_id=request.public_id,
            after={"status": RequestStatus.OPEN, "subject": subject, "line": line_msisdn},
        )
    return request


def _lock(request: SupportRequest) -> SupportRequest:
    return SupportRequest.objects.select_for_update().select_related("requester").get(pk=request.pk)


def answer_request(request: SupportRequest, *, answer: str, actor: str) -> SupportRequest:
    """Staff answer (or correct their answer to) an open or answered request; the subscriber gets an
    SMS whenever the answer text changes. A closed request is RequestClosed."""
    answer = _text(answer, limit=ANSWER_MAX, error=AnswerRequired)
    with transaction.atomic():
        locked = _lock(request)
        if locked.status == RequestStatus.CLOSED:
            raise RequestClosed()
        if locked.status == RequestStatus.ANSWERED and locked.answer == answer:
            return locked
        before = {"status": locked.status, "answered": bool(locked.answer)}
        locked.answer = answer
        locked.status = RequestStatus.ANSWERED
        locked.answered_at = clock.now()
        locked.answered_by = actor
        locked.save(update_fields=["answer", "status", "answered_at", "answered_by"])
        record_audit(
            actor,
            "support.request.answer",
            subject_type="support_request",
            subject_id=locked.public_id,
            before=before,
            after={"status": RequestStatus.ANSWERED, "answered": True},
        )
        queue_sms(
            locked.msisdn,
            template="support.answered",
            params={},
            language=locked.requester.language or locked.language,
            actor=actor,
        )
    return locked


def close_request(request: SupportRequest, *, actor: str) -> SupportRequest:
    """Close a request (staff, or its subscriber once they have what they needed). Closing a closed
    request changes nothing."""
    with transaction.atomic():
        locked = _lock(request)
        if locked.status == RequestStatus.CLOSED:
            return locked
        before = locked.status
        locked.status = RequestStatus.CLOSED
        locked.closed_at = clock.now()
        locked.closed_by = actor
        locked.save(update_fields=["status", "closed_at", "closed_by"])
        record_audit(
            actor,
            "support.request.close",
            subject_type="support_request",
            subject_id=locked.public_id,
            before={"status": before},
            after={"status": RequestStatus.CLOSED},
        )
    return locked


def close_own_request(user: Any, public_id: Any, *, actor: str) -> SupportRequest:
    """The subscriber closes their own request; anybody else's is RequestNotFound."""
    return close_request(get_request_for(user, public_id), actor=actor)
