"""A subscriber registers a demo line in Chromium, reads the code the way a demo user does (the console
gateway's store, which /dev/sms shows), sets a password, logs out and logs back in: in English and in
Persian (right to left)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from selfcare.identity.models import User
from selfcare.identity.throttles import get_limiter
from selfcare.kit.phone import format_international
from selfcare.notifications.services import list_recent_console_messages
from tests.browser.conftest import PHONE, artifact_path
from tests.factories import make_line

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a demo passphrase for the journey"


def code_sent_to(msisdn: str) -> str:
    for message in list_recent_console_messages(50):
        if message.msisdn == msisdn:
            match = re.search(r"(?<!\d)(\d{6})(?!\d)", message.text)
            if match:
                return match.group(1)
    raise AssertionError(f"no code was sent to {msisdn}")


@pytest.fixture
def fresh_limits() -> Iterator[None]:
    get_limiter().reset()
    cache.clear()
    yield
    get_limiter().reset()


@pytest.fixture(params=[pytest.param("en", id="english"), pytest.param("fa", id="persian")])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def localized_page(language: str, browser: Browser, console_messages: list[str]) -> Iterator[Page]:
    # The browser's own language (Accept-Language) picks the page language, as on a first visit.
    context = browser.new_context(viewport=PHONE, locale={"en": "en-US", "fa": "fa-IR"}[language])
    opened = context.new_page()
    opened.on("console", lambda message: console_messages.append(f"{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: console_messages.append(f"pageerror: {error}"))
    yield opened
    context.close()


def submit_main_form(page: Page, url_part: str) -> None:
    with page.expect_navigation(url=re.compile(url_part)):
        page.locator("main form").first.locator("button[type=submit]").click()


def test_register_log_out_and_log_back_in(
    language: str,
    localized_page: Page,
    live_server: LiveServer,
    fresh_limits: None,
    console_messages: list[str],
) -> None:
    page = localized_page
    # Given a demo line, typed the way people write their number at home
    line = make_line()
    typed = f"8 {line.msisdn[2:5]} {line.msisdn[5:8]}-{line.msisdn[8:10]}-{line.msisdn[10:]}"

    # When the subscriber registers: number, code from the SMS, password
    page.goto(f"{live_server.url}/register/")
    lang, direction = page.locator("html").get_attribute("lang"), page.locator("html").get_attribute("dir")
    page.locator("#id_number").fill(typed)
    submit_main_form(page, r"/register/code/$")
    page.locator("#id_code").fill(code_sent_to(line.msisdn))
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.screenshot(path=artifact_path(f"identity-{language}-1-code.png"), full_page=True)
    submit_main_form(page, r"/home/$")

    # Then they are on their home page with their number
    expect(page.get_by_test_id("home-number")).to_have_text(format_international(line.msisdn))
    page.screenshot(path=artifact_path(f"identity-{language}-2-home.png"), full_page=True)

    # When they log out and log back in with the number and the password
    with page.expect_navigation(url=re.compile(r"/login/$")):
        page.locator("form[action='/logout/'] button").click()
    page.locator("#id_login").fill(line.msisdn)
    page.locator("#id_password").fill(PASSWORD)
    page.screenshot(path=artifact_path(f"identity-{language}-3-login.png"), full_page=True)
    submit_main_form(page, r"/home/$")

    # Then they are home again (same browser: no second step), in their language, with no page errors
    expect(page.get_by_test_id("home-number")).to_have_text(format_international(line.msisdn))
    page.screenshot(path=artifact_path(f"identity-{language}-4-home-again.png"), full_page=True)
    assert (lang, direction) == (("fa", "rtl") if language == "fa" else ("en", "ltr"))
    assert User.objects.get(msisdn=line.msisdn).password.startswith("argon2$argon2id$")
    assert [m for m in console_messages if m.startswith(("error:", "pageerror:"))] == []
