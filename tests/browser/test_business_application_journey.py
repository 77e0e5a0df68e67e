"""A company applies on a phone with three numbers and their PUK codes, staff approve the application in
the back office as postpaid with a credit limit, and the contact person follows the SMS invitation,
sets a password and lands signed in; then, with 97 more lines on the account, the admin uploads a CSV
of the 100 numbers on the bulk page to connect a service, confirms, and reads the per-line report —
with no page error (CSP violations included)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from pytest_django.live_server_helper import LiveServer

from selfcare.companies.models import Application, BulkItem, BulkRequest, Company, Membership
from selfcare.documents.models import Document
from selfcare.documents.services import issue_month_documents, previous_month
from selfcare.identity.models import User
from selfcare.identity.throttles import get_limiter
from selfcare.ledger.queries import get_balance_minor
from selfcare.lines.models import Line, ServiceAssignment
from selfcare.notifications.services import list_recent_console_messages
from tests.browser.conftest import DESKTOP, PHONE, artifact_path
from tests.factories import make_line, make_region, make_service

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_PASSWORD = "staff passphrase for the back office"
PASSWORD = "a passphrase for the company admin"
CONTACT = "+79161234567"
LINK = re.compile(r"https?://\S+(/business/invitations/[^/\s]+/)")


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


def test_apply_approve_accept_bulk_connect_from_a_csv_and_download_the_invoice(
    browser: Browser,
    live_server: LiveServer,
    fresh_limits: None,
    console_messages: list[str],
    settings,
    tmp_path,
) -> None:
    # Given three lines with PUK codes, a region, and a member of staff
    settings.SELFCARE_NEW_DEVICE_CONFIRMATION = False
    make_region(code="moscow", name={"en": "Moscow"})
    lines = [make_line(puk=puk) for puk in ("12345678", "23456789", "34567890")]
    pairs = list(zip(lines, ("12345678", "23456789", "34567890"), strict=True))
    User.objects.create_superuser("operator", password=STAFF_PASSWORD)
    phone = new_page(browser, console_messages, PHONE)

    # When the company fills in the application from the business page, asking for a fourth row too
    phone.goto(f"{live_server.url}/business/")
    click_and_wait(phone, "main a[href='/business/apply/'] >> nth=0", r"/business/apply/$")
    phone.locator("#id_region").select_option(label="Moscow")
    phone.locator("#id_company_name").fill("Romashka LLC")
    phone.locator("#id_tax_id").fill("7707083893")
    phone.locator("#id_legal_address").fill("Moscow, Tverskaya 1")
    phone.locator("#id_contact_name").fill("Anna Smirnova")
    phone.locator("#id_contact_phone").fill("8 916 123-45-67")
    phone.locator("#id_contact_email").fill("anna@romashka.example")
    for index, (line, puk) in enumerate(pairs):
        phone.locator(f"#id_numbers-{index}-number").fill(line.msisdn)
        phone.locator(f"#id_numbers-{index}-puk").fill(puk)
    click_and_wait(phone, "button[name=more_rows]", r"/business/apply/$")
    expect(phone.locator("#id_numbers-5-number")).to_be_visible()
    expect(phone.locator("#id_numbers-2-puk")).to_have_value("34567890")
    phone.locator("#id_accept_terms").check()
    phone.screenshot(path=artifact_path("business-1-application.png"), full_page=True)
    click_and_wait(phone, "[data-testid=send-application]", r"/business/applications/")

    # Then the status page shows the submitted application with its three numbers
    expect(phone.get_by_test_id("status")).to_have_text("Submitted")
    application = Application.objects.get()
    assert application.numbers.count() == 3
    phone.screenshot(path=artifact_path("business-2-status.png"), full_page=True)

    # When staff approve it in the back office as postpaid with a credit limit of 50 000
    desk_messages: list[str] = []
    desk = new_page(browser, desk_messages, DESKTOP)
    desk.goto(f"{live_server.url}/backoffice/login/")
    desk.locator("#id_username").fill("operator")
    desk.locator("#id_password").fill(STAFF_PASSWORD)
    click_and_wait(desk, "input[type=submit]", r"/backoffice/$")
    desk.goto(f"{live_server.url}/backoffice/companies/application/?status__exact=submitted")
    click_and_wait(desk, "#result_list a:text('Review')", r"/review/$")
    desk.locator("input[name=decision][value=approve]").check()
    desk.locator("#id_account_kind").select_option("postpaid")
    desk.locator("#id_credit_limit").fill("50000")
    desk.screenshot(path=artifact_path("business-3-review.png"), full_page=True)
    click_and_wait(desk, "input[type=submit]", r"/change/$")

    # Then the company owns the three lines, and the status page says approved
    company = Company.objects.get()
    assert (company.account.kind, company.account.credit_limit_minor) == ("postpaid", 5_000_000)
    assert set(Line.objects.filter(account=company.account).values_list("pk", flat=True)) == {
        line.pk for line in lines
    }
    phone.reload()
    expect(phone.get_by_test_id("status")).to_have_text("Approved")

    # When the contact opens the link from the invitation SMS and sets a password
    texts = [m.text for m in list_recent_console_messages(50) if m.msisdn == CONTACT]
    links = [match.group(1) for text in texts if (match := LINK.search(text))]
    assert len(links) == 1
    phone.goto(f"{live_server.url}{links[0]}")
    expect(phone.locator("h1")).to_have_text("Join Romashka LLC")
    phone.locator("#id_password1").fill(PASSWORD)
    phone.locator("#id_password2").fill(PASSWORD)
    phone.screenshot(path=artifact_path("business-4-invitation.png"), full_page=True)
    click_and_wait(phone, "[data-testid=invitation-form] button[type=submit]", r"/business/\d+/$")

    # Then they are the company's signed-in administrator, and no page had an error
    user = User.objects.get(msisdn=CONTACT)
    assert list(Membership.objects.values_list("company_id", "user_id", "role")) == [
        (company.pk, user.pk, "admin")
    ]
    assert user.check_password(PASSWORD)

    # Given 97 more lines on the company's account and a service with a connect fee of 10.00
    tariff = lines[0].tariff
    for _ in range(97):
        make_line(account=company.account, tariff=tariff)
    numbers = list(
        Line.objects.filter(account=company.account).order_by("msisdn").values_list("msisdn", flat=True)
    )
    assert len(numbers) == 100
    option = make_service(code="roaming", name={"en": "Roaming"}, connect_fee_minor=1_000)
    balance_before = get_balance_minor(company.account.ledger_account_id)
    # ...and a CSV of the 100 numbers as people type them (a header, national and international forms)
    csv_file = tmp_path / "numbers.csv"
    rows = ["number;name"] + [(f"8{n[2:]};x" if index % 2 else f"{n};x") for index, n in enumerate(numbers)]
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")

    # When the admin opens the bulk page from the nav, uploads the CSV to connect the service, previews
    click_and_wait(phone, "nav.cabinet-nav a:text('Bulk changes')", r"/bulk/$")
    phone.locator("#id_action").select_option("connect_service")
    phone.locator("#id_service").select_option(label="Roaming")
    phone.locator("#id_numbers_file").set_input_files(str(csv_file))
    click_and_wait(phone, "[data-testid=bulk-form] button[type=submit]", r"/bulk/$")

    # Then the preview lists the 100 lines at 10.00 each, 1,000.00 in all, which the account covers
    expect(phone.locator("[data-testid=bulk-preview-table] tbody tr")).to_have_count(100)
    expect(
        phone.locator("[data-testid=bulk-preview-table] tr[data-allowed='1'][data-cost='1000']")
    ).to_have_count(100)
    expect(phone.get_by_test_id("bulk-total")).to_have_attribute("data-total", "100000")
    expect(phone.get_by_test_id("bulk-total")).to_have_attribute("data-covered", "1")
    phone.screenshot(path=artifact_path("business-5-bulk-preview.png"), full_page=True)

    # When they confirm
    click_and_wait(phone, "[data-testid=bulk-confirm] button[name=confirm]", r"/bulk/\d+/$")

    # Then the report says each of the 100 lines got the service for 10.00, and so does the ledger
    expect(phone.get_by_test_id("bulk-progress")).to_have_attribute("data-status", "done")
    report = phone.locator("[data-testid=bulk-report] tbody tr")
    expect(report).to_have_count(100)
    reported = [
        (
            row.get_attribute("data-msisdn"),
            row.get_attribute("data-status"),
            row.get_attribute("data-charged"),
        )
        for row in report.all()
    ]
    assert sorted(reported) == [(n, "succeeded", "1000") for n in numbers]
    request = BulkRequest.objects.get()
    assert (request.status, request.total, request.succeeded, request.failed, request.charged_minor) == (
        "done",
        100,
        100,
        0,
        100_000,
    )
    assert BulkItem.objects.filter(request=request, status="succeeded").count() == 100
    assert ServiceAssignment.objects.filter(service=option, line__account=company.account).count() == 100
    assert get_balance_minor(company.account.ledger_account_id) == balance_before - 100_000
    phone.screenshot(path=artifact_path("business-6-bulk-report.png"), full_page=True)
    click_and_wait(phone, "nav.cabinet-nav a:text('Request history')", r"/bulk/history/$")
    expect(phone.locator(f"[data-testid=bulk-history] tr[data-request='{request.pk}']")).to_have_attribute(
        "data-status", "done"
    )

    # When the month closes (the month-close job issues the closed month's invoice and act) and the
    # admin opens the company's documents from the nav and downloads the invoice
    issue_month_documents(company, month=previous_month(), actor="system:month-close")
    click_and_wait(phone, "nav.cabinet-nav a:text('Documents')", rf"/business/documents/{company.pk}/$")
    invoice_row = phone.locator("[data-testid=document-row][data-kind=invoice]")
    expect(invoice_row).to_have_attribute("data-status", "ready")
    with phone.expect_download() as download_info:
        invoice_row.get_by_role("link").click()
    saved = tmp_path / "invoice.pdf"
    download_info.value.save_as(saved)

    # Then it is the company's invoice as a PDF: its number and the company's name are in its text
    invoice = Document.objects.get(company=company, kind="invoice")
    text = "\n".join(page.extract_text() for page in PdfReader(str(saved)).pages)
    assert saved.read_bytes().startswith(b"%PDF")
    assert invoice.number in text
    assert company.name in text
    phone.screenshot(path=artifact_path("business-7-documents.png"), full_page=True)
    assert [m for m in console_messages if m.startswith(("error:", "pageerror:"))] == []
    assert [m for m in desk_messages if m.startswith("pageerror:")] == []
