"""The Stripe adapter offline: constructed, signed webhook payloads and a local stub of Stripe's API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from selfcare.ledger.queries import get_account_by_code
from selfcare.payments.models import Payment, PaymentStatus, SavedCard
from selfcare.payments.providers import get_provider, reset_provider_cache
from selfcare.payments.providers.base import CardCharge, NewPayment, ProviderStatus, WebhookRejected
from tests.payments.factories import balance_of, make_subscriber, start
from tests.payments.providers.stub import Stub, StubRequest, provider_stub

WEBHOOK_SECRET = "whsec_test_secret"

pytestmark = pytest.mark.django_db


def session(
    request_form: dict[str, list[str]] | None = None, *, paid: bool = False, **extra: Any
) -> dict[str, Any]:
    form = request_form or {}
    body: dict[str, Any] = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "url": "https://checkout.stripe.test/c/pay/cs_test_1",
        "amount_total": int(form.get("line_items[0][price_data][unit_amount]", ["50000"])[0]),
        "currency": form.get("line_items[0][price_data][currency]", ["rub"])[0],
        "client_reference_id": form.get("client_reference_id", [""])[0],
        "payment_status": "paid" if paid else "unpaid",
        "status": "complete" if paid else "open",
        "payment_intent": None,
    }
    body.update(extra)
    return body


def paid_intent() -> dict[str, Any]:
    return {
        "id": "pi_test_1",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 50_000,
        "currency": "rub",
        "customer": "cus_test_1",
        "metadata": {},
        "payment_method": {
            "id": "pm_test_1",
            "object": "payment_method",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
        },
    }


@pytest.fixture
def stripe_api(settings: Any) -> Iterator[Stub]:
    with provider_stub() as stub:
        settings.SELFCARE_PAYMENT_BACKEND = "stripe"
        settings.SELFCARE_STRIPE_SECRET_KEY = "sk_test_stub"
        settings.SELFCARE_STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.SELFCARE_STRIPE_API_BASE = stub.url
        reset_provider_cache()
        created: dict[str, Any] = {}

        def create(request: StubRequest) -> tuple[int, Any]:
            created.update(session(request.form()))
            return 200, created

        def retrieve(request: StubRequest) -> tuple[int, Any]:
            return 200, {
                **session(paid=True),
                **created,
                "id": request.path.rsplit("/", 1)[-1],
                "payment_status": "paid",
                "status": "complete",
                "payment_intent": paid_intent(),
            }

        stub.route("POST", "/v1/checkout/sessions", create)
        stub.route("GET", "/v1/checkout/sessions/", retrieve)
        yield stub
    reset_provider_cache()


def signed(
    payload: dict[str, Any], *, secret: str = WEBHOOK_SECRET, at: int | None = None
) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    timestamp = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def completed_event(reference: str, *, amount: int = 50_000, event_id: str = "evt_1") -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": session(paid=True, amount_total=amount, client_reference_id=reference)},
    }


def test_a_checkout_session_is_created_with_the_amount_reference_and_idempotency_key(stripe_api: Stub):
    # when a top-up of 500.00 with card saving is opened at Stripe
    snapshot = get_provider().create_payment(
        NewPayment(
            reference="ref-1",
            amount_minor=50_000,
            currency="RUB",
            description="Selfcare +79001234567",
            return_url="http://testserver/payments/ref-1/",
            save_card=True,
        )
    )

    # then Stripe was asked for a payment-mode session of 500.00 RUB, once, idempotently
    [request] = stripe_api.requests
    form = request.form()
    assert request.headers["Idempotency-Key"] == "checkout:ref-1"
    assert request.headers["Authorization"] == "Bearer sk_test_stub"
    assert form["mode"] == ["payment"]
    assert form["line_items[0][price_data][unit_amount]"] == ["50000"]
    assert form["line_items[0][price_data][currency]"] == ["rub"]
    assert form["client_reference_id"] == ["ref-1"]
    assert form["payment_intent_data[setup_future_usage]"] == ["off_session"]
    assert (snapshot.provider_payment_id, snapshot.status) == ("cs_test_1", ProviderStatus.PENDING)
    assert snapshot.confirmation_url == "https://checkout.stripe.test/c/pay/cs_test_1"


def test_a_signed_completed_event_is_confirmed_by_re_reading_the_session(stripe_api: Stub):
    # given a validly signed checkout.session.completed
    body, header = signed(completed_event("ref-1"))

    # when it is verified
    notice = get_provider().verify_notice(body, {"Stripe-Signature": header})

    # then the snapshot comes from the re-read session, with the card
    assert notice.event_id == "evt_1"
    assert notice.payment is not None
    assert (notice.payment.status, notice.payment.amount_minor, notice.payment.currency) == (
        ProviderStatus.SUCCEEDED,
        50_000,
        "RUB",
    )
    assert notice.payment.card is not None
    assert (notice.payment.card.last4, notice.payment.card.token) == ("4242", "cus_test_1/pm_test_1")
    assert [r.path for r in stripe_api.requests] == ["/v1/checkout/sessions/cs_test_1"]


@pytest.mark.parametrize("tamper", ["body", "secret", "stale"])
def test_tampered_stripe_events_are_rejected_without_asking_stripe(stripe_api: Stub, tamper: str):
    body, header = signed(
        completed_event("ref-1"),
        secret="whsec_wrong" if tamper == "secret" else WEBHOOK_SECRET,
        at=int(time.time()) - 301 if tamper == "stale" else None,
    )
    if tamper == "body":
        body = body.replace(b"50000", b"99999")
    with pytest.raises(WebhookRejected):
        get_provider().verify_notice(body, {"Stripe-Signature": header})
    assert stripe_api.requests == []


def test_a_stripe_topup_is_credited_once_through_the_webhook_endpoint(stripe_api: Stub, client: Client):
    # given a top-up opened at Stripe
    user, line = make_subscriber()
    payment = start(user, amount_minor=50_000, save_card=True)
    assert payment.confirmation_url == "https://checkout.stripe.test/c/pay/cs_test_1"

    # when Stripe posts the signed completion twice
    body, header = signed(completed_event(str(payment.public_id)))
    answers = [
        client.post(
            "/payments/webhooks/stripe/",
            body,
            content_type="application/json",
            headers={"Stripe-Signature": header},
        )
        for _ in range(2)
    ]

    # then the money is credited once, against Stripe's clearing account, and the card is saved
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.content for a in answers] == [b"credited", b"duplicate"]
    assert balance_of(line) == 50_000
    assert get_account_by_code("clearing:stripe").balance_minor == -50_000
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
    card = SavedCard.objects.get()
    assert (card.last4, card.brand, card.exp_month, card.exp_year) == ("4242", "visa", 12, 2030)


def test_a_webhook_for_the_fake_provider_is_refused_when_stripe_is_configured(
    stripe_api: Stub, client: Client
):
    answer = client.post("/payments/webhooks/fake/", b"{}", content_type="application/json")
    assert answer.status_code == 400


def test_an_off_session_charge_reports_a_decline_as_a_failed_payment(stripe_api: Stub):
    # given Stripe declines the saved card
    stripe_api.route(
        "POST",
        "/v1/payment_intents",
        lambda _r: (
            402,
            {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "message": "declined",
                    "payment_intent": {"id": "pi_declined_1"},
                }
            },
        ),
    )

    # when autopay charges it
    snapshot = get_provider().charge_card(
        CardCharge(
            reference="ref-2",
            amount_minor=30_000,
            currency="RUB",
            description="autopay",
            card_token="cus_test_1/pm_test_1",
        )
    )

    # then the attempt failed with Stripe's code, and the request named the customer and the card
    assert (snapshot.status, snapshot.failure_code, snapshot.provider_payment_id) == (
        ProviderStatus.FAILED,
        "card_declined",
        "pi_declined_1",
    )
    form = stripe_api.requests[-1].form()
    assert (form["customer"], form["payment_method"], form["off_session"]) == (
        ["cus_test_1"],
        ["pm_test_1"],
        ["true"],
    )
