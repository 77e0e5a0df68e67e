"""A subscriber's day in the cabinet, in Chromium, in English, Russian and Persian: log in; the home
page shows the balance, the buckets and the fees the database holds; change the tariff through its
preview; connect and disconnect a service; block a caller from the recent calls and unblock them; and
find every ledger line of the journey explained in the history.

The full journey runs once per language on a phone (390x844); the home page is checked once per
language on a desktop (1280x800). Screenshots of each step go to test-artifacts/browser/cabinet/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from selfcare.billing import changes
from selfcare.catalog.models import Tariff
from selfcare.identity.throttles import get_limiter
from selfcare.kit import clock
from selfcare.kit.money import format_money
from selfcare.kit.phone import format_international
from selfcare.ledger.models import Posting
from selfcare.ledger.queries import get_balance_minor
from selfcare.lines.models import BlackListEntry, ServiceAssignment
from selfcare.usage.queries import list_line_buckets
from tests.browser.conftest import DESKTOP, PHONE, artifact_path
from tests.cabinet.factories import make_black_list_service, make_subscriber, rate, usage
from tests.factories import make_service
from tests.usage.factories import make_bundle_tariff, make_numbering

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a cabinet journey passphrase"
CALLER = "+79165550001"
LOCALES = {"en": "en-US", "ru": "ru-RU", "fa": "fa-IR"}
NAMES = {
    "smart-s": {"en": "Smart S", "ru": "Смарт S", "fa": "اسمارت S"},
    "smart-m": {"en": "Smart M", "ru": "Смарт M", "fa": "اسمارت M"},
    "caller-id": {"en": "Caller ID", "ru": "Определитель номера", "fa": "نمایش شماره"},
}


def shot(name: str) -> str:
    return str(artifact_path(f"cabinet/{name}.png"))


def money(amount_minor: int, language: str) -> str:
    return format_money(amount_minor, settings.SELFCARE_CURRENCY, language)


@pytest.fixture
def fresh_limits() -> Iterator[None]:
    get_limiter().reset()
    cache.clear()
    yield
    get_limiter().reset()


@pytest.fixture
def operator(db: Any, settings: Any) -> dict[str, Any]:
    """Two bundle tariffs, a daily Caller ID with a connection fee and the Black list."""
    settings.SELFCARE_NEW_DEVICE_CONFIRMATION = False
    zones = make_numbering()
    smart_s = make_bundle_tariff(zones)
    smart_m = make_bundle_tariff(zones, voice_s=800 * 60, sms=300)
    for tariff, code, fee in ((smart_s, "smart-s", 45_000), (smart_m, "smart-m", 75_000)):
        Tariff.objects.filter(pk=tariff.pk).update(code=code, name=NAMES[code], fee_minor=fee)
    caller_id = make_service(
        code="caller-id", name=NAMES["caller-id"], fee_minor=200, fee_period="daily", connect_fee_minor=1_000
    )
    make_black_list_service()
    return {"zones": zones, "smart_s": Tariff.objects.get(code="smart-s"), "caller_id": caller_id}


def subscriber(operator: dict[str, Any], language: str) -> Any:
    """A line on Smart S with 1,500.00 paid in and this month's fee charged, a call abroad (charged)
    and a call from CALLER (free) an hour ago."""
    user, line = make_subscriber(
        operator["zones"],
        tariff=operator["smart_s"],
        balance_minor=150_000,
        language=language,
        name={"en": "Emily Clarke", "ru": "Анна Смирнова", "fa": "سارا احمدی"}[language],
    )
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    now = clock.now()
    rate(
        usage(
            line.msisdn, "voice_out", now - timedelta(hours=2), counterparty="+442079460000", duration_s=125
        ),
        usage(line.msisdn, "voice_in", now - timedelta(hours=1), counterparty=CALLER, duration_s=40),
    )
    return line


def open_page(browser: Browser, language: str, viewport: dict[str, int], console: list[str]) -> Page:
    context = browser.new_context(viewport=viewport, locale=LOCALES[language])
    page = context.new_page()
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    return page


def log_in(page: Page, live_server: LiveServer, line: Any) -> None:
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_login").fill(line.msisdn)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation(url=re.compile(r"/home/$")):
        page.locator("main form button[type=submit]").click()


def assert_home_matches_the_database(page: Page, line: Any, language: str) -> None:
    expected_direction = "rtl" if language == "fa" else "ltr"
    assert page.locator("html").get_attribute("dir") == expected_direction
    assert page.locator("html").get_attribute("lang") == language
    expect(page.get_by_test_id("home-number")).to_have_text(format_international(line.msisdn))
    balance = get_balance_minor(line.account.ledger_account_id)
    assert page.get_by_test_id("balance").text_content() == money(balance, language)
    # Numbers keep their left-to-right order inside Persian text.
    assert page.get_by_test_id("balance").evaluate("node => node.tagName") == "BDI"
    shown = [
        (item.get_attribute("data-kind"), int(item.get_attribute("data-remaining") or -1))
        for item in page.get_by_test_id("bucket").all()
    ]
    assert shown == [(b.usage_kind, b.remaining) for b in list_line_buckets(line.pk)]
    assert shown, "the bundle tariff has buckets"
    line.refresh_from_db()
    assert money(line.tariff.fee_minor, language) in (page.get_by_test_id("tariff-fee").text_content() or "")


def assert_fits_the_screen(page: Page) -> None:
    """Nothing sticks out sideways: the page is no wider than the viewport, in every language."""
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    culprits = page.evaluate(
        """() => {
            const out = el => el.getBoundingClientRect().right > window.innerWidth + 0.5;
            return [...document.querySelectorAll('body *')]
                .filter(el => out(el) && ![...el.children].some(out))
                .slice(0, 5)
                .map(el => el.tagName + '.' + el.className + ' ' + (el.textContent || '').slice(0, 40));
        }"""
    )
    assert overflow <= 0, f"{page.url} is {overflow} px wider than the screen: {culprits}"


def journey_postings(line: Any, since_id: int) -> list[int]:
    return list(
        Posting.objects.filter(account_id=line.account.ledger_account_id, id__gt=since_id)
        .order_by("id")
        .values_list("transaction_id", flat=True)
    )


@pytest.mark.parametrize("language", ["en", "ru", "fa"])
def test_cabinet_journey_on_a_phone(
    language: str,
    browser: Browser,
    live_server: LiveServer,
    operator: dict[str, Any],
    fresh_limits: None,
    console_messages: list[str],
) -> None:
    line = subscriber(operator, language)
    page = open_page(browser, language, PHONE, console_messages)
    step = f"{language}-phone"

    # When the subscriber logs in, then the home page shows what the database holds
    log_in(page, live_server, line)
    assert_home_matches_the_database(page, line, language)
    page.screenshot(path=shot(f"{step}-1-home"), full_page=True)
    assert_fits_the_screen(page)
    first_posting = 0

    # When they compare tariffs and choose Smart M, then the preview shows what it costs
    page.goto(f"{live_server.url}/tariff/")
    page.screenshot(path=shot(f"{step}-2-tariffs"), full_page=True)
    assert_fits_the_screen(page)
    smart_m = Tariff.objects.get(code="smart-m")
    expected = changes.preview_tariff_change(line, tariff=smart_m)
    page.locator("[data-testid=choose-tariff][href='/tariff/smart-m/']").click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_be_visible()
    assert preview.get_attribute("data-allowed") == "true"
    assert page.get_by_test_id("fee-today").text_content() == money(expected.fee_today_minor, language)
    assert page.get_by_test_id("change-fee").text_content() == money(expected.change_fee_minor, language)
    assert page.get_by_test_id("balance-after").text_content() == money(
        expected.balance_after_minor, language
    )
    page.screenshot(path=shot(f"{step}-3-tariff-preview"), full_page=True)
    assert_fits_the_screen(page)

    # When they confirm, then the tariff is Smart M and the balance is what the preview said
    with page.expect_navigation(url=re.compile(r"/tariff/$")):
        page.get_by_test_id("confirm").click()
    line.refresh_from_db()
    assert line.tariff_id == smart_m.pk
    assert get_balance_minor(line.account.ledger_account_id) == expected.balance_after_minor
    expect(page.locator(".message-success")).to_be_visible()
    page.screenshot(path=shot(f"{step}-4-tariff-changed"), full_page=True)
    assert_fits_the_screen(page)

    # When they connect Caller ID through its preview, then it is connected
    caller_id = operator["caller_id"]
    page.goto(f"{live_server.url}/services/")
    page.locator("[data-code=caller-id] [data-testid=service-action]").click()
    expect(page.get_by_test_id("preview")).to_be_visible()
    page.screenshot(path=shot(f"{step}-5-service-preview"), full_page=True)
    assert_fits_the_screen(page)
    with page.expect_navigation(url=re.compile(r"/services/$")):
        page.get_by_test_id("confirm").click()
    assert ServiceAssignment.objects.filter(
        line=line, service=caller_id, disconnected_at__isnull=True
    ).exists()
    expect(page.locator("[data-code=caller-id]")).to_have_attribute("data-connected", "true")

    # When they disconnect it the same way, then it is off
    page.locator("[data-code=caller-id] [data-testid=service-action]").click()
    expect(page.get_by_test_id("preview")).to_be_visible()
    with page.expect_navigation(url=re.compile(r"/services/$")):
        page.get_by_test_id("confirm").click()
    assert not ServiceAssignment.objects.filter(
        line=line, service=caller_id, disconnected_at__isnull=True
    ).exists()
    page.screenshot(path=shot(f"{step}-6-service-disconnected"), full_page=True)
    assert_fits_the_screen(page)

    # When they block the caller from the recent calls in the history, with a note
    page.goto(f"{live_server.url}/history/")
    page.locator(f"[data-testid=recent-call][data-number='{CALLER}'] a.block-caller").click()
    expect(page.get_by_test_id("preview")).to_be_visible()
    page.locator("#id_note").fill("spam")
    page.screenshot(path=shot(f"{step}-7-block-preview"), full_page=True)
    assert_fits_the_screen(page)
    with page.expect_navigation(url=re.compile(r"/black-list/$")):
        page.get_by_test_id("confirm").click()

    # Then the number is on the black list with its note
    entry = BlackListEntry.objects.get(line=line)
    assert (entry.msisdn, entry.note) == (CALLER, "spam")
    expect(page.locator(f"[data-testid=black-list-entry][data-number='{CALLER}']")).to_be_visible()
    page.screenshot(path=shot(f"{step}-8-blocked"), full_page=True)
    assert_fits_the_screen(page)

    # When they remove it (htmx swaps the list), then the list is empty
    page.locator(f"[data-testid=black-list-entry][data-number='{CALLER}'] [data-testid=remove-entry]").click()
    expect(page.get_by_test_id("black-list-empty")).to_be_visible()
    assert not BlackListEntry.objects.filter(line=line).exists()

    # Then every ledger line of the account, the journey's included, is explained in the history
    page.goto(f"{live_server.url}/history/")
    rows = page.get_by_test_id("history-row")
    shown = {int(rows.nth(i).get_attribute("data-transaction") or 0) for i in range(rows.count())}
    posted = journey_postings(line, first_posting)
    assert set(posted) == shown
    assert len(posted) >= 8  # top-up, fee, call, tariff fee, connection, service fee, list fee, entry
    for i in range(rows.count()):
        title = rows.nth(i).get_by_test_id("history-title").text_content() or ""
        kind = rows.nth(i).get_attribute("data-kind") or ""
        assert title.strip(), kind
        assert "_" not in title, f"{kind}: {title!r} is a code, not words"
    page.screenshot(path=shot(f"{step}-9-history"), full_page=True)
    assert_fits_the_screen(page)

    # And the home page still agrees with the database, and nothing broke in the browser
    page.goto(f"{live_server.url}/home/")
    assert_home_matches_the_database(page, line, language)
    page.screenshot(path=shot(f"{step}-10-home-after"), full_page=True)
    assert_fits_the_screen(page)
    assert [m for m in console_messages if m.startswith(("error:", "pageerror:"))] == []
    page.context.close()


def test_cabinet_home_on_a_desktop_in_every_language(
    browser: Browser,
    live_server: LiveServer,
    operator: dict[str, Any],
    fresh_limits: None,
    console_messages: list[str],
) -> None:
    for language in ("en", "ru", "fa"):
        line = subscriber(operator, language)
        page = open_page(browser, language, DESKTOP, console_messages)
        log_in(page, live_server, line)
        assert_home_matches_the_database(page, line, language)
        page.screenshot(path=shot(f"{language}-desktop-home"), full_page=True)
        assert_fits_the_screen(page)
        page.goto(f"{live_server.url}/spending/")
        expect(page.get_by_test_id("daily-chart")).to_be_visible()
        page.screenshot(path=shot(f"{language}-desktop-spending"), full_page=True)
        assert_fits_the_screen(page)
        page.context.close()
    assert [m for m in console_messages if m.startswith(("error:", "pageerror:"))] == []
