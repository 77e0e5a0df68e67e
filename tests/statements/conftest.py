"""Fixtures of the statements tests: subscribers with a line and a known month, a web client that
commits (so the order's generation job runs, in huey's immediate mode, as it would after a commit),
and helpers to read the SMS code and follow an order to its file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, TestCase

from selfcare.identity.models import User
from selfcare.identity.throttles import get_limiter
from selfcare.lines.models import Line
from selfcare.notifications.services import list_recent_console_messages
from tests.factories import make_line

CODE_RE = re.compile(r"\b(\d{6})\b")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


class CommittingClient(Client):
    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture(autouse=True)
def statements_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SELFCARE_STATEMENTS_DIR = tmp_path / "statements"
    settings.SELFCARE_PUBLIC_URL = "http://testserver"
    return tmp_path / "statements"


@pytest.fixture(autouse=True)
def clean_limits() -> Iterator[None]:
    get_limiter().reset()
    cache.clear()
    yield
    get_limiter().reset()


def make_subscriber(line: Line | None = None, *, language: str = "en", email: str = "") -> tuple[User, Line]:
    line = line or make_line()
    if email:
        customer = line.account.customer
        customer.email = email
        customer.save(update_fields=["email"])
    user = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn, language=language)
    return user, line


def web_for(user: User, language: str = "en") -> CommittingClient:
    client = CommittingClient(REMOTE_ADDR="192.0.2.20", HTTP_USER_AGENT="pytest")
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def last_code(msisdn: str) -> str:
    for message in list_recent_console_messages(50):
        if message.msisdn == msisdn:
            match = CODE_RE.search(message.text)
            if match:
                return match.group(1)
    raise AssertionError(f"no code was sent to {msisdn}")


def order_through_pages(client: Client, user: User, **fields: Any) -> Any:
    """Ask for a code, then order with it; returns the response of the order form."""
    get_limiter().reset()
    assert client.post("/statements/code/").status_code == 302
    data = {
        "period_start": "2026-03-01",
        "period_end": "2026-03-20",
        "categories": ["calls", "sms", "data", "other"],
        "format": "pdf",
        "code": last_code(user.msisdn or ""),
        "token": "t-1",
        **fields,
    }
    return client.post("/statements/", data)


@pytest.fixture
def zones(db: None) -> Any:
    from tests.usage.factories import make_numbering

    return make_numbering()


@pytest.fixture
def story() -> Any:
    from tests.scenarios.conftest import Story

    return Story()
