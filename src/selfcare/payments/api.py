"""/api/v1/payments/: the payment pages' operations for the mobile app (subscriber bearer tokens).

Money-moving writes take an `Idempotency-Key` header. Every route is the caller's own: their line
comes from their number; payments are those they made or that credited their account.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from selfcare.api.problems import Problem
from selfcare.api.subscriber import IdempotencyKey, subscriber_line
from selfcare.identity.auth import SubscriberBearer
from selfcare.identity.services import actor_of
from selfcare.kit.errors import NotFound
from selfcare.lines import queries as lines_queries
from selfcare.payments import queries, services
from selfcare.payments.models import AutopaySettings, Payment, PromisedPayment, SavedCard
from selfcare.payments.schemas import (
    AutopayIn,
    AutopayOut,
    CardOut,
    PaymentOut,
    PromisedIn,
    PromisedOfferOut,
    PromisedOut,
    TierOut,
    TopUpIn,
)

router = Router(tags=["payments"], auth=SubscriberBearer())
_ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
    503: Problem,
}


def _payment(p: Payment) -> PaymentOut:
    return PaymentOut(
        id=p.public_id,
        kind=p.kind,
        msisdn=p.msisdn,
        amount_minor=p.amount_minor,
        currency=p.currency,
        status=p.status,
        failure_code=p.failure_code,
        confirmation_url=p.confirmation_url,
        card_brand=p.card_brand,
        card_last4=p.card_last4,
        created_at=p.created_at,
        confirmed_at=p.confirmed_at,
    )


def _promised(p: PromisedPayment) -> PromisedOut:
    return PromisedOut(
        id=p.pk,
        amount_minor=p.amount_minor,
        fee_minor=p.fee_minor,
        outstanding_minor=p.outstanding_minor,
        status=p.status,
        granted_at=p.granted_at,
        due_at=p.due_at,
    )


def _card(c: SavedCard) -> CardOut:
    return CardOut(id=c.pk, brand=c.brand, last4=c.last4, exp_month=c.exp_month, exp_year=c.exp_year)


def _autopay(a: AutopaySettings) -> AutopayOut:
    return AutopayOut(
        card_id=a.card_id,
        threshold_minor=a.threshold_minor,
        amount_minor=a.amount_minor,
        max_per_month=a.max_per_month,
        enabled=a.enabled,
    )


@router.post("/topups", response={201: PaymentOut, **_ERRORS}, summary="Start a card top-up")
def create_topup(request: HttpRequest, body: TopUpIn, idempotency_key: IdempotencyKey) -> Status[PaymentOut]:
    """Send the payer to `confirmation_url`; the balance is credited when the provider confirms."""
    own = subscriber_line(request)
    payment = services.start_topup(
        request.user,
        msisdn=body.msisdn or own.msisdn,
        amount_minor=body.amount_minor,
        idempotency_key=idempotency_key,
        save_card=body.save_card,
        actor=actor_of(request.user),
    )
    return Status(201, _payment(payment))


MAX_OFFSET = 1_000_000


@router.get("/", response={200: list[PaymentOut], **_ERRORS}, summary="Payment history")
def list_payments(request: HttpRequest, limit: int = 50, offset: int = 0) -> list[PaymentOut]:
    line = subscriber_line(request)
    limit = max(1, min(limit, 200))
    offset = max(0, min(offset, MAX_OFFSET))  # negative or past any history: an empty page, not a 500
    rows = queries.list_payments(request.user, account_id=line.account_id, limit=offset + limit)
    return [_payment(p) for p in list(rows)[offset:]]


@router.get("/cards", response={200: list[CardOut], **_ERRORS}, summary="Saved cards")
def list_cards(request: HttpRequest) -> list[CardOut]:
    return [_card(c) for c in queries.list_saved_cards(request.user)]


@router.delete("/cards/{card_id}", response={204: None, **_ERRORS}, summary="Remove a saved card")
def delete_card(request: HttpRequest, card_id: int) -> Status[None]:
    services.remove_card(request.user, card_id=card_id, actor=actor_of(request.user))
    return Status(204, None)


@router.get("/autopay", response={200: AutopayOut, **_ERRORS}, summary="Autopay settings")
def get_autopay(request: HttpRequest) -> AutopayOut:
    row = queries.get_autopay(subscriber_line(request).account_id)
    if row is None:
        raise NotFound()
    return _autopay(row)


@router.put("/autopay", response={200: AutopayOut, **_ERRORS}, summary="Set autopay")
def put_autopay(request: HttpRequest, body: AutopayIn) -> AutopayOut:
    row = services.set_autopay(
        request.user,
        card_id=body.card_id,
        threshold_minor=body.threshold_minor,
        amount_minor=body.amount_minor,
        max_per_month=body.max_per_month,
        enabled=body.enabled,
        actor=actor_of(request.user),
    )
    return _autopay(row)


@router.get(
    "/promised/offer", response={200: PromisedOfferOut, **_ERRORS}, summary="Promised payment conditions"
)
def promised_offer(request: HttpRequest) -> PromisedOfferOut:
    offer = queries.promised_offer(subscriber_line(request))
    return PromisedOfferOut(
        eligible=offer.eligible,
        reasons=[str(r) for r in offer.reasons],
        tiers=[TierOut(amount_minor=t.amount_minor, fee_minor=t.fee_minor) for t in offer.tiers],
        max_amount_minor=offer.max_amount_minor,
        term_days=offer.term_days,
        due_at=offer.due_at,
        balance_minor=offer.balance_minor,
    )


@router.post("/promised", response={201: PromisedOut, **_ERRORS}, summary="Take a promised payment")
def create_promised(
    request: HttpRequest, body: PromisedIn, idempotency_key: IdempotencyKey
) -> Status[PromisedOut]:
    promised = services.request_promised(
        request.user,
        amount_minor=body.amount_minor,
        idempotency_key=idempotency_key,
        actor=actor_of(request.user),
    )
    return Status(201, _promised(promised))


@router.get("/promised", response={200: list[PromisedOut], **_ERRORS}, summary="Promised payment history")
def list_promised(request: HttpRequest) -> list[PromisedOut]:
    return [_promised(p) for p in queries.list_promised(subscriber_line(request).account_id)]


@router.get("/{payment_id}", response={200: PaymentOut, **_ERRORS}, summary="One payment (receipt)")
def get_payment(request: HttpRequest, payment_id: UUID) -> PaymentOut:
    line = lines_queries.get_line_by_msisdn(getattr(request.user, "msisdn", None) or "")
    return _payment(
        queries.get_payment_for(request.user, payment_id, account_id=line.account_id if line else None)
    )
