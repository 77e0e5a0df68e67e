"""Stripe: Checkout Sessions (Stripe's hosted page) and signed webhooks, through the official SDK.

A top-up is a Checkout Session in payment mode; our payment's id is the client reference, the
metadata, and the idempotency key of the create call. Webhooks are verified with the SDK
(`Stripe-Signature`, HMAC over timestamp and body, the same 5-minute tolerance); a paid session is
then re-read with its PaymentIntent and card expanded, which is also where the card's last four,
brand and expiry come from. Autopay charges the saved payment method off-session (PaymentIntent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
from django.conf import settings

from selfcare.payments.providers.base import (
    CardCharge,
    CardDetails,
    NewPayment,
    PaymentSnapshot,
    ProviderError,
    ProviderStatus,
    VerifiedNotice,
    WebhookRejected,
)

_EVENT_STATUS = {
    "checkout.session.async_payment_succeeded": ProviderStatus.SUCCEEDED,
    "checkout.session.async_payment_failed": ProviderStatus.FAILED,
    "checkout.session.expired": ProviderStatus.CANCELED,
}


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


class StripeProvider:
    name = "stripe"

    def __init__(self) -> None:
        base = settings.SELFCARE_STRIPE_API_BASE
        self.client = stripe.StripeClient(
            settings.SELFCARE_STRIPE_SECRET_KEY or "sk_test_unset",
            base_addresses={"api": base} if base else None,
            max_network_retries=2,
        )

    # --- reads ------------------------------------------------------------------------------------

    def _card_of(self, intent: Any) -> CardDetails | None:
        method = _get(intent, "payment_method")
        card = _get(method, "card")
        if card is None:
            return None
        customer = _get(intent, "customer") or ""
        customer_id = customer if isinstance(customer, str) else _get(customer, "id", "")
        token = f"{customer_id}/{_get(method, 'id', '')}" if customer_id else ""
        return CardDetails(
            token=token,
            last4=str(_get(card, "last4", "")),
            brand=str(_get(card, "brand", "")),
            exp_month=int(_get(card, "exp_month", 0)),
            exp_year=int(_get(card, "exp_year", 0)),
        )

    def _session_snapshot(self, session: Any, status: ProviderStatus | None = None) -> PaymentSnapshot:
        if status is None:
            if _get(session, "payment_status") in ("paid", "no_payment_required"):
                status = ProviderStatus.SUCCEEDED
            elif _get(session, "status") == "expired":
                status = ProviderStatus.CANCELED
            else:
                status = ProviderStatus.PENDING
        intent = _get(session, "payment_intent")
        return PaymentSnapshot(
            provider_payment_id=str(session["id"]),
            status=status,
            amount_minor=int(_get(session, "amount_total", 0)),
            currency=str(_get(session, "currency", "")).upper(),
            reference=str(_get(session, "client_reference_id", "")),
            card=self._card_of(intent) if not isinstance(intent, str) else None,
            confirmation_url=str(_get(session, "url", "")),
        )

    def _intent_snapshot(self, intent: Any) -> PaymentSnapshot:
        state = _get(intent, "status")
        status = {
            "succeeded": ProviderStatus.SUCCEEDED,
            "canceled": ProviderStatus.CANCELED,
            "requires_payment_method": ProviderStatus.FAILED,
        }.get(state, ProviderStatus.PENDING)
        error = _get(intent, "last_payment_error")
        return PaymentSnapshot(
            provider_payment_id=str(intent["id"]),
            status=status,
            amount_minor=int(_get(intent, "amount", 0)),
            currency=str(_get(intent, "currency", "")).upper(),
            reference=str(_get(_get(intent, "metadata"), "reference", "")),
            failure_code=str(_get(error, "decline_code", "") or _get(error, "code", "")),
            card=self._card_of(intent),
        )

    def fetch_payment(self, provider_payment_id: str) -> PaymentSnapshot:
        try:
            if provider_payment_id.startswith("pi_"):
                intent = self.client.v1.payment_intents.retrieve(
                    provider_payment_id, params={"expand": ["payment_method"]}
                )
                return self._intent_snapshot(intent)
            session = self.client.v1.checkout.sessions.retrieve(
                provider_payment_id, params={"expand": ["payment_intent.payment_method"]}
            )
        except stripe.StripeError as error:
            raise ProviderError(f"stripe: {type(error).__name__}") from None
        return self._session_snapshot(session)

    # --- writes -----------------------------------------------------------------------------------

    def create_payment(self, request: NewPayment) -> PaymentSnapshot:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "client_reference_id": request.reference,
            "metadata": {"reference": request.reference},
            "payment_intent_data": {"metadata": {"reference": request.reference}},
            "success_url": request.return_url,
            "cancel_url": request.return_url,
        }
        if request.save_card:
            params["customer_creation"] = "always"
            params["payment_intent_data"]["setup_future_usage"] = "off_session"
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"checkout:{request.reference}"},
            )
        except stripe.StripeError as error:
            raise ProviderError(f"stripe: {type(error).__name__}") from None
        return self._session_snapshot(session)

    def charge_card(self, request: CardCharge) -> PaymentSnapshot:
        customer, _slash, method = request.card_token.partition("/")
        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": request.amount_minor,
                    "currency": request.currency.lower(),
                    "customer": customer,
                    "payment_method": method,
                    "off_session": True,
                    "confirm": True,
                    "description": request.description,
                    "metadata": {"reference": request.reference},
                },
                options={"idempotency_key": f"autopay:{request.reference}"},
            )
        except stripe.CardError as declined:
            # A decline is an answer, not an outage: report the failed attempt.
            intent_id = _get(declined.error, "payment_intent", {}) if declined.error else {}
            return PaymentSnapshot(
                provider_payment_id=str(_get(intent_id, "id", f"declined:{request.reference}")),
                status=ProviderStatus.FAILED,
                amount_minor=request.amount_minor,
                currency=request.currency,
                reference=request.reference,
                failure_code=str(declined.code or "card_declined"),
            )
        except stripe.StripeError as error:
            raise ProviderError(f"stripe: {type(error).__name__}") from None
        return self._intent_snapshot(intent)

    # --- webhooks ---------------------------------------------------------------------------------

    def verify_notice(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotice:
        try:
            event = self.client.construct_event(
                body,
                headers.get("Stripe-Signature"),
                settings.SELFCARE_STRIPE_WEBHOOK_SECRET,
                tolerance=settings.SELFCARE_WEBHOOK_TOLERANCE_S,
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise WebhookRejected(type(error).__name__) from None
        event_type = str(event["type"])
        obj = event["data"]["object"]
        if event_type == "checkout.session.completed" or event_type in _EVENT_STATUS:
            snapshot = self._session_snapshot(obj, _EVENT_STATUS.get(event_type))
            if snapshot.status == ProviderStatus.SUCCEEDED:
                # Re-read for the card details (and as a second word from Stripe's API).
                snapshot = self.fetch_payment(snapshot.provider_payment_id)
            return VerifiedNotice(event_id=str(event["id"]), event_type=event_type, payment=snapshot)
        if event_type in ("payment_intent.succeeded", "payment_intent.payment_failed") and _get(
            _get(obj, "metadata"), "reference"
        ):
            return VerifiedNotice(
                event_id=str(event["id"]), event_type=event_type, payment=self._intent_snapshot(obj)
            )
        return VerifiedNotice(event_id=str(event["id"]), event_type=event_type, payment=None)
