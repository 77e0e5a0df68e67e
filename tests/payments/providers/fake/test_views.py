"""The fake acquirer's hosted card page, as the buyer sees it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.payments.factories import make_subscriber, start

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en", "RUB250.00"),
        ("ru", "250,00\u00a0₽"),
        ("fa", "\u200eRUB\u00a0250.00"),
    ],
)
def test_the_hosted_page_shows_the_amount_as_money_in_the_buyer_s_language(language, shown):
    # Given a top-up of 250.00 opened at the fake acquirer
    user, _line = make_subscriber()
    payment = start(user, amount_minor=25_000)

    # When the buyer's browser opens the hosted page in their language
    page = Client().get(f"/fake-acquirer/pay/{payment.provider_payment_id}/", HTTP_ACCEPT_LANGUAGE=language)

    # Then the amount is formatted money, not a count of minor units
    assert page.status_code == 200
    html = page.content.decode()
    amount = re.search(r'data-testid="amount"><strong><bdi>([^<]*)</bdi>', html)
    assert amount is not None
    assert amount.group(1) == shown
    assert "25000" not in html
