"""Fixtures of the identity tests: clean rate limits, lines to register, a client that commits.

Most tests run inside a test transaction, where `transaction.on_commit` never fires, so no SMS would
ever be sent. `CommittingClient` runs each request's on-commit callbacks (the SMS job, in huey's
immediate mode) as if the request had committed, the way it does in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, TestCase

from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.throttles import get_limiter
from selfcare.lines.models import Line
from selfcare.notifications.services import list_recent_console_messages
from tests.factories import make_line, unique_msisdn

PASSWORD = "correct horse battery staple"
OTHER_PASSWORD = "Sigur Rós, Hoppípolla 2008"
CLIENT = ServiceClient(ip="192.0.2.10", user_agent="pytest", language="en")
CODE_RE = re.compile(r"\b(\d{6})\b")


class CommittingClient(Client):
    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["tests.identity.hashers.FastArgon2idHasher"]


@pytest.fixture
def production_hasher(settings: Any, fast_password_hashing: None) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


@pytest.fixture(autouse=True)
def clean_limits_and_sms() -> Iterator[None]:
    get_limiter().reset()
    cache.clear()
    yield
    get_limiter().reset()


@pytest.fixture
def web() -> CommittingClient:
    return CommittingClient(
        REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux) Firefox/130.0"
    )


@pytest.fixture
def committing() -> Callable[..., Any]:
    """Run a service call as if its caller committed: the SMS it queued is sent."""

    def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return function(*args, **kwargs)

    return run


@pytest.fixture
def line(db: None) -> Line:
    return make_line()


def unserved_msisdn() -> str:
    return unique_msisdn()


def sms_texts(msisdn: str) -> list[str]:
    return [m.text for m in list_recent_console_messages(50) if m.msisdn == msisdn]


def last_code(msisdn: str) -> str:
    """The code of the newest SMS to `msisdn`, read from the console gateway like a demo user would."""
    for text in sms_texts(msisdn):
        match = CODE_RE.search(text)
        if match:
            return match.group(1)
    raise AssertionError(f"no code was sent to {msisdn}")


def national(msisdn: str) -> str:
    """+79001234567 → "8 (900) 123-45-67": the way people type it."""
    digits = msisdn[2:]
    return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
