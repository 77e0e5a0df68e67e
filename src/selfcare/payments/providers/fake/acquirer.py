"""The fake acquirer: a card-payment simulator served by the app itself under /fake-acquirer/.

It behaves like a hosted-payment-page acquirer: the merchant creates a payment, sends the buyer to
the acquirer's page, and learns the outcome from a signed webhook or a status query. The card number
typed on its page is checked (Luhn), classified, and dropped: only last four, brand and expiry are
kept, as a real acquirer hands back. Test cards (the numbers Stripe uses for the same purposes):

    4242 4242 4242 4242  success             4000 0000 0000 9995  insufficient funds
    4000 0000 0000 0002  declined            4000 0000 0000 3220  3-D Secure challenge, then success

Any other Luhn-valid number succeeds. Webhooks are signed HMAC-SHA256 over "<timestamp>.<body>" and
carry `Fake-Signature: t=<unix time>,v1=<hex>`; they are signed when sent, as each delivery attempt
is. Test hooks deliver a notification twice, late, or out of order on demand.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from selfcare.kit import clock
from selfcare.kit.signing import sign
from selfcare.payments.models import FakeAcquirerCard, FakeAcquirerPayment, FakeAcquirerWebhook

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "Fake-Signature"
SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"
THREE_DS_CARD = "4000000000003220"
_BEHAVIOUR = {
    DECLINE_CARD: "decline",
    INSUFFICIENT_FUNDS_CARD: "insufficient_funds",
    THREE_DS_CARD: "three_ds",
}

PENDING = "pending"
REQUIRES_ACTION = "requires_action"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"


class CardRejected(ValueError):
    """The typed card cannot be used (not a card number, expired); the page shows the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:4].isdigit() and 2200 <= int(number[:4]) <= 2204:
        return "mir"
    if number[:2] in {"51", "52", "53", "54", "55"} or (
        number[:4].isdigit() and 2221 <= int(number[:4]) <= 2720
    ):
        return "mastercard"
    return "card"


# Letters and digits, not hex: a hex id has a run of 13-19 digits that passes the Luhn check once
# in about a thousand, and the card-number scan (tests/payments/test_no_card_numbers.py) cannot tell
# it from a card number. With 26 letters among 36 signs such a run practically never happens.
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ID_ALPHABET) for _ in range(24))}"


