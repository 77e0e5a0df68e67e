"""/api/v1/statements/: call detail for the mobile app (subscriber bearer tokens).

The same flow as the pages: ask for an SMS code, order with it (Idempotency-Key header), poll the
order, and download through the signed link it returns (valid 15 minutes, re-issued on each read),
sending the same bearer token. The last 30 days of events are also listed, a page at a time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from selfcare.api.problems import Problem
from selfcare.api.subscriber import IdempotencyKey
from selfcare.identity.auth import SubscriberBearer
from selfcare.identity.http import client_of
from selfcare.kit import clock
from selfcare.kit.i18n import pick_translation
from selfcare.statements import queries, services
from selfcare.statements.models import StatementOrder
from selfcare.statements.schemas import EventOut, LinkOut, OrderIn, OrderOut

router = Router(tags=["statements"], auth=SubscriberBearer())
_ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    402: Problem,
    404: Problem,
    409: Problem,
    410: Problem,
    422: Problem,
    429: Problem,
}


def _link(order: StatementOrder, user: Any) -> LinkOut | None:
    if order.status != "ready":
        return None
    link = services.issue_download_link(order, user=user)
    return LinkOut(url=f"{settings.SELFCARE_PUBLIC_URL}{link.path}", expires_at=link.expires_at)


def _order(order: StatementOrder, user: Any) -> OrderOut:
    return OrderOut(
        id=order.public_id,
        period_start=order.period_start,
        period_end=order.period_end,
        categories=list(order.categories),
        format=order.format,
        by_email=order.by_email,
        status=order.status,
        progress_percent=order.progress_percent,
        events=order.rows_total,
        fee_minor=order.fee_minor,
        created_at=order.created_at,
        ready_at=order.ready_at,
        expires_at=order.expires_at,
        download=_link(order, user),
    )


@router.post("/code", response={202: None, **_ERRORS}, summary="Send the SMS code that confirms an order")
def send_code(request: HttpRequest) -> Status[None]:
    services.own_line(request.user)
    services.request_order_code(request.user, client=client_of(request))
    return Status(202, None)


@router.post("/", response={201: OrderOut, **_ERRORS}, summary="Order call detail")
def create_order(request: HttpRequest, body: OrderIn, idempotency_key: IdempotencyKey) -> Status[OrderOut]:
    order = services.order_statement(
        request.user,
        period_start=body.period_start,
        period_end=body.period_end,
        categories=body.categories,
        fmt=body.format,
        by_email=body.by_email,
        code=body.code,
        idempotency_key=idempotency_key,
        client=client_of(request),
    )
    order.refresh_from_db()
    return Status(201, _order(order, request.user))


@router.get("/", response={200: list[OrderOut], **_ERRORS}, summary="My call-detail orders")
def list_orders(request: HttpRequest) -> list[OrderOut]:
    return [_order(order, request.user) for order in queries.list_orders(request.user)]


@router.get("/events", response={200: list[EventOut], **_ERRORS}, summary="Events of the last 30 days")
def list_events(request: HttpRequest, category: str = "", limit: int = 50, offset: int = 0) -> list[EventOut]:
    line = services.own_line(request.user)
    now = clock.now()
    limit = max(1, min(limit, 200))
    offset = max(0, offset)
    records = queries.list_events(
        line, since=now - timedelta(days=queries.ONLINE_DAYS), until=now, category=category
    )[offset : offset + limit]
    return [
        EventOut(
            id=r.pk,
            started_at=r.started_at,
            kind=r.kind,
            counterparty=r.counterparty,
            duration_s=r.duration_s,
            volume_bytes=r.volume_bytes,
            roaming_zone=pick_translation(r.roaming_zone.name) if r.roaming_zone else "",
            price_minor=r.price_minor,
        )
        for r in records
    ]


@router.get("/{order_id}", response={200: OrderOut, **_ERRORS}, summary="One order: status and download link")
def get_order(request: HttpRequest, order_id: UUID) -> OrderOut:
    return _order(queries.get_order(request.user, order_id), request.user)
