"""/api/v1/changes/: tariff changes and services for the mobile app (subscriber bearer tokens).

Every route works on the caller's own line (found by their number). Previews write nothing; the
changes take an `Idempotency-Key` header (a repeat returns what the first call applied and charges
nothing again). Refusals are problem+json with the typed error's code and translated message.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from selfcare.api.problems import Problem
from selfcare.api.subscriber import IdempotencyKey, subscriber_line
from selfcare.billing import changes
from selfcare.billing import queries as billing_queries
from selfcare.billing.schemas import (
    AllowanceOut,
    ChangePreviewOut,
    HistoryOut,
    ProductChangeOut,
    RateOut,
    ServiceOut,
    ServicePeriodOut,
    TariffOut,
    TariffPeriodOut,
)
from selfcare.catalog import queries as catalog_queries
from selfcare.catalog.queries import AllowanceCard
from selfcare.identity.auth import SubscriberBearer
from selfcare.identity.services import actor_of
from selfcare.kit.errors import NotFound
from selfcare.lines import queries as lines_queries

router = Router(tags=["changes"], auth=SubscriberBearer())
_ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    402: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
}


def _tariff(tariff_id: int) -> Any:
    tariff = catalog_queries.get_tariff(tariff_id)
    if tariff is None:
        raise NotFound()
    return tariff


def _service(service_id: int) -> Any:
    # An archived service is still found: a line that has it must be able to disconnect it (connecting
    # it is refused by the rules, as ServiceClosed).
    service = catalog_queries.get_service(service_id)
    if service is None:
        raise NotFound()
    return service


def _allowance(card: AllowanceCard) -> AllowanceOut:
    return AllowanceOut(
        usage_kind=card.usage_kind,
        amount=card.amount,
        usage_classes=list(card.usage_classes),
        zone=card.zone_code,
    )


# --- Tariffs ---------------------------------------------------------------------------------------------


@router.get(
    "/tariffs",
    response={200: list[TariffOut], **_ERRORS},
    summary="The current tariff and the tariffs open for change, to compare",
)
def list_tariffs(request: HttpRequest) -> list[TariffOut]:
    return [
        TariffOut(
            id=choice.card.id,
            code=choice.tariff.code,
            name=choice.tariff.display_name,
            description=choice.tariff.display_description,
            fee_minor=choice.tariff.fee_minor,
            fee_period=choice.tariff.fee_period,
            change_fee_minor=choice.change_fee_minor,
            is_current=choice.is_current,
            can_choose=choice.can_choose,
            allowances=[_allowance(card) for card in choice.card.allowances],
            main_rates=[
                RateOut(usage_kind=kind, usage_class=usage_class, price_minor=price)
                for (kind, usage_class), price in choice.card.main_rates.items()
            ],
        )
        for choice in billing_queries.list_tariffs_for_change(subscriber_line(request))
    ]


@router.get(
    "/tariffs/{tariff_id}/preview",
    response={200: ChangePreviewOut, **_ERRORS},
    summary="What changing to this tariff now would cost (or why it is refused); changes nothing",
)
def preview_tariff(request: HttpRequest, tariff_id: int) -> ChangePreviewOut:
    return ChangePreviewOut.of(
        changes.preview_tariff_change(subscriber_line(request), tariff=_tariff(tariff_id))
    )


@router.post(
    "/tariffs/{tariff_id}",
    response={200: ChangePreviewOut, **_ERRORS},
    summary="Change to this tariff now",
    description="Charges what the preview shows, atomically. A repeat with the same Idempotency-Key "
    "returns the first result and charges nothing.",
)
def change_tariff(request: HttpRequest, tariff_id: int, idempotency_key: IdempotencyKey) -> ChangePreviewOut:
    return ChangePreviewOut.of(
        changes.change_tariff(
            subscriber_line(request),
            tariff=_tariff(tariff_id),
            actor=actor_of(request.user),
            idempotency_key=idempotency_key,
        )
    )


# --- Services -------------------------------------------------------------------------------------------


@router.get(
    "/services",
    response={200: list[ServiceOut], **_ERRORS},
    summary="Connected services and the services available, with compatibility",
)
def list_services(request: HttpRequest) -> list[ServiceOut]:
    return [
        ServiceOut(
            id=choice.service.pk,
            code=choice.service.code,
            kind=choice.service.kind,
            name=choice.service.display_name,
            description=choice.service.display_description,
            connect_fee_minor=choice.service.connect_fee_minor,
            fee_minor=choice.service.fee_minor,
            fee_period=choice.service.fee_period,
            validity_days=choice.service.validity_days,
            connected=choice.connected,
            connected_at=choice.connected_at,
            action=choice.action,
            allowed=choice.allowed,
            refusal_code=choice.refusal_code,
            refusal_message=choice.refusal_message,
            allowances=[_allowance(card) for card in choice.allowances],
        )
        for choice in billing_queries.list_services_for_line(subscriber_line(request))
    ]


@router.get(
    "/services/{service_id}/connect/preview",
    response={200: ChangePreviewOut, **_ERRORS},
    summary="What connecting this service now would cost (or why it is refused); changes nothing",
)
def preview_connect(request: HttpRequest, service_id: int) -> ChangePreviewOut:
    return ChangePreviewOut.of(
        changes.preview_service_connect(subscriber_line(request), service=_service(service_id))
    )


@router.post(
    "/services/{service_id}/connect",
    response={200: ChangePreviewOut, **_ERRORS},
    summary="Connect this service now",
)
def connect(request: HttpRequest, service_id: int, idempotency_key: IdempotencyKey) -> ChangePreviewOut:
    return ChangePreviewOut.of(
        changes.connect_service(
            subscriber_line(request),
            service=_service(service_id),
            actor=actor_of(request.user),
            idempotency_key=idempotency_key,
        )
    )


@router.get(
    "/services/{service_id}/disconnect/preview",
    response={200: ChangePreviewOut, **_ERRORS},
    summary="What disconnecting this service now would change (or why it is refused); changes nothing",
)
def preview_disconnect(request: HttpRequest, service_id: int) -> ChangePreviewOut:
    return ChangePreviewOut.of(
        changes.preview_service_disconnect(subscriber_line(request), service=_service(service_id))
    )


@router.post(
    "/services/{service_id}/disconnect",
    response={200: ChangePreviewOut, **_ERRORS},
    summary="Disconnect this service now (nothing is refunded)",
)
def disconnect(request: HttpRequest, service_id: int, idempotency_key: IdempotencyKey) -> ChangePreviewOut:
    return ChangePreviewOut.of(
        changes.disconnect_service(
            subscriber_line(request),
            service=_service(service_id),
            actor=actor_of(request.user),
            idempotency_key=idempotency_key,
        )
    )


# --- History --------------------------------------------------------------------------------------------


@router.get(
    "/history",
    response={200: HistoryOut, **_ERRORS},
    summary="The line's changes with what they cost, its tariffs and its services over time",
)
def history(request: HttpRequest, limit: int = 50) -> HistoryOut:
    line = subscriber_line(request)
    limit = max(1, min(limit, 200))
    tariffs = lines_queries.list_tariff_history(line.pk)[:limit]
    services = lines_queries.list_service_history(line.pk)[:limit]
    names = {("tariff", a.tariff_id): a.tariff.display_name for a in tariffs}
    names.update({("service", a.service_id): a.service.display_name for a in services})
    return HistoryOut(
        changes=[
            ProductChangeOut(
                id=change.pk,
                action=change.action,
                product_kind=change.product_kind,
                product_id=change.product_id,
                product_name=names.get((change.product_kind, change.product_id), ""),
                msisdn=change.entry_msisdn,
                fee_today_minor=change.fee_today_minor,
                change_fee_minor=change.change_fee_minor,
                total_minor=change.total_minor,
                balance_after_minor=change.balance_after_minor,
                effective_at=change.effective_at,
                actor=change.actor,
            )
            for change in billing_queries.list_product_changes(line.pk, limit=limit)
        ],
        tariffs=[
            TariffPeriodOut(
                tariff_id=a.tariff_id,
                tariff_name=a.tariff.display_name,
                started_at=a.started_at,
                ended_at=a.ended_at,
            )
            for a in tariffs
        ],
        services=[
            ServicePeriodOut(
                service_id=a.service_id,
                service_name=a.service.display_name,
                connected_at=a.connected_at,
                disconnected_at=a.disconnected_at,
            )
            for a in services
        ],
    )
