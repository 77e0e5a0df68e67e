"""Playwright fixtures for browser journeys, shared by every test under tests/browser/.

Debian's Chromium is driven through Playwright's sync API (never `playwright install`). One browser is
shared by all the browser tests; each test gets a fresh context and page, with the page's console
messages and uncaught errors collected in `console_messages`.

Playwright's sync API keeps an asyncio event loop running in the main thread for as long as it is
started. That makes Django refuse ORM calls from the thread (SynchronousOnlyOperation), so browser
test modules set DJANGO_ALLOW_ASYNC_UNSAFE=true. It also makes `asyncio.run()` fail, which is why the
browser is scoped to this package rather than to the session: pytest stops it as soon as the run
leaves tests/browser/, and no other test ever sees the running loop (under xdist a worker may start it
more than once; that costs a second, not a failure).

Screenshots go under test-artifacts/browser/ (ignored by git), via `artifact_path(name)`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import require_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def artifact_path(name: str) -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR / name


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    require_service("Chromium at /usr/bin/chromium", CHROMIUM.exists())
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def console_messages() -> list[str]:
    """Console messages and uncaught page errors of the test's page (CSP violations show up here)."""
    return []


@pytest.fixture
def page(browser: Browser, console_messages: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    opened = context.new_page()
    opened.on("console", lambda message: console_messages.append(f"{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: console_messages.append(f"pageerror: {error}"))
    yield opened
    context.close()
