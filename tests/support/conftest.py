"""Fixtures of the support tests: clean rate limits, subscribers with lines, staff, a client that commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, TestCase

from selfcare.identity.models import User
from selfcare.identity.throttles import get_limiter
from tests.support.factories import make_subscriber


class CommittingClient(Client):
    """Runs each request's on-commit callbacks (the SMS job) as if the request had committed."""

    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture(autouse=True)
def clean_limits() -> Iterator[None]:
    get_limiter().reset()
    yield
    get_limiter().reset()


@pytest.fixture
def subscriber(db: None) -> User:
    return make_subscriber()


@pytest.fixture
def other(db: None) -> User:
    return make_subscriber()


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_superuser("operator", password="x" * 16)


@pytest.fixture
def web(subscriber: User) -> CommittingClient:
    client = CommittingClient(REMOTE_ADDR="192.0.2.20")
    client.force_login(subscriber)
    return client


@pytest.fixture
def backoffice(staff: User) -> CommittingClient:
    client = CommittingClient(REMOTE_ADDR="192.0.2.30")
    client.force_login(staff)
    return client
