"""YooKassa (ЮKassa), through the official SDK.

A top-up is a payment with a redirect confirmation (YooKassa's hosted page) and capture on success;
our payment's id is the Idempotence-Key and the metadata. YooKassa notifications are not signed, so
a notification is only a hint: the payment it names is re-fetched from the API, and that answer is
what we act on. Autopay charges a saved payment method (`payment_method_id`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from yookassa import Configuration
from yookassa import Payment as YooPayment
from yookassa.domain.notification import WebhookNotificationFactory

from selfcare.kit.money import minor_digits
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

_STATUS = {
    "pending": ProviderStatus.PENDING,
    "waiting_for_capture": ProviderStatus.PENDING,
    "succeeded": ProviderStatus.SUCCEEDED,
    "canceled": ProviderStatus.CANCELED,
}
# The SDK keeps its configuration in class attributes: configure and call under one lock.
_sdk_lock = threading.Lock()


def _value(amount_minor: int, currency: str) -> str:
    digits = minor_digits(currency)
    return f"{Decimal(amount_minor).scaleb(-digits):.{digits}f}"


def _minor(value: Any, currency: str) -> int:
    try:
        return int(Decimal(str(value)).scaleb(minor_digits(currency)))
    except (InvalidOperation, ValueError):
        return -1


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    value = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return default if value is None else value


class YooKassaProvider:
    name = "yookassa"

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        with _sdk_lock:
            options: dict[str, Any] = {"max_attempts": 1}
            if settings.SELFCARE_YOOKASSA_API_URL:
                options["api_url"] = settings.SELFCARE_YOOKASSA_API_URL
            Configuration.configure(
                settings.SELFCARE_YOOKASSA_SHOP_ID, settings.SELFCARE_YOOKASSA_SECRET_KEY, **options
            )
            try:
                return function(*args, **kwargs)
            except Exception as error:  # the SDK raises requests' and its own error classes
                raise ProviderError(f"yookassa: {type(error).__name__}") from None

    def _snapshot(self, payment: Any) -> PaymentSnapshot:
        amount = _get(payment, "amount")
        currency = str(_get(amount, "currency", "")).upper()
        method = _get(payment, "payment_method")
        card = _get(method, "card")
        details = None
        if card is not None:
            details = CardDetails(
                token=str(_get(method, "id", "")) if _get(method, "saved", False) else "",
                last4=str(_get(card, "last4", "")),
                brand=str(_get(card, "card_type", "")).lower(),
                exp_month=int(_get(card, "expiry_month", 0) or 0),
                exp_year=int(_get(card, "expiry_year", 0) or 0),
            )
        cancellation = _get(payment, "cancellation_details")
        return PaymentSnapshot(
            provider_payment_id=str(_get(payment, "id")),
            status=_STATUS.get(str(_get(payment, "status")), ProviderStatus.PENDING),
            amount_minor=_minor(_get(amount, "value", ""), currency or settings.SELFCARE_CURRENCY),
            currency=currency,
            reference=str(_get(_get(payment, "metadata"), "reference", "")),
            failure_code=str(_get(cancellation, "reason", "")),
            card=details,
            confirmation_url=str(_get(_get(payment, "confirmation"), "confirmation_url", "")),
        )

    def create_payment(self, request: NewPayment) -> PaymentSnapshot:
        params = {
            "amount": {"value": _value(request.amount_minor, request.currency), "currency": request.currency},
            "confirmation": {"type": "redirect", "return_url": request.return_url},
            "capture": True,
            "description": request.description[:128],
            "metadata": {"reference": request.reference},
            "save_payment_method": request.save_card,
        }
        return self._snapshot(self._call(YooPayment.create, params, request.reference))

    def fetch_payment(self, provider_payment_id: str) -> PaymentSnapshot:
        return self._snapshot(self._call(YooPayment.find_one, provider_payment_id))

    def charge_card(self, request: CardCharge) -> PaymentSnapshot:
        params = {
            "amount": {"value": _value(request.amount_minor, request.currency), "currency": request.currency},
            "payment_method_id": request.card_token,
            "capture": True,
            "description": request.description[:128],
            "metadata": {"reference": request.reference},
        }
        return self._snapshot(self._call(YooPayment.create, params, f"autopay-{request.reference}"))

    def verify_notice(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotice:
        try:
            notification = WebhookNotificationFactory().create(json.loads(body))
            event_type = str(notification.event)
            payment_id = str(notification.object.id)
        except Exception:  # malformed JSON or not a YooKassa notification
            raise WebhookRejected("malformed notification") from None
        if not event_type.startswith("payment."):
            return VerifiedNotice(event_id=f"{event_type}:{payment_id}", event_type=event_type, payment=None)
        # The notification is unsigned: what counts is the payment as the API reports it now.
        try:
            snapshot = self.fetch_payment(payment_id)
        except ProviderError as error:
            if "NotFound" in str(error):
                raise WebhookRejected("no such payment at YooKassa") from None
            raise
        # The identity of what we learned is the payment's verified state, not the (unsigned) event: a
        # forged early "succeeded" then cannot use up the id of the real one.
        return VerifiedNotice(
            event_id=f"{payment_id}:{snapshot.status.value}", event_type=event_type, payment=snapshot
        )
