"""A company admin's visit to the corporate cabinet in Chromium on a phone, in English and Persian:
sign in with the phone and password and land on the company home, find an employee's line, open it,
and invite an accountant. No console errors (the CSP allows no inline script), nothing wider than the
screen. Screenshots of each step go to test-artifacts/browser/companies/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from selfcare.companies.models import Invitation, Role
from selfcare.identity.throttles import get_limiter
from tests.browser.conftest import PHONE, artifact_path
from tests.browser.test_cabinet_journey import assert_fits_the_screen, open_page
from tests.companies.factories import add_line, make_company, make_member
from tests.factories import make_tariff

PASSWORD = "a company journey passphrase"


@pytest.fixture
def fresh_limits() -> Iterator[None]:
    get_limiter().reset()
    cache.clear()
    yield
    get_limiter().reset()


def shot(name: str) -> str:
    path: Path = artifact_path(f"companies/{name}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_company_admin_journey_on_a_phone(
    language: str,
    browser: Browser,
    live_server: LiveServer,
    db: Any,
    settings: Any,
    fresh_limits: None,
    console_messages: list[str],
) -> None:
    # given a company with three lines and its admin (a company user with no line of their own)
    settings.SELFCARE_NEW_DEVICE_CONFIRMATION = False
    tariff = make_tariff(fee_minor=30_000, name={"en": "Business 300", "ru": "Бизнес 300", "fa": "تجاری ۳۰۰"})
    company = make_company(name="Acme LLC")
    lines = [
        add_line(company, tariff=tariff, holder_name=name)
        for name in ("Anna Petrova", "Boris Orlov", "Vera Lis")
    ]
    admin = make_member(company, Role.ADMIN, name="Olga")
    admin.set_password(PASSWORD)
    admin.save()
    page = open_page(browser, language, PHONE, console_messages)
    step = f"{language}-phone"

    # when the admin signs in with their phone and password, then they land on the company home
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_login").fill(admin.msisdn or "")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation(url=re.compile(rf"/business/{company.pk}/$")):
        page.locator("main form button[type=submit]").click()
    expect(page.get_by_test_id("balance")).to_have_attribute("data-amount", "0")
    expect(page.get_by_test_id("credit-limit")).to_have_attribute("data-amount", "100000")
    page.screenshot(path=shot(f"{step}-1-home"), full_page=True)
    assert_fits_the_screen(page)

    # when they search the lines for an employee, then only her line is listed, and it opens
    page.goto(f"{live_server.url}/business/{company.pk}/lines/")
    page.locator("#id_q").fill("Boris")
    page.locator("[data-testid=lines-filter] button[type=submit]").click()
    rows = page.locator("[data-testid=lines-table] tbody tr")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-line") == str(lines[1].pk)
    page.screenshot(path=shot(f"{step}-2-lines"), full_page=True)
    assert_fits_the_screen(page)
    rows.first.locator("a").click()
    expect(page.get_by_test_id("line-status")).to_be_visible()
    page.screenshot(path=shot(f"{step}-3-line"), full_page=True)
    assert_fits_the_screen(page)

    # when they invite an accountant, then the invitation waits for an answer
    page.goto(f"{live_server.url}/business/{company.pk}/members/")
    page.locator("#id_name").fill("Nina")
    page.locator("#id_phone").fill("+7 916 555-44-33")
    page.locator("#id_role").select_option("accountant")
    page.locator("[data-testid=invite-form] button[type=submit]").click()
    expect(page.get_by_test_id("invitations")).to_contain_text("Nina")
    page.screenshot(path=shot(f"{step}-4-members"), full_page=True)
    assert_fits_the_screen(page)
    assert Invitation.objects.get(company=company).role == "accountant"
    assert console_messages == []
