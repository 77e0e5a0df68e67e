"""/api/v1/help/: the help pages for the mobile app. The contact number and the FAQ are public; support
requests need a subscriber bearer token and are always the caller's own (anybody else's is 404)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from selfcare.api.problems import Problem
from selfcare.identity.auth import SubscriberBearer
from selfcare.identity.services import actor_of
from selfcare.support import queries, services
from selfcare.support.models import SupportRequest
from selfcare.support.schemas import ContactOut, FaqOut, SupportRequestIn, SupportRequestOut

router = Router(tags=["help"])
_ERRORS: dict[int, type[Problem]] = {401: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem}


def _request(item: SupportRequest) -> SupportRequestOut:
    return SupportRequestOut(
        id=item.public_id,
        subject=item.subject,
        message=item.message,
        line_msisdn=item.line_msisdn,
        status=item.status,
        answer=item.answer,
        created_at=item.created_at,
        answered_at=item.answered_at,
        closed_at=item.closed_at,
    )


@router.get("/contact", response={200: ContactOut}, auth=None, summary="The help number")
def contact(request: HttpRequest) -> ContactOut:
    return ContactOut(help_number=settings.SELFCARE_HELP_NUMBER)


@router.get("/faq", response={200: list[FaqOut]}, auth=None, summary="Published FAQ entries, in order")
def faq(request: HttpRequest) -> list[FaqOut]:
    return [FaqOut(id=e.pk, question=e.display_question, answer=e.display_answer) for e in queries.list_faq()]


@router.get(
    "/requests",
    response={200: list[SupportRequestOut], **_ERRORS},
    auth=SubscriberBearer(),
    summary="The subscriber's support requests, newest first",
)
def list_requests(request: HttpRequest, limit: int = 50, offset: int = 0) -> list[SupportRequestOut]:
    rows = queries.list_requests_for(request.auth, limit=max(1, min(limit, 200)), offset=max(0, offset))  # type: ignore[attr-defined]
    return [_request(item) for item in rows]


@router.post(
    "/requests",
    response={201: SupportRequestOut, **_ERRORS},
    auth=SubscriberBearer(),
    summary="Send a support request (rate-limited per subscriber)",
)
def create_request(request: HttpRequest, body: SupportRequestIn) -> Status[SupportRequestOut]:
    created = services.create_request(
        request.auth,  # type: ignore[attr-defined]
        subject=body.subject,
        message=body.message,
        line_msisdn=body.line_msisdn,
        actor=actor_of(request.auth),  # type: ignore[attr-defined]
    )
    return Status(201, _request(created))


@router.get(
    "/requests/{request_id}",
    response={200: SupportRequestOut, **_ERRORS},
    auth=SubscriberBearer(),
    summary="One of the subscriber's requests, with the answer and status",
)
def get_request(request: HttpRequest, request_id: str) -> SupportRequestOut:
    return _request(queries.get_request_for(request.auth, request_id))  # type: ignore[attr-defined]


@router.post(
    "/requests/{request_id}/close",
    response={200: SupportRequestOut, **_ERRORS},
    auth=SubscriberBearer(),
    summary="Close one of the subscriber's requests",
)
def close_request(request: HttpRequest, request_id: str) -> SupportRequestOut:
    closed = services.close_own_request(
        request.auth,  # type: ignore[attr-defined]
        request_id,
        actor=actor_of(request.auth),  # type: ignore[attr-defined]
    )
    return _request(closed)
