"""/api/v1/payments/: the same operations for the app, owner-only, idempotent by header."""

from __future__ import annotations

import pytest
from django.test import Client

from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.services import issue_api_tokens
from selfcare.payments.models import Payment, PromisedPayment
from tests.payments.conftest import deliver_all
from tests.payments.factories import balance_of, make_subscriber, pay

pytestmark = pytest.mark.django_db

APP = ServiceClient(ip="192.0.2.20", user_agent="app", language="en")


def bearer(user) -> dict[str, str]:
    pair = issue_api_tokens(user, device_id="install-1", client=APP, method="test")
    return {"Authorization": f"Bearer {pair.access_token}"}


def test_a_topup_through_the_api_is_idempotent_and_credited_on_the_webhook(client: Client):
    # given a subscriber of the app
    user, line = make_subscriber()
    auth = bearer(user)

    # when the app starts a top-up twice with one Idempotency-Key
    answers = [
        client.post(
            "/api/v1/payments/topups",
            {"amount_minor": 30_000},
            content_type="application/json",
            headers={**auth, "Idempotency-Key": "app-key-1"},
        )
        for _ in range(2)
    ]

    # then one payment exists, with the provider's page to open
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    body = answers[0].json()
    assert (body["status"], body["amount_minor"], body["msisdn"]) == ("pending", 30_000, line.msisdn)
    assert body["confirmation_url"].startswith("http://testserver/fake-acquirer/pay/")
    assert Payment.objects.count() == 1

    # when the buyer pays and the provider confirms
    pay(Payment.objects.get())
    deliver_all(client)

    # then the receipt says succeeded and the history lists it
    receipt = client.get(f"/api/v1/payments/{body['id']}", headers=auth).json()
    assert (receipt["status"], receipt["card_last4"]) == ("succeeded", "4242")
    assert [p["id"] for p in client.get("/api/v1/payments/", headers=auth).json()] == [body["id"]]
    assert balance_of(line) == 30_000


def test_a_topup_without_an_idempotency_key_or_token_is_refused(client: Client):
    user, _line = make_subscriber()
    no_key = client.post(
        "/api/v1/payments/topups",
        {"amount_minor": 30_000},
        content_type="application/json",
        headers=bearer(user),
    )
    no_token = client.post(
        "/api/v1/payments/topups",
        {"amount_minor": 30_000},
        content_type="application/json",
        headers={"Idempotency-Key": "k"},
    )
    assert (no_key.status_code, no_token.status_code) == (422, 401)
    assert no_key["Content-Type"] == "application/problem+json"
    assert Payment.objects.count() == 0


def test_another_subscribers_receipt_is_not_found(client: Client):
    user, _line = make_subscriber()
    other, _other_line = make_subscriber()
    created = client.post(
        "/api/v1/payments/topups",
        {"amount_minor": 30_000},
        content_type="application/json",
        headers={**bearer(user), "Idempotency-Key": "k-1"},
    ).json()
    answer = client.get(f"/api/v1/payments/{created['id']}", headers=bearer(other))
    assert (answer.status_code, answer.json()["code"]) == (404, "payment_not_found")


def test_promised_payment_through_the_api(client: Client, frozen_clock):
    # given an eligible subscriber
    user, line = make_subscriber(tenure_days=70)
    auth = bearer(user)

    # when the app reads the conditions and takes the largest tier
    offer = client.get("/api/v1/payments/promised/offer", headers=auth).json()
    assert (offer["eligible"], offer["max_amount_minor"], offer["term_days"]) == (True, 80_000, 3)
    taken = client.post(
        "/api/v1/payments/promised",
        {"amount_minor": 80_000},
        content_type="application/json",
        headers={**auth, "Idempotency-Key": "promise-1"},
    )

    # then it is granted once, minus the 30.00 fee
    assert taken.status_code == 201
    assert (taken.json()["amount_minor"], taken.json()["fee_minor"]) == (80_000, 3_000)
    assert balance_of(line) == 77_000
    again = client.post(
        "/api/v1/payments/promised",
        {"amount_minor": 10_000},
        content_type="application/json",
        headers={**auth, "Idempotency-Key": "promise-2"},
    )
    assert (again.status_code, again.json()["code"]) == (422, "promised_not_available")
    assert PromisedPayment.objects.count() == 1
    assert [p["status"] for p in client.get("/api/v1/payments/promised", headers=auth).json()] == ["active"]