def create_payment(
    *, amount_minor: int, currency: str, reference: str, return_url: str, description: str, save_card: bool
) -> FakeAcquirerPayment:
    now = clock.now()
    # The reference is the merchant's idempotency key: asking twice returns the first payment.
    existing = FakeAcquirerPayment.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return FakeAcquirerPayment.objects.create(
                id=_new_id("fk_pay"),
                amount_minor=amount_minor,
                currency=currency,
                reference=reference,
                return_url=return_url,
                description=description[:200],
                save_card=save_card,
                status=PENDING,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        return FakeAcquirerPayment.objects.get(reference=reference)


def get_payment(payment_id: str) -> FakeAcquirerPayment | None:
    return FakeAcquirerPayment.objects.filter(pk=payment_id).first()


def submit_card(
    payment_id: str, *, number: str, exp_month: int, exp_year: int, cvc: str
) -> FakeAcquirerPayment:
    """The buyer pressed Pay on the hosted page. The number is used here and forgotten."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not luhn_valid(digits) or digits != number.replace(" ", "").replace("-", ""):
        raise CardRejected("number", "invalid_number")
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        raise CardRejected("cvc", "invalid_cvc")
    today = clock.now().date()
    if (
        not 1 <= exp_month <= 12
        or (exp_year, exp_month) < (today.year, today.month)
        or exp_year > today.year + 20
    ):
        raise CardRejected("expiry", "expired_card")
    behaviour = _BEHAVIOUR.get(digits, "success")
    last4, brand = digits[-4:], card_brand(digits)
    del digits, number, cvc  # nothing below may keep them
    with transaction.atomic():
        payment = FakeAcquirerPayment.objects.select_for_update().get(pk=payment_id)
        if payment.status != PENDING:
            return payment
        payment.card_last4, payment.card_brand = last4, brand
        payment.card_exp_month, payment.card_exp_year = exp_month, exp_year
        if payment.save_card and behaviour in ("success", "three_ds"):
            payment.card_token = _issue_token(last4, brand, behaviour, exp_month, exp_year)
        if behaviour == "three_ds":
            _set_status(payment, REQUIRES_ACTION)
            _queue_event(payment)
        elif behaviour == "success":
            _set_status(payment, SUCCEEDED)
            _queue_event(payment)
        else:
            _set_status(
                payment, FAILED, failure_code="card_declined" if behaviour == "decline" else behaviour
            )
            _queue_event(payment)
    return payment


def complete_challenge(payment_id: str, *, passed: bool) -> FakeAcquirerPayment:
    """The 3-D Secure step: the buyer confirmed (or cancelled) on the issuer's page."""
    with transaction.atomic():
        payment = FakeAcquirerPayment.objects.select_for_update().get(pk=payment_id)
        if payment.status != REQUIRES_ACTION:
            return payment
        if passed:
            _set_status(payment, SUCCEEDED)
        else:
            _set_status(payment, FAILED, failure_code="authentication_failed")
        _queue_event(payment)
    return payment


def charge_token(
    token: str, *, amount_minor: int, currency: str, reference: str, description: str
) -> FakeAcquirerPayment:
    """A merchant-initiated charge of a saved card (autopay): no buyer, so no 3-D Secure step."""
    existing = FakeAcquirerPayment.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    card = FakeAcquirerCard.objects.filter(pk=token).first()
    now = clock.now()
    try:
        with transaction.atomic():
            payment = FakeAcquirerPayment.objects.create(
                id=_new_id("fk_pay"),
                amount_minor=amount_minor,
                currency=currency,
                reference=reference,
                return_url="",
                description=description[:200],
                status=PENDING,
                created_at=now,
                updated_at=now,
            )
            if card is None:
                _set_status(payment, FAILED, failure_code="invalid_token")
            else:
                payment.card_last4, payment.card_brand = card.last4, card.brand
                payment.card_exp_month, payment.card_exp_year = card.exp_month, card.exp_year
                payment.card_token = card.token
                today = now.date()
                if (card.exp_year, card.exp_month) < (today.year, today.month):
                    _set_status(payment, FAILED, failure_code="expired_card")
                elif card.behaviour == "three_ds":
                    _set_status(payment, FAILED, failure_code="authentication_required")
                elif card.behaviour == "success":
                    _set_status(payment, SUCCEEDED)
                else:
                    _set_status(payment, FAILED, failure_code=card.behaviour)
            _queue_event(payment)

    except IntegrityError:
        # A concurrent charge with the same reference won.
        return FakeAcquirerPayment.objects.get(reference=reference)
    return payment


def _issue_token(last4: str, brand: str, behaviour: str, exp_month: int, exp_year: int) -> str:
    # A 3-D Secure card charged later without the buyer fails like a real one would.
    card = FakeAcquirerCard.objects.create(
        token=_new_id("fk_card"),
        last4=last4,
        brand=brand,
        behaviour=behaviour,
        exp_month=exp_month,
        exp_year=exp_year,
    )
    return card.token


def _set_status(payment: FakeAcquirerPayment, status: str, *, failure_code: str = "") -> None:
    payment.status = status
    payment.failure_code = failure_code
    payment.updated_at = clock.now()
    payment.save()


def payment_object(payment: FakeAcquirerPayment) -> dict[str, Any]:
    """The payment as the acquirer's API and webhooks show it."""
    card = None
    if payment.card_last4:
        card = {
            "last4": payment.card_last4,
            "brand": payment.card_brand,
            "exp_month": payment.card_exp_month,
            "exp_year": payment.card_exp_year,
            "token": payment.card_token,
        }
    return {
        "id": payment.id,
        "status": payment.status,
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "reference": payment.reference,
        "failure_code": payment.failure_code,
        "card": card,
    }


def event_body(payment: FakeAcquirerPayment, *, event_id: str | None = None) -> tuple[str, str]:
    """(event id, JSON body) of a notification telling the payment's current state."""
    event_id = event_id or _new_id("evt")
    body = json.dumps(
        {"id": event_id, "type": f"payment.{payment.status}", "data": payment_object(payment)},
        separators=(",", ":"),
    )
    return event_id, body


def _queue_event(payment: FakeAcquirerPayment, *, delay_s: int = 0) -> FakeAcquirerWebhook:
    event_id, body = event_body(payment)
    hook = FakeAcquirerWebhook.objects.create(
        payment=payment,
        event_id=event_id,
        body=body,
        deliver_after=clock.now() + timedelta(seconds=delay_s),
    )
    if settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER and delay_s == 0:
        transaction.on_commit(_deliver_soon, robust=True)
    return hook


def _deliver_soon() -> None:
    from selfcare.payments.tasks import deliver_fake_webhooks

    deliver_fake_webhooks()


# --- Delivery ------------------------------------------------------------------------------------------


def signature_header(body: bytes, *, timestamp: int, secret: str | None = None) -> str:
    key = secret if secret is not None else settings.SELFCARE_FAKE_ACQUIRER_SECRET
    return f"t={timestamp},v1={sign(key, str(timestamp).encode() + b'.' + body)}"


def signed_headers(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    moment = int(clock.now().timestamp()) if timestamp is None else timestamp
    return {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(body, timestamp=moment)}


def webhook_url() -> str:
    return f"{settings.SELFCARE_PUBLIC_URL}/payments/webhooks/fake/"


def http_transport(url: str, body: bytes, headers: dict[str, str]) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own URL setting
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def due_webhooks(*, limit: int = 100) -> list[FakeAcquirerWebhook]:
    return list(
        FakeAcquirerWebhook.objects.filter(delivered_at__isnull=True, deliver_after__lte=clock.now())
        .select_related("payment")
        .order_by("deliver_after", "id")[:limit]
    )


def deliver(hook: FakeAcquirerWebhook) -> bool:
    """Send one notification; True once the merchant answered 2xx (a failure is retried later)."""
    transport = import_string(settings.SELFCARE_FAKE_ACQUIRER_TRANSPORT)
    body = hook.body.encode()
    try:
        status = transport(webhook_url(), body, signed_headers(body))
    except OSError as error:
        log.info("fake_acquirer.webhook_unreachable", event_id=hook.event_id, error=type(error).__name__)
        status = 0
    delivered: bool = 200 <= int(status) < 300
    # Back off like acquirers do, so an endpoint that is down is not hammered.
    FakeAcquirerWebhook.objects.filter(pk=hook.pk).update(
        attempts=hook.attempts + 1,
        last_status=status,
        delivered_at=clock.now() if delivered else None,
        deliver_after=hook.deliver_after
        if delivered
        else clock.now() + timedelta(seconds=30 * (hook.attempts + 1)),
    )
    return delivered


def deliver_due(*, limit: int = 100) -> int:
    return sum(1 for hook in due_webhooks(limit=limit) if deliver(hook))


# --- Test hooks: delivery misbehaviour on demand ----------------------------------------------------


def redeliver(payment_id: str, *, copies: int = 1, delay_s: int = 0) -> list[FakeAcquirerWebhook]:
    """Send the latest event of the payment again (same event id), `copies` times, after `delay_s`."""
    last = FakeAcquirerWebhook.objects.filter(payment_id=payment_id).order_by("-id").first()
    if last is None:
        return []
    hooks = [
        FakeAcquirerWebhook.objects.create(
            payment_id=payment_id,
            event_id=last.event_id,
            body=last.body,
            deliver_after=clock.now() + timedelta(seconds=delay_s),
        )
        for _ in range(copies)
    ]
    if settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER and delay_s == 0:
        transaction.on_commit(_deliver_soon, robust=True)
    return hooks


def send_stale_event(payment_id: str, *, status: str = PENDING) -> FakeAcquirerWebhook:
    """An older state of the payment arriving after the newer one (out of order), as a new event."""
    payment = FakeAcquirerPayment.objects.get(pk=payment_id)
    payment.status = status
    payment.failure_code = ""
    # Only the notification shows the old state; the stored payment is not changed.
    return _queue_event(payment)
