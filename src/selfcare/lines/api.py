"""JSON API of the lines domain.

- `/api/v1/black-list/` (subscriber bearer tokens): the caller's own line's black list. Adding a
  number may cost money (the entry fee, and connecting the Black list with the first number), so it
  takes an `Idempotency-Key` header and goes through billing.changes.
- `/api/v1/network/call-screening` (network API key with the scope `screening:read`): may this call
  or SMS reach the line? The rating engine's black-list rule, in one indexed query.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from selfcare.api.problems import Problem
from selfcare.api.subscriber import IdempotencyKey, subscriber_line
from selfcare.billing import changes
from selfcare.billing import queries as billing_queries
from selfcare.billing.schemas import ChangePreviewOut
from selfcare.identity.auth import NetworkApiKey, SubscriberBearer
from selfcare.identity.services import actor_of
from selfcare.kit import clock
from selfcare.lines import queries
from selfcare.lines.errors import InvalidNumber
from selfcare.lines.models import BlackListEntry
from selfcare.lines.schemas import BlackListAddIn, BlackListEntryOut, BlackListOut, ScreeningOut

SCREENING_SCOPE = "screening:read"

router = Router(tags=["black list"], auth=SubscriberBearer())
network_router = Router(tags=["network"])
_ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    402: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
}


def _entry(entry: BlackListEntry) -> BlackListEntryOut:
    return BlackListEntryOut(id=entry.pk, msisdn=entry.msisdn, note=entry.note, created_at=entry.created_at)


@router.get("/", response={200: BlackListOut, **_ERRORS}, summary="The line's black list")
def get_black_list(request: HttpRequest) -> BlackListOut:
    black_list = billing_queries.get_black_list(subscriber_line(request))
    return BlackListOut(
        is_on=black_list.is_on,
        service_id=black_list.service.pk if black_list.service is not None else None,
        capacity=black_list.capacity,
        entry_fee_minor=black_list.entry_fee_minor,
        kept_until=black_list.kept_until,
        entries=[_entry(entry) for entry in black_list.entries],
    )


@router.get(
    "/preview",
    response={200: ChangePreviewOut, **_ERRORS},
    summary="What adding this number would cost (with the Black list's own fees when it is off)",
)
def preview_add(request: HttpRequest, number: str) -> ChangePreviewOut:
    return ChangePreviewOut.of(changes.preview_black_list_add(subscriber_line(request), number=number))


@router.post("/", response={201: BlackListEntryOut, **_ERRORS}, summary="Add a number to the black list")
def add(
    request: HttpRequest, body: BlackListAddIn, idempotency_key: IdempotencyKey
) -> Status[BlackListEntryOut]:
    entry = changes.add_black_list_number(
        subscriber_line(request),
        number=body.number,
        note=body.note,
        actor=actor_of(request.user),
        idempotency_key=idempotency_key,
    )
    return Status(201, _entry(entry))


@router.delete("/{entry_id}", response={204: None, **_ERRORS}, summary="Remove a number from the black list")
def remove(request: HttpRequest, entry_id: int) -> Status[None]:
    changes.remove_black_list_number(
        subscriber_line(request), entry_id=entry_id, actor=actor_of(request.user)
    )
    return Status(204, None)


# --- Network --------------------------------------------------------------------------------------------


def _e164(raw: str) -> str | None:
    """The rating engine's reading of a number from the network: E.164 digits, '+' optional."""
    text = raw.strip()
    digits = text[1:] if text.startswith("+") else text
    if not (5 <= len(digits) <= 15) or not digits.isdigit() or not digits.isascii():
        return None
    return "+" + digits


@network_router.get(
    "/call-screening",
    response={200: ScreeningOut, 401: Problem, 403: Problem, 422: Problem},
    auth=NetworkApiKey(scope=SCREENING_SCOPE),
    summary="May a call or SMS from `caller` reach our line `callee`?",
    description=(
        "deny when the callee has a Black list service connected and the caller's number on its list "
        "(the rule the rating engine applies to incoming usage), allow otherwise. Numbers are E.164 "
        "('+' optional). A hidden or unusable caller id is allowed. One indexed query."
    ),
)
def call_screening(request: HttpRequest, caller: str = "", callee: str = "") -> ScreeningOut:
    callee_e164 = _e164(callee)
    if callee_e164 is None:
        raise InvalidNumber()
    caller_e164 = _e164(caller)
    denied = caller_e164 is not None and queries.is_call_screened(
        caller=caller_e164, callee=callee_e164, at=clock.now()
    )
    return ScreeningOut(
        decision="deny" if denied else "allow",
        reason="black_listed" if denied else "",
        caller=caller_e164 or "",
        callee=callee_e164,
    )
