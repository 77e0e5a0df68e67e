"""Fixtures of the payments tests: the fake provider, subscribers with lines, webhook delivery by hand.

The fake acquirer's automatic delivery is off here: tests decide when (and how often, and in which
order) notifications arrive, by posting the simulator's signed webhooks to our endpoint themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from selfcare.payments.models import FakeAcquirerWebhook
from selfcare.payments.providers import reset_provider_cache
from tests.payments.factories import signed_webhook


@pytest.fixture(autouse=True)
def fake_payments(settings: Any) -> Iterator[None]:
    settings.SELFCARE_PAYMENT_BACKEND = "fake"
    settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER = False
    settings.SELFCARE_PUBLIC_URL = "http://testserver"
    reset_provider_cache()
    yield
    reset_provider_cache()


def post_webhook(client: Client, hook: FakeAcquirerWebhook, **signing: Any) -> Any:
    body, headers = signed_webhook(hook, **signing)
    return client.generic(
        "POST",
        "/payments/webhooks/fake/",
        body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )


def deliver_all(client: Client) -> list[int]:
    """Post every notification the simulator has queued (oldest first); the HTTP statuses."""
    statuses = []
    for hook in FakeAcquirerWebhook.objects.filter(delivered_at__isnull=True).order_by("id"):
        statuses.append(post_webhook(client, hook).status_code)
        FakeAcquirerWebhook.objects.filter(pk=hook.pk).update(delivered_at=hook.deliver_after)
    return statuses
