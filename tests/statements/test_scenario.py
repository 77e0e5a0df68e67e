"""A subscriber's March, ordered as call detail in each format through the pages, with a frozen clock.

The line has calls, SMS and data drawn from the tariff's allowances and priced beyond them, a roaming
call, a monthly fee and two top-ups. Each document is downloaded through its signed link, parsed
(CSV with csv, XLSX with openpyxl, PDF with pypdf) and checked line by line against the database:
every event, the totals per category and the balances of the ledger. The Persian PDF is rendered to
PNG into var/test-artifacts/ for people to look at.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest
from django.conf import settings

from selfcare.identity.models import AuditEvent
from selfcare.kit.money import format_money
from selfcare.ledger import services as ledger
from selfcare.ledger.models import Posting
from selfcare.statements.models import StatementOrder
from selfcare.statements.renderers.pdf import ROWS_PER_PAGE
from selfcare.usage import services as usage
from selfcare.usage.models import UsageRecord
from tests.factories import TEST_ACTOR, fund, make_line, make_system_account
from tests.scenarios.conftest import at
from tests.statements.conftest import ARTIFACTS, make_subscriber, order_through_pages, web_for
from tests.usage.factories import MB, make_bundle_tariff
from tests.usage.factories import usage as record

pytestmark = pytest.mark.django_db

MOSCOW = ZoneInfo("Europe/Moscow")
OFF_NET = "+79161234567"
LANDLINE = "+74951234567"
GERMANY = "+4930123456"
SINCE = at("2026-03-01T00:00:00")
UNTIL = at("2026-03-21T00:00:00")


def build_month(zones: dict[str, Any], story: Any) -> tuple[Any, Any]:
    with story("2026-03-01T09:00:00"):
        tariff = make_bundle_tariff(zones, voice_s=300, sms=2, data_bytes=50 * MB)
        line = make_line(tariff=tariff, msisdn="+79001112233")
        user, line = make_subscriber(line, email="ivan@example.com")
        fund(line.account.ledger_account, 50_000)
        usage.grant_buckets(line)
    with story("2026-03-02T21:00:00"):
        usage.rate_batch(
            [
                record(line.msisdn, "voice_out", at("2026-03-02T10:00:00"), record_id="c1", duration_s=170,
                       counterparty=OFF_NET),
                record(line.msisdn, "voice_in", at("2026-03-02T11:00:00"), record_id="c2", duration_s=65,
                       counterparty=LANDLINE),
                record(line.msisdn, "sms_out", at("2026-03-02T12:00:00"), record_id="s1",
                       counterparty=OFF_NET),
                record(line.msisdn, "data", at("2026-03-02T13:00:00"), record_id="d1", volume_bytes=20 * MB),
            ]
        )  # fmt: skip
    with story("2026-03-10T09:00:00"):
        # A monthly fee (an "other charge"), as billing posts it.
        revenue = make_system_account()
        ledger.post_transaction(
            "tariff_fee",
            legs=[ledger.Leg(line.account.ledger_account_id, -45_000), ledger.Leg(revenue.pk, 45_000)],
            idempotency_key="fee-march",
            actor=TEST_ACTOR,
        )
        fund(line.account.ledger_account, 30_000)
    with story("2026-03-14T23:00:00"):
        usage.rate_batch(
            [
                record(line.msisdn, "voice_out", at("2026-03-14T08:15:30"), record_id="c3", duration_s=200,
                       counterparty=LANDLINE),
                record(line.msisdn, "sms_out", at("2026-03-14T09:00:00"), record_id="s2",
                       counterparty=OFF_NET),
                record(line.msisdn, "sms_out", at("2026-03-14T09:01:00"), record_id="s3",
                       counterparty=OFF_NET),
                record(line.msisdn, "voice_out", at("2026-03-14T20:00:00"), record_id="c4", duration_s=61,
                       counterparty=GERMANY, roaming_zone="roam-europe"),
                record(line.msisdn, "data", at("2026-03-14T22:00:00"), record_id="d2", volume_bytes=40 * MB),
            ]
        )  # fmt: skip
    with story("2026-03-25T10:00:00"):
        # After the period: neither listed nor counted.
        usage.rate_batch([record(line.msisdn, "sms_out", at("2026-03-25T09:00:00"), record_id="s9",
                                 counterparty=OFF_NET)])  # fmt: skip
    return user, line


def expected_events(line: Any) -> list[UsageRecord]:
    return list(
        UsageRecord.objects.filter(
            line=line, status="accepted", started_at__gte=SINCE, started_at__lt=UNTIL
        ).order_by("started_at", "id")
    )


def local(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%Y-%m-%d %H:%M:%S")


def ledger_truth(line: Any) -> dict[str, Any]:
    postings = Posting.objects.filter(account_id=line.account.ledger_account_id)
    before = postings.filter(created_at__lt=SINCE).order_by("-created_at", "-id").first()
    last = postings.filter(created_at__lt=UNTIL).order_by("-created_at", "-id").first()
    by_kind: dict[str, int] = defaultdict(int)
    for posting in postings.filter(created_at__gte=SINCE, created_at__lt=UNTIL).select_related("transaction"):
        by_kind[posting.transaction.kind] += posting.amount_minor
    return {
        "opening": before.balance_after_minor if before else 0,
        "closing": last.balance_after_minor if last else 0,
        "by_kind": dict(by_kind),
    }


def fetch(client: Any, order: StatementOrder) -> bytes:
    page = client.get(f"/statements/{order.public_id}/")
    link = page.context["link"]
    response = client.get(link.path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"].split(", ")
    assert response["Content-Disposition"].startswith("attachment;")
    return b"".join(response.streaming_content)


def place(client: Any, user: Any, fmt: str, story: Any, language: str = "en") -> StatementOrder:
    with story("2026-03-20T18:00:00"):
        response = order_through_pages(client, user, format=fmt, token=f"{fmt}-{language}")
    assert response.status_code == 302, response.content.decode()[:2000]
    order = StatementOrder.objects.get(idempotency_key=f"user:{user.pk}:{fmt}-{language}")
    assert (order.status, order.format, order.language) == ("ready", fmt, language)
    return order


@pytest.fixture
def month(zones: Any, story: Any) -> tuple[Any, Any]:
    return build_month(zones, story)


def test_csv_lists_every_event_and_reconciles_with_the_ledger(month, story):
    # Given a subscriber's March with usage, a fee and top-ups
    user, line = month
    client = web_for(user)
    # When they order the CSV for 1-20 March and download it
    with story("2026-03-20T18:00:00"):
        order = place(client, user, "csv", story)
        body = fetch(client, order)
    # Then it is UTF-8 with a BOM, and every event is there, in order, exactly as stored
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    events = [row for row in rows if row["section"] == "event"]
    usage_events = [row for row in events if row["category"] != "other"]
    truth = expected_events(line)
    assert len(truth) == 9
    assert [
        (r["date_time"], r["type"], r["number"], int(r["duration_s"]), int(r["volume_bytes"]), r["amount"])
        for r in usage_events
    ] == [
        (
            local(t.started_at),
            t.kind,
            t.counterparty,
            t.duration_s,
            t.volume_bytes,
            f"{t.price_minor / 100:.2f}",
        )
        for t in truth
    ]
    assert [r["roaming_zone"] for r in usage_events if r["roaming_zone"]] == ["Roaming Europe"]
    # the fee is an "other charge" on the day it was taken
    assert [(r["date_time"], r["type"], r["amount"]) for r in events if r["category"] == "other"] == [
        ("2026-03-10 09:00:00", "tariff_fee", "450.00")
    ]
    # and the totals per category are the sums of the database's records
    totals = {row["category"]: row for row in rows if row["section"] == "total"}
    for category, kinds in {
        "calls": ("voice_out", "voice_in"),
        "sms": ("sms_out", "sms_in"),
        "data": ("data",),
    }.items():
        mine = [t for t in truth if t.kind in kinds]
        assert int(totals[category]["count"]) == len(mine)
        assert int(totals[category]["duration_s"]) == sum(t.duration_s for t in mine)
        assert int(totals[category]["volume_bytes"]) == sum(t.volume_bytes for t in mine)
        assert totals[category]["amount"] == f"{sum(t.price_minor for t in mine) / 100:.2f}"
    assert (totals["other"]["count"], totals["other"]["amount"]) == ("1", "450.00")
    # and the money section is the ledger's: opening + movements = closing
    ledger_ = ledger_truth(line)
    money = {row["type"]: row["amount"] for row in rows if row["section"] == "money"}
    assert money["opening_balance"] == f"{ledger_['opening'] / 100:.2f}"
    assert money["closing_balance"] == f"{ledger_['closing'] / 100:.2f}"
    assert money["topup"] == f"{ledger_['by_kind']['topup'] / 100:.2f}" == "800.00"
    assert money["usage"] == f"{ledger_['by_kind']['usage'] / 100:.2f}"
    assert money["tariff_fee"] == "-450.00"
    moved = sum(
        round(float(v) * 100) for k, v in money.items() if k not in ("opening_balance", "closing_balance")
    )
    assert ledger_["opening"] + moved == ledger_["closing"]
    # and the header names the line and the period
    header = {row["type"]: row["description"] for row in rows if row["section"] == "statement"}
    assert (header["number"], header["period_start"], header["period_end"]) == (
        "+79001112233",
        "2026-03-01",
        "2026-03-20",
    )


def test_xlsx_has_a_sheet_per_category_with_real_numbers(month, story):
    # Given the same month
    user, line = month
    client = web_for(user)
    # When the XLSX is ordered and downloaded
    with story("2026-03-20T18:00:00"):
        order = place(client, user, "xlsx", story)
        body = fetch(client, order)
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    # Then there is a summary and one sheet per category
    assert workbook.sheetnames == ["Call detail", "Calls", "SMS", "Mobile internet", "Other charges"]
    truth = expected_events(line)

    def rows(sheet: str) -> list[tuple[Any, ...]]:
        return list(workbook[sheet].iter_rows(min_row=2, values_only=True))

    calls = [t for t in truth if t.kind.startswith("voice")]
    assert [(r[0], r[2], r[3], r[4], round(r[7] * 100)) for r in rows("Calls")] == [
        (
            t.started_at.astimezone(MOSCOW).replace(tzinfo=None),
            t.counterparty,
            timedelta(seconds=t.duration_s),
            "Roaming Europe" if t.roaming_zone_id else None,
            t.price_minor,
        )
        for t in calls
    ]
    data = [t for t in truth if t.kind == "data"]
    assert [(r[3] * MB, round(r[7] * 100)) for r in rows("Mobile internet")] == [
        (t.volume_bytes, t.price_minor) for t in data
    ]
    assert len(rows("SMS")) == len([t for t in truth if t.kind.startswith("sms")])
    assert [(r[1], round(r[2] * 100)) for r in rows("Other charges")] == [("Tariff fee", 45_000)]
    # and the summary's totals and balances are the database's
    summary = {row[0]: row[1:] for row in workbook["Call detail"].iter_rows(values_only=True) if row[0]}
    ledger_ = ledger_truth(line)
    assert round(summary["Opening balance"][0] * 100) == ledger_["opening"]
    assert round(summary["Closing balance"][0] * 100) == ledger_["closing"]
    assert summary["Calls"][0] == len(calls)
    assert round(summary["Calls"][4] * 100) == sum(t.price_minor for t in calls)
    assert workbook["Calls"].sheet_view.rightToLeft is not True


def pdf_text(body: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages]


def test_pdf_lists_events_with_page_numbers_and_the_ledger_balances(month, story):
    # Given the same month
    user, line = month
    client = web_for(user)
    # When the PDF is ordered and downloaded
    with story("2026-03-20T18:00:00"):
        order = place(client, user, "pdf", story)
        body = fetch(client, order)
    pages = pdf_text(body)
    # Then a summary page and one page of events, each numbered "of 2"
    assert len(pages) == 2
    assert "Page 1 of 2" in pages[0]
    assert "Page 2 of 2" in pages[1]
    # and the summary has the header, the totals and the ledger's balances
    ledger_ = ledger_truth(line)
    summary = pages[0]
    for text in ("Call detail", "+79001112233", "2026-03-01 — 2026-03-20",
                 format_money(ledger_["opening"], "RUB", "en"), format_money(ledger_["closing"], "RUB", "en"),
                 format_money(45_000 * -1, "RUB", "en")):  # fmt: skip
        assert text in summary, text
    truth = expected_events(line)
    calls_total = sum(t.price_minor for t in truth if t.kind.startswith("voice"))
    assert f"{calls_total / 100:.2f}" in summary
    # and the events page lists every event in order, with its time, number and price
    lines = pages[1].splitlines()
    found = [ln for ln in lines if ln[:4] == "2026"]
    assert len(found) == len(truth) + 1  # and the fee
    usage_lines = [ln for ln in found if "Tariff fee" not in ln]
    for text, event in zip(usage_lines, truth, strict=True):
        assert text.startswith(local(event.started_at)), (text, event)
        assert text.endswith(f"{event.price_minor / 100:.2f}"), (text, event)
        if event.counterparty:
            assert event.counterparty in text
    assert any("Tariff fee" in ln and ln.endswith("450.00") for ln in found)


def test_persian_pdf_is_right_to_left_and_rendered_for_people(month, story):
    # Given the same month and a subscriber reading in Persian
    user, line = month
    client = web_for(user, language="fa")
    # When the PDF is ordered in Persian
    with story("2026-03-20T18:00:00"):
        order = place(client, user, "pdf", story, language="fa")
        body = fetch(client, order)
    # Then the numbers and times stay readable left to right inside the Persian pages
    pages = pdf_text(body)
    assert len(pages) == 2
    truth = expected_events(line)
    for event in truth:
        assert local(event.started_at) in pages[1]
    assert "+79001112233" in pages[0]
    # and people can look at it: both pages as PNG in the test artifacts
    import pypdfium2

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(body)
    for index in range(len(document)):
        image = document[index].render(scale=2).to_pil()
        image.save(ARTIFACTS / f"statement-fa-page-{index + 1}.png")
        assert image.size[0] > 1000
    document.close()


def test_audit_records_order_generation_and_download_without_contents(month, story):
    user, _line = month
    client = web_for(user)
    with story("2026-03-20T18:00:00"):
        order = place(client, user, "csv", story)
        fetch(client, order)
    actions = list(
        AuditEvent.objects.filter(subject_type="statement_order", subject_id=str(order.public_id))
        .order_by("id")
        .values_list("action", "outcome")
    )
    assert actions == [("statement.order", "ok"), ("statement.generate", "ok"), ("statement.download", "ok")]
    generated = AuditEvent.objects.get(action="statement.generate", subject_id=str(order.public_id))
    assert set(generated.after) == {"format", "events", "size_bytes"}
    assert "+79161234567" not in str(list(AuditEvent.objects.values_list("after", flat=True)))


def test_page_count_follows_the_number_of_events():
    assert ROWS_PER_PAGE == 62
    assert datetime(2026, 1, 1, tzinfo=UTC)  # the module under test imports cleanly
    from selfcare.statements.renderers.pdf import page_count

    assert [page_count(n) for n in (0, 1, 62, 63, 124, 125)] == [1, 2, 2, 3, 3, 4]
    assert settings.SELFCARE_STATEMENT_RETENTION_DAYS == 7


def test_persian_xlsx_sheets_run_right_to_left(month, story):
    user, _line = month
    client = web_for(user, language="fa")
    with story("2026-03-20T18:00:00"):
        order = place(client, user, "xlsx", story, language="fa")
        body = fetch(client, order)
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    assert workbook.sheetnames[0] == "ریز مکالمات"
    assert all(sheet.sheet_view.rightToLeft for sheet in workbook.worksheets)
