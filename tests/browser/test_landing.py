"""Journeys on the public pages in a real browser: language switcher, right-to-left Persian, CSP."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import DESKTOP, PHONE, artifact_path

# Playwright's sync API runs an event loop in this thread; Django must still serve the live server.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]


def html_lang_and_dir(page: Page) -> tuple[str | None, str | None]:
    html = page.locator("html")
    return html.get_attribute("lang"), html.get_attribute("dir")


def csp_violations(console_messages: list[str]) -> list[str]:
    return [message for message in console_messages if "Content Security Policy" in message]


def errors(console_messages: list[str]) -> list[str]:
    """Every error the page logged: refused resources, missing files (404), script exceptions."""
    return [message for message in console_messages if message.startswith(("error:", "pageerror:"))]


def switch_language(page: Page, *, label: str, language: str, button: str) -> None:
    page.get_by_label(label, exact=True).select_option(language)
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def loaded_vazirmatn_faces(page: Page) -> int:
    return int(
        page.evaluate(
            "document.fonts.ready.then(() => [...document.fonts].filter(face =>"
            " face.family.replaceAll('\"', '') === 'Vazirmatn' && face.status === 'loaded').length)"
        )
    )


def brand_is_on_the_right(page: Page, viewport: dict[str, int]) -> bool:
    box = page.locator(".brand").bounding_box()
    assert box is not None
    return box["x"] > viewport["width"] / 2


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_switching_language_on_the_landing_page(
    page: Page, console_messages: list[str], live_server: LiveServer, viewport: dict[str, int]
) -> None:
    size = f"{viewport['width']}x{viewport['height']}"
    page.set_viewport_size(viewport)

    # given the landing page in English
    page.goto(f"{live_server.url}/")
    assert html_lang_and_dir(page) == ("en", "ltr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your line, in your pocket")
    expect(page.get_by_role("link", name="Log in", exact=True)).to_have_attribute("href", "/login/")
    assert page.evaluate("typeof htmx === 'object' && htmx.config.includeIndicatorStyles === false")
    assert not brand_is_on_the_right(page, viewport)
    page.screenshot(path=artifact_path(f"landing-{size}-en.png"), full_page=True)

    # when the visitor picks Russian in the switcher
    switch_language(page, label="Language", language="ru", button="Change")

    # then the page is Russian, left to right, with Russian calls to action
    assert html_lang_and_dir(page) == ("ru", "ltr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ваш номер — у вас в кармане")  # noqa: RUF001
    expect(page.get_by_role("link", name="Я новый пользователь")).to_be_visible()
    page.screenshot(path=artifact_path(f"landing-{size}-ru.png"), full_page=True)

    # when they pick Persian (the switcher now speaks Russian)
    switch_language(page, label="Язык", language="fa", button="Сменить")

    # then the page is Persian, right to left, set in Vazirmatn
    assert html_lang_and_dir(page) == ("fa", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("خط شما، در جیب شما")
    expect(page.get_by_role("link", name="ورود", exact=True)).to_be_visible()
    assert loaded_vazirmatn_faces(page) >= 1
    # right-to-left layout: the operator's name now starts the header on the right-hand side
    assert brand_is_on_the_right(page, viewport)
    page.screenshot(path=artifact_path(f"landing-{size}-fa.png"), full_page=True)

    # and nothing on the way was refused by the Content-Security-Policy
    assert csp_violations(console_messages) == []
    assert errors(console_messages) == []
    assert page.evaluate("document.querySelectorAll('style').length") == 0


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_business_page_in_persian(
    page: Page, console_messages: list[str], live_server: LiveServer, viewport: dict[str, int]
) -> None:
    size = f"{viewport['width']}x{viewport['height']}"
    page.set_viewport_size(viewport)

    # given a visitor who chose Persian on the landing page
    page.goto(f"{live_server.url}/")
    switch_language(page, label="Language", language="fa", button="Change")

    # when they follow the navigation to the business page
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="کسب‌وکارها", exact=True).click()

    # then the business page is Persian too, with the application one click away
    assert page.url == f"{live_server.url}/business/"
    assert html_lang_and_dir(page) == ("fa", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("خطوط همراه برای شرکت شما")
    apply = page.get_by_role("link", name="ثبت درخواست").first
    expect(apply).to_have_attribute("href", "/business/apply/")
    page.screenshot(path=artifact_path(f"business-{size}-fa.png"), full_page=True)
    assert csp_violations(console_messages) == []
    assert errors(console_messages) == []


def test_keyboard_user_can_skip_to_content_and_sees_focus(page: Page, live_server: LiveServer) -> None:
    page.set_viewport_size(PHONE)

    # given the landing page on a phone
    page.goto(f"{live_server.url}/")

    # when a keyboard user presses Tab once
    page.keyboard.press("Tab")

    # then the skip link has focus, is on screen and has a visible outline
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to main content")
    box = focused.bounding_box()
    assert box is not None
    assert box["y"] >= 0
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

    # when they follow it
    page.keyboard.press("Enter")

    # then the next Tab lands on the first call to action, not back in the header
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Log in")
