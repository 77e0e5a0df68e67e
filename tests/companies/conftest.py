"""Fixtures of the companies tests: clean rate limits, lines with PUK codes, staff, committing clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase

from selfcare.catalog.models import Region
from selfcare.identity.models import User
from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.throttles import get_limiter
from selfcare.lines.models import Line
from tests.factories import make_line, make_region

CLIENT = ServiceClient(ip="192.0.2.40", user_agent="pytest", language="ru")
PASSWORD = "correct horse battery staple"
# A valid organisation INN (checksum right).
INN = "7707083893"


class CommittingClient(Client):
    """Runs each request's on-commit callbacks (SMS job, e-mail) as if the request had committed."""

    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["tests.identity.hashers.FastArgon2idHasher"]


@pytest.fixture(autouse=True)
def clean_limits() -> Iterator[None]:
    get_limiter().reset()
    mail.outbox.clear()
    yield
    get_limiter().reset()


@pytest.fixture
def committing() -> Callable[..., Any]:
    def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return function(*args, **kwargs)

    return run


@pytest.fixture
def region(db: None) -> Region:
    return make_region(code="moscow", name={"en": "Moscow", "ru": "Москва"})


def make_puk_line(puk: str, **kwargs: Any) -> Line:
    return make_line(puk=puk, **kwargs)


@pytest.fixture
def three_lines(db: None) -> list[tuple[Line, str]]:
    return [(make_puk_line(puk), puk) for puk in ("12345678", "23456789", "34567890")]


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_superuser("operator", password="x" * 16)


@pytest.fixture
def backoffice(staff: User) -> CommittingClient:
    client = CommittingClient(REMOTE_ADDR="192.0.2.30")
    client.force_login(staff)
    return client


@pytest.fixture
def web() -> CommittingClient:
    return CommittingClient(
        REMOTE_ADDR="192.0.2.41", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux) Firefox/130.0"
    )
