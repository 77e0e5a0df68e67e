"""The provider adapter for the fake acquirer (acquirer.py): what the demo and the tests pay with."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from selfcare.kit import clock
from selfcare.kit.signing import sign
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
from selfcare.payments.providers.fake import acquirer

_STATUS = {
    acquirer.PENDING: ProviderStatus.PENDING,
    acquirer.REQUIRES_ACTION: ProviderStatus.PENDING,
    acquirer.SUCCEEDED: ProviderStatus.SUCCEEDED,
    acquirer.FAILED: ProviderStatus.FAILED,
    acquirer.CANCELED: ProviderStatus.CANCELED,
}


def _snapshot(data: Mapping[str, Any]) -> PaymentSnapshot:
    card = data.get("card")
    return PaymentSnapshot(
        provider_payment_id=str(data["id"]),
        status=_STATUS[str(data["status"])],
        amount_minor=int(data["amount_minor"]),
        currency=str(data["currency"]),
        reference=str(data.get("reference") or ""),
        failure_code=str(data.get("failure_code") or ""),
        card=CardDetails(
            token=str(card.get("token") or ""),
            last4=str(card["last4"]),
            brand=str(card["brand"]),
            exp_month=int(card["exp_month"]),
            exp_year=int(card["exp_year"]),
        )
        if card
        else None,
        confirmation_url=f"{settings.SELFCARE_PUBLIC_URL}/fake-acquirer/pay/{data['id']}/",
    )


def parse_signature(header: str) -> tuple[int, str]:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        return int(parts["t"]), parts["v1"]
    except (KeyError, ValueError):
        raise WebhookRejected("malformed signature header") from None


class FakeProvider:
    name = "fake"

    def create_payment(self, request: NewPayment) -> PaymentSnapshot:
        payment = acquirer.create_payment(
            amount_minor=request.amount_minor,
            currency=request.currency,
            reference=request.reference,
            return_url=request.return_url,
            description=request.description,
            save_card=request.save_card,
        )
        return _snapshot(acquirer.payment_object(payment))

    def fetch_payment(self, provider_payment_id: str) -> PaymentSnapshot:
        payment = acquirer.get_payment(provider_payment_id)
        if payment is None:
            raise ProviderError(f"no payment {provider_payment_id}")
        return _snapshot(acquirer.payment_object(payment))

    def verify_notice(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotice:
        header = headers.get(acquirer.SIGNATURE_HEADER) or ""
        timestamp, signature = parse_signature(header)
        # Signed timestamps bound replays: a captured notification is useless after the tolerance.
        if abs(clock.now().timestamp() - timestamp) > settings.SELFCARE_WEBHOOK_TOLERANCE_S:
            raise WebhookRejected("timestamp outside the tolerance")
        expected = sign(settings.SELFCARE_FAKE_ACQUIRER_SECRET, str(timestamp).encode() + b"." + body)
        if not hmac.compare_digest(expected, signature):
            raise WebhookRejected("bad signature")
        try:
            event = json.loads(body)
            return VerifiedNotice(
                event_id=str(event["id"]), event_type=str(event["type"]), payment=_snapshot(event["data"])
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("malformed body") from exc

    def charge_card(self, request: CardCharge) -> PaymentSnapshot:
        payment = acquirer.charge_token(
            request.card_token,
            amount_minor=request.amount_minor,
            currency=request.currency,
            reference=request.reference,
            description=request.description,
        )
        return _snapshot(acquirer.payment_object(payment))
