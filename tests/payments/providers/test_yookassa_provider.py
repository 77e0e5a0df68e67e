"""The YooKassa adapter offline, against a local stub of YooKassa's API: notifications are unsigned,
so what counts is the payment as the API reports it on re-fetch."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from selfcare.payments.models import PaymentStatus, SavedCard, WebhookEvent
from selfcare.payments.providers import get_provider, reset_provider_cache
from selfcare.payments.providers.base import CardCharge, NewPayment, ProviderStatus, WebhookRejected
from tests.payments.factories import balance_of, make_subscriber, start
from tests.payments.providers.stub import Stub, StubRequest, provider_stub

pytestmark = pytest.mark.django_db

PAYMENT_ID = "2f5d8a3e-000f-5000-9000-1b68e7b15f3f"


def yoo_payment(
    *, status: str = "pending", value: str = "500.00", reference: str = "", saved: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": PAYMENT_ID,
        "status": status,
        "paid": status == "succeeded",
        "amount": {"value": value, "currency": "RUB"},
        "confirmation": {
            "type": "redirect",
            "confirmation_url": f"https://yoomoney.test/checkout?orderId={PAYMENT_ID}",
        },
        "created_at": "2026-03-02T06:00:00.000Z",
        "description": "Selfcare",
        "metadata": {"reference": reference},
        "recipient": {"account_id": "100500", "gateway_id": "100700"},
        "refundable": False,
        "test": True,
    }
    if status == "succeeded":
        body["payment_method"] = {
            "type": "bank_card",
            "id": "pm-saved-1",
            "saved": saved,
            "card": {
                "first6": "555555",
                "last4": "4444",
                "expiry_month": "07",
                "expiry_year": "2031",
                "card_type": "MasterCard",
            },
        }
    return body


@pytest.fixture
def yookassa_api(settings: Any) -> Iterator[Stub]:
    with provider_stub() as stub:
        settings.SELFCARE_PAYMENT_BACKEND = "yookassa"
        settings.SELFCARE_YOOKASSA_SHOP_ID = "100500"
        settings.SELFCARE_YOOKASSA_SECRET_KEY = "test_secret"
        settings.SELFCARE_YOOKASSA_API_URL = f"{stub.url}/v3"
        reset_provider_cache()
        state: dict[str, Any] = {"status": "pending", "value": "500.00", "reference": "", "saved": False}

        def create(request: StubRequest) -> tuple[int, Any]:
            sent = request.json()
            state.update(
                value=sent["amount"]["value"],
                reference=sent["metadata"]["reference"],
                saved=sent.get("save_payment_method", False),
            )
            if "payment_method_id" in sent:
                state["status"] = "succeeded"
            return 200, yoo_payment(
                status=state["status"],
                value=state["value"],
                reference=state["reference"],
                saved=state["saved"],
            )

        def find(request: StubRequest) -> tuple[int, Any]:
            if not request.path.endswith(PAYMENT_ID):
                return 404, {"type": "error", "id": "x", "code": "not_found", "description": "no payment"}
            return 200, yoo_payment(
                status=state["status"],
                value=state["value"],
                reference=state["reference"],
                saved=state["saved"],
            )

        stub.route("POST", "/v3/payments", create)
        stub.route("GET", "/v3/payments/", find)
        stub.state = state  # type: ignore[attr-defined]
        yield stub
    reset_provider_cache()


def notification(event: str = "payment.succeeded", payment_id: str = PAYMENT_ID) -> bytes:
    return json.dumps(
        {
            "type": "notification",
            "event": event,
            "object": yoo_payment(status="succeeded") | {"id": payment_id},
        }
    ).encode()


def test_a_payment_is_created_with_a_redirect_and_our_id_as_the_idempotence_key(yookassa_api: Stub):
    snapshot = get_provider().create_payment(
        NewPayment(
            reference="ref-1",
            amount_minor=50_000,
            currency="RUB",
            description="Selfcare",
            return_url="http://testserver/payments/ref-1/",
            save_card=True,
        )
    )
    [request] = yookassa_api.requests
    sent = request.json()
    assert request.headers["Idempotence-Key"] == "ref-1"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"100500:test_secret").decode()
    assert sent["amount"] == {"value": "500.00", "currency": "RUB"}
    assert sent["confirmation"] == {"type": "redirect", "return_url": "http://testserver/payments/ref-1/"}
    # (the SDK adds its own cms_name to the metadata)
    assert (sent["capture"], sent["save_payment_method"], sent["metadata"]["reference"]) == (
        True,
        True,
        "ref-1",
    )
    assert (snapshot.provider_payment_id, snapshot.status, snapshot.amount_minor) == (
        PAYMENT_ID,
        ProviderStatus.PENDING,
        50_000,
    )


def test_a_notification_claiming_success_counts_only_if_the_api_confirms(yookassa_api: Stub, client: Client):
    # given a top-up opened at YooKassa that is still pending there
    user, line = make_subscriber()
    payment = start(user, amount_minor=50_000, save_card=True)

    # when a (forged) notification claims it succeeded
    forged = client.post("/payments/webhooks/yookassa/", notification(), content_type="application/json")

    # then the re-fetch says pending: nothing is credited
    assert (forged.status_code, forged.content) == (200, b"pending")
    assert balance_of(line) == 0

    # when the payment really succeeds and YooKassa notifies
    yookassa_api.state["status"] = "succeeded"  # type: ignore[attr-defined]
    real = client.post("/payments/webhooks/yookassa/", notification(), content_type="application/json")

    # then it is credited (the forged one did not use up the event), with the saved card's details
    assert (real.status_code, real.content) == (200, b"credited")
    assert WebhookEvent.objects.count() == 2
    assert balance_of(line) == 50_000
    payment.refresh_from_db()
    assert (payment.status, payment.card_last4, payment.card_brand) == (
        PaymentStatus.SUCCEEDED,
        "4444",
        "mastercard",
    )
    card = SavedCard.objects.get()
    assert (card.token, card.exp_month, card.exp_year) == ("pm-saved-1", 7, 2031)


def test_a_notification_about_a_payment_yookassa_does_not_know_is_rejected(
    yookassa_api: Stub, client: Client
):
    answer = client.post(
        "/payments/webhooks/yookassa/",
        notification(payment_id="00000000-0000-0000-0000-000000000000"),
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_malformed_notifications_are_rejected(yookassa_api: Stub):
    with pytest.raises(WebhookRejected):
        get_provider().verify_notice(b"not json", {})
    assert yookassa_api.requests == []


def test_a_saved_method_is_charged_with_its_id(yookassa_api: Stub):
    snapshot = get_provider().charge_card(
        CardCharge(
            reference="ref-3",
            amount_minor=30_000,
            currency="RUB",
            description="autopay",
            card_token="pm-saved-1",
        )
    )
    sent = yookassa_api.requests[-1].json()
    assert (sent["payment_method_id"], sent["amount"]) == (
        "pm-saved-1",
        {"value": "300.00", "currency": "RUB"},
    )
    assert yookassa_api.requests[-1].headers["Idempotence-Key"] == "autopay-ref-3"
    assert (snapshot.status, snapshot.amount_minor) == (ProviderStatus.SUCCEEDED, 30_000)
