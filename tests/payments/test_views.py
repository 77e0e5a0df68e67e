"""The subscriber's pages: top-up through the fake acquirer's hosted page and back, the pending page
that only a verified confirmation turns green, owner-only receipts, promised payment, cards."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from selfcare.payments.models import Payment, PaymentStatus, PromisedPayment
from tests.payments.conftest import deliver_all
from tests.payments.factories import DECLINE, SUCCESS, THREE_DS, balance_of, make_subscriber

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start_on_page(client: Client, amount: str = "250", **extra: str) -> tuple[Payment, str]:
    page = client.get("/payments/")
    token = re.search(rb'name="token" value="([^"]+)"', page.content).group(1).decode()
    number = re.search(rb'name="number" value="([^"]+)"', page.content).group(1).decode()
    answer = client.post("/payments/", {"amount": amount, "number": number, "token": token, **extra})
    assert answer.status_code == 302
    payment = Payment.objects.get(request_key__endswith=token)
    assert answer["Location"] == payment.confirmation_url
    return payment, token


def pay_on_hosted_page(client: Client, payment: Payment, card: str) -> str:
    answer = client.post(
        f"/fake-acquirer/pay/{payment.provider_payment_id}/",
        {"number": card, "expiry": "12/30", "cvc": "123"},
    )
    assert answer.status_code == 302
    return answer["Location"]


def test_a_card_topup_from_the_page_is_pending_until_the_webhook_then_paid():
    # given a signed-in subscriber on the top-up page
    user, line = make_subscriber()
    client = signed_in(user)

    # when they start 250.00 and pay on the acquirer's page with the success card
    payment, _token = start_on_page(client)
    back = pay_on_hosted_page(client, payment, SUCCESS)

    # then they come back to the payment page, which says "waiting" and polls
    assert back == f"http://testserver/payments/{payment.public_id}/"
    page = client.get(back)
    assert b'data-status="pending"' in page.content
    assert b'hx-trigger="every 2s"' in page.content
    assert balance_of(line) == 0

    # when the signed notification arrives
    assert deliver_all(client) == [200]

    # then the polled fragment says paid, and polling stops
    fragment = client.get(back, headers={"HX-Request": "true"})
    assert b'data-status="succeeded"' in fragment.content
    assert b"hx-trigger" not in fragment.content
    assert balance_of(line) == 25_000


def test_a_forged_success_return_credits_nothing():
    # given a started top-up whose buyer never paid
    user, line = make_subscriber()
    client = signed_in(user)
    payment, _token = start_on_page(client)

    # when the browser comes back with a URL that claims success
    page = client.get(f"/payments/{payment.public_id}/?status=succeeded&paid=1&amount=2500000")

    # then the page still waits and nothing is credited
    assert b'data-status="pending"' in page.content
    assert balance_of(line) == 0
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_the_same_form_token_posted_twice_makes_one_payment():
    user, _line = make_subscriber()
    client = signed_in(user)
    payment, token = start_on_page(client)
    again = client.post("/payments/", {"amount": "250", "number": payment.msisdn, "token": token})
    assert again["Location"] == payment.confirmation_url
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(("card", "status"), [(DECLINE, "failed"), (THREE_DS, "succeeded")])
def test_declined_and_3ds_cards_on_the_hosted_page(card, status):
    user, line = make_subscriber()
    client = signed_in(user)
    payment, _token = start_on_page(client, "100")
    back = pay_on_hosted_page(client, payment, card)
    if card == THREE_DS:
        assert back == f"/fake-acquirer/pay/{payment.provider_payment_id}/challenge/"
        assert b"3-D Secure" in client.get(back).content
        back = client.post(back, {"action": "confirm"})["Location"]
    deliver_all(client)
    assert f'data-status="{status}"'.encode() in client.get(back).content
    assert balance_of(line) == (10_000 if status == "succeeded" else 0)


def test_the_hosted_page_refuses_a_number_that_fails_the_luhn_check():
    user, _line = make_subscriber()
    client = signed_in(user)
    payment, _token = start_on_page(client)
    answer = client.post(
        f"/fake-acquirer/pay/{payment.provider_payment_id}/",
        {"number": "4242424242424241", "expiry": "12/30", "cvc": "123"},
    )
    assert answer.status_code == 200
    assert b"This is not a valid card number." in answer.content
    # the typed number is not sent back into the page
    assert b"4242424242424241" not in answer.content


def test_receipts_are_shown_only_to_their_owner():
    # given a payment of one subscriber
    user, _line = make_subscriber()
    payment, _token = start_on_page(signed_in(user))

    # then another subscriber gets a 404 for it, and an anonymous visitor the login page
    other, _other_line = make_subscriber()
    assert signed_in(other).get(f"/payments/{payment.public_id}/").status_code == 404
    assert Client().get(f"/payments/{payment.public_id}/")["Location"].startswith("/login/")


def test_promised_payment_page_shows_the_conditions_and_grants(frozen_clock):
    # given an eligible subscriber with 0.00
    user, line = make_subscriber(tenure_days=61)
    client = signed_in(user)

    # when they open the page
    page = client.get("/payments/promised/")

    # then the tiers, fees and term are shown before confirming
    assert b"fee" in page.content
    assert b"Term: 3 days" in page.content
    token = re.search(rb'name="token" value="([^"]+)"', page.content).group(1).decode()

    # when they take 200.00
    answer = client.post("/payments/promised/", {"amount_minor": "20000", "token": token})

    # then it is granted and shown in the history
    assert answer["Location"] == "/payments/history/"
    assert PromisedPayment.objects.get().amount_minor == 20_000
    assert balance_of(line) == 19_300
    history = client.get("/payments/history/")
    assert b'data-status="active"' in history.content


def test_cards_page_lists_saved_cards_and_saves_autopay():
    user, line = make_subscriber()
    client = signed_in(user)
    payment, _token = start_on_page(client, "100", save_card="on")
    pay_on_hosted_page(client, payment, SUCCESS)
    deliver_all(client)
    page = client.get("/payments/cards/")
    assert "•••• <bdi>4242</bdi>".encode() in page.content
    card_id = re.search(rb'<option value="(\d+)"', page.content).group(1).decode()
    answer = client.post(
        "/payments/cards/",
        {"card": card_id, "threshold": "50", "amount": "300", "max_per_month": "3", "enabled": "on"},
    )
    assert answer.status_code == 302
    from selfcare.payments.models import AutopaySettings

    row = AutopaySettings.objects.get()
    assert (row.threshold_minor, row.amount_minor, row.max_per_month, row.account_id) == (
        5_000,
        30_000,
        3,
        line.account_id,
    )
