"""Help and profile in Chromium on a phone (390 x 844): a subscriber reads the FAQ and sends a support
request, staff answer it in the back office, the subscriber sees the answer and its status (and got the
SMS); then the subscriber blocks their number from the profile with the confirm step and unblocks it."""

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
from selfcare.lines.models import Line
from selfcare.notifications.services import list_recent_console_messages
from selfcare.support.models import SupportRequest
from tests.browser.conftest import DESKTOP, PHONE, artifact_path
from tests.factories import make_line
from tests.support.factories import make_faq

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a demo passphrase for the journey"
STAFF_PASSWORD = "staff passphrase for the back office"


@pytest.fixture
def fresh_limits() -> Iterator[None]:
    get_limiter().reset()
    cache.clear()
    yield
    get_limiter().reset()


def new_page(browser: Browser, console_messages: list[str], viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, locale="en-US")
    opened = context.new_page()
    opened.on("console", lambda message: console_messages.append(f"{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: console_messages.append(f"pageerror: {error}"))
    return opened


def click_and_wait(page: Page, locator: str, url_part: str) -> None:
    with page.expect_navigation(url=re.compile(url_part)):
        page.locator(locator).click()


def sms_to(msisdn: str) -> list[str]:
    return [message.text for message in list_recent_console_messages(50) if message.msisdn == msisdn]


def test_support_request_answered_in_the_back_office_and_own_number_blocked_and_unblocked(
    browser: Browser, live_server: LiveServer, fresh_limits: None, console_messages: list[str], settings
) -> None:
    # Given a registered subscriber, an FAQ entry, and a member of staff
    settings.SELFCARE_NEW_DEVICE_CONFIRMATION = False
    settings.SELFCARE_HELP_NUMBER = "636"
    line = make_line()
    user = User.objects.create_user(
        username=line.msisdn, msisdn=line.msisdn, language="en", password=PASSWORD
    )
    make_faq({"en": "How do I top up my balance?"}, {"en": "Open Top up and pay by card."})
    User.objects.create_superuser("operator", password=STAFF_PASSWORD)
    phone = new_page(browser, console_messages, PHONE)

    # When the subscriber signs in and opens Help
    phone.goto(f"{live_server.url}/login/")
    phone.locator("#id_login").fill(line.msisdn)
    phone.locator("#id_password").fill(PASSWORD)
    click_and_wait(phone, "main form button[type=submit]", r"/home/$")
    phone.goto(f"{live_server.url}/help/")

    # Then they see the help number and the FAQ
    expect(phone.get_by_test_id("help-number")).to_have_text("636")
    phone.get_by_text("How do I top up my balance?").click()
    expect(phone.get_by_text("Open Top up and pay by card.")).to_be_visible()
    phone.screenshot(path=artifact_path("help-1-faq.png"), full_page=True)

    # When they write to support about their number
    click_and_wait(phone, "[data-testid=write-to-us]", r"/help/requests/new/$")
    phone.locator("#id_subject").fill("Roaming in Turkey")
    phone.locator("#id_message").fill("Does my tariff work in Turkey?")
    phone.locator("#id_line").select_option(line.msisdn)
    phone.screenshot(path=artifact_path("help-2-form.png"), full_page=True)
    click_and_wait(phone, "[data-testid=request-form] button[type=submit]", r"/help/requests/[0-9a-f-]+/$")

    # Then the request is open
    expect(phone.get_by_test_id("request-status")).to_have_text("Open")
    request = SupportRequest.objects.get()
    assert (request.requester_id, request.line_msisdn) == (user.pk, line.msisdn)
    phone.screenshot(path=artifact_path("help-3-sent.png"), full_page=True)

    # When staff sign in to the back office and answer it
    # (Django's admin pages link no favicon, so the browser's own /favicon.ico request is a 404 there:
    # the back office's console is kept apart and only checked for script errors.)
    desk_messages: list[str] = []
    desk = new_page(browser, desk_messages, DESKTOP)
    desk.goto(f"{live_server.url}/backoffice/login/")
    desk.locator("#id_username").fill("operator")
    desk.locator("#id_password").fill(STAFF_PASSWORD)
    click_and_wait(desk, "input[type=submit]", r"/backoffice/$")
    desk.goto(f"{live_server.url}/backoffice/support/supportrequest/")
    click_and_wait(desk, "#result_list tbody th a >> nth=0", r"/change/$")
    expect(desk.get_by_text("Does my tariff work in Turkey?")).to_be_visible()
    desk.locator("#id_answer").fill("Yes: Turkey is in roaming zone 2.")
    desk.screenshot(path=artifact_path("help-4-backoffice.png"), full_page=True)
    click_and_wait(desk, "input[name=_save]", r"/supportrequest/$")

    # Then the subscriber sees the answer and the status, and got an SMS about it
    phone.reload()
    expect(phone.get_by_test_id("request-status")).to_have_text("Answered")
    expect(phone.get_by_test_id("request-answer")).to_contain_text("Yes: Turkey is in roaming zone 2.")
    assert any("we have answered your request" in text for text in sms_to(line.msisdn))
    phone.screenshot(path=artifact_path("help-5-answered.png"), full_page=True)

    # When they block their own number from the profile, through the confirm step
    phone.goto(f"{live_server.url}/profile/")
    click_and_wait(phone, "[data-testid=block-line]", r"/profile/block/$")
    phone.screenshot(path=artifact_path("help-6-block-confirm.png"), full_page=True)
    phone.locator("#id_confirm").check()
    click_and_wait(phone, "[data-testid=confirm-block]", r"/profile/$")

    # Then the line is blocked at their request, and an SMS says so
    expect(phone.get_by_test_id("line-status")).to_have_text("Blocked at your request")
    assert Line.objects.get(pk=line.pk).status == "blocked_subscriber"
    assert any("blocked at your request" in text for text in sms_to(line.msisdn))
    phone.screenshot(path=artifact_path("help-7-blocked.png"), full_page=True)

    # When they unblock it
    click_and_wait(phone, "[data-testid=unblock-line]", r"/profile/$")

    # Then it is active again, and no page had an error (CSP violations included)
    expect(phone.get_by_test_id("line-status")).to_have_text("Active")
    assert Line.objects.get(pk=line.pk).status == "active"
    phone.screenshot(path=artifact_path("help-8-unblocked.png"), full_page=True)
    assert [m for m in console_messages if m.startswith(("error:", "pageerror:"))] == []
    assert [m for m in desk_messages if m.startswith("pageerror:")] == []
