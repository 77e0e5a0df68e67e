"""A subscriber tops up in a real browser through the fake acquirer's hosted page (success, decline,
3-D Secure), takes a promised payment from a zero balance, and sees it all in the history.

The simulator posts its signed webhooks over HTTP to the live server, as a real acquirer would.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from selfcare.ledger.queries import get_balance_minor
from selfcare.payments.providers import reset_provider_cache
from selfcare.payments.providers.fake import acquirer
from tests.browser.conftest import artifact_path
from tests.payments.factories import make_subscriber

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def subscriber(live_server: LiveServer, page: Page, settings: Any) -> Any:
    settings.SELFCARE_PUBLIC_URL = live_server.url
    settings.SELFCARE_PAYMENT_BACKEND = "fake"
    settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER = True
    reset_provider_cache()
    user, line = make_subscriber(tenure_days=61)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    yield line
    reset_provider_cache()


def top_up(page: Page, live_server: LiveServer, amount: str, card: str) -> None:
    page.goto(f"{live_server.url}/payments/")
    page.get_by_label("Amount", exact=True).fill(amount)
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("heading", name="Fake Acquirer")).to_be_visible()
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay", exact=True).click()


def test_topups_with_the_success_decline_and_3ds_cards(page: Page, live_server: LiveServer, subscriber: Any):
    # when the subscriber pays 250 with the success card
    top_up(page, live_server, "250", acquirer.SUCCESS_CARD)

    # then the payment page turns "paid" once the acquirer's webhook arrived
    expect(page.get_by_test_id("payment-result")).to_contain_text("Paid:")
    assert get_balance_minor(subscriber.account.ledger_account_id) == 25_000
    page.screenshot(path=artifact_path("topup-success.png"), full_page=True)

    # when they pay 100 with the decline card
    top_up(page, live_server, "100", acquirer.DECLINE_CARD)

    # then the page says it did not go through and the balance is unchanged
    expect(page.get_by_test_id("payment-result")).to_contain_text("did not go through")
    assert get_balance_minor(subscriber.account.ledger_account_id) == 25_000

    # when they pay 100 with the 3-D Secure card and confirm on the bank's page
    top_up(page, live_server, "100", acquirer.THREE_DS_CARD)
    expect(page.get_by_role("heading", name="3-D Secure check")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    # then it is paid
    expect(page.get_by_test_id("payment-result")).to_contain_text("Paid:")
    assert get_balance_minor(subscriber.account.ledger_account_id) == 35_000

    # and the history shows all three with their outcomes
    page.goto(f"{live_server.url}/payments/history/")
    rows = page.get_by_test_id("payments").locator("tbody tr")
    expect(rows).to_have_count(3)
    statuses = [rows.nth(i).get_attribute("data-status") for i in range(3)]
    assert statuses == ["succeeded", "failed", "succeeded"]
    page.screenshot(path=artifact_path("topup-history.png"), full_page=True)


def test_promised_payment_from_a_zero_balance(page: Page, live_server: LiveServer, subscriber: Any):
    # given a subscriber with 0.00 on the promised payment page
    page.goto(f"{live_server.url}/payments/promised/")
    expect(page.get_by_test_id("promised-conditions")).to_contain_text("Term: 3 days")

    # when they choose the 200 tier and confirm
    page.get_by_label("200").check()
    page.get_by_role("button", name="Take the promised payment").click()

    # then 193.00 (200 less the 7.00 fee) is on the balance and the history shows it as active
    expect(page.get_by_test_id("promised").locator("tbody tr")).to_have_count(1)
    assert page.get_by_test_id("promised").locator("tbody tr").get_attribute("data-status") == "active"
    assert get_balance_minor(subscriber.account.ledger_account_id) == 19_300
    page.screenshot(path=artifact_path("promised-history.png"), full_page=True)
