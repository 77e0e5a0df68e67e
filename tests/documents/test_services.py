"""The month close and reconciliation statements, with a frozen clock and a March of known charges on
a company with three lines (tests/documents/conftest.py): what is issued, how it is numbered, what
its PDF says, and that it agrees with the ledger."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.test import TestCase

from selfcare.documents import services
from selfcare.documents.errors import InvalidPeriod, MonthNotClosed
from selfcare.documents.figures import vat_part
from selfcare.documents.models import Document, NumberCounter
from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.ledger.models import Posting
from selfcare.ledger.queries import get_balance_minor
from tests.documents.conftest import at, make_company, pdf_text

pytestmark = pytest.mark.django_db

MONTH_CLOSE = at("2026-04-01T06:40:00")
MARCH_LINES = [
    {"category": "subscription", "amount_minor": 135_000},  # three monthly fees of 450.00
    {"category": "services", "amount_minor": 29_800},  # a connection fee 99.00 and a service fee 199.00
    {"category": "calls", "amount_minor": 925},
    {"category": "sms", "amount_minor": 500},
    {"category": "data", "amount_minor": 4_542},
    {"category": "other", "amount_minor": 5_000},
]
MARCH_TOTAL = 175_767
# 1757.67 * 20 / 120 = 292.945: rounded half up to 292.95.
MARCH_VAT = 29_295


def close(moment=MONTH_CLOSE) -> int:
    with clock.frozen(moment), TestCase.captureOnCommitCallbacks(execute=True):
        return services.close_month()


def test_the_month_close_issues_the_invoice_and_the_act_once(firm, documents_dir):
    # Given a company with three lines and a March of charges
    # When the month-close job runs on April 1st, and again
    issued_first = close()
    issued_again = close(at("2026-04-02T06:40:00"))

    # Then the invoice and the act of March exist once, numbered first of their kind in 2026
    assert (issued_first, issued_again) == (2, 0)
    documents = list(Document.objects.order_by("kind"))
    assert [(d.kind, d.number, d.period_start, d.period_end, d.status) for d in documents] == [
        ("act", "ACT-2026-00001", date(2026, 3, 1), date(2026, 3, 31), "ready"),
        ("invoice", "INV-2026-00001", date(2026, 3, 1), date(2026, 3, 31), "ready"),
    ]
    # with March's charges by category, VAT included
    for document in documents:
        assert document.figures["lines"] == MARCH_LINES
        assert (document.total_minor, document.vat_minor, document.vat_rate_percent) == (
            MARCH_TOTAL,
            MARCH_VAT,
            20,
        )
        assert document.ordered_by == "system:documents"
    # and one issue audit row each
    assert AuditEvent.objects.filter(action__startswith="document.issue").count() == 2


def test_the_invoice_total_is_what_the_ledger_charged_the_account_in_march(firm):
    # Given March's postings on the company's account
    account = firm.company.account.ledger_account_id
    charged = -sum(
        p.amount_minor
        for p in Posting.objects.filter(
            account_id=account,
            amount_minor__lt=0,
            created_at__gte=at("2026-03-01T00:00:00"),
            created_at__lt=at("2026-04-01T00:00:00"),
        )
    )

    # When the month closes
    close()

    # Then the invoice is exactly that money
    assert Document.objects.get(kind="invoice").total_minor == charged == MARCH_TOTAL


def test_the_invoice_pdf_has_the_details_lines_totals_and_vat(firm, documents_dir):
    # When the month closes
    close()

    # Then the invoice's PDF says who, what, how much and the VAT part, exactly
    invoice = Document.objects.get(kind="invoice")
    text = pdf_text(documents_dir / invoice.file_name)
    for expected in (
        "Invoice",
        "Number INV-2026-00001",
        "Date 2026-03-31",
        "Period 2026-03-01 - 2026-03-31",
        "Selfcare Mobile LLC",
        "Tax id 7707083893",
        "Romashka LLC",
        "Tax id 7736207543",
        f"Account number {firm.company.account.number}",
        "Amount, RUB",
        "Subscription fees 1350.00",
        "Services 298.00",
        "Calls 9.25",
        "SMS 5.00",
        "Mobile internet 45.42",
        "Other charges 50.00",
        "Amount to pay 1757.67",
        "including VAT 20% 292.95",
    ):
        assert expected in text, expected
    # and the act, the same figures with the statement of services rendered
    act_text = pdf_text(documents_dir / Document.objects.get(kind="act").file_name)
    assert "Act of services rendered" in act_text
    assert "Total 1757.67" in act_text
    assert "including VAT 20% 292.95" in act_text


def test_numbers_are_sequential_per_kind_and_year_across_companies(firm):
    # Given two more companies without charges
    with clock.frozen(at("2026-02-01T09:00:00")):
        make_company(name="Vasilek LLC", tax_id="7707083893", email="a@vasilek.example")
        make_company(name="Lyutik LLC", tax_id="7702070139", email="a@lyutik.example")

    # When March closes, then February is issued late
    close()
    with clock.frozen(MONTH_CLOSE), TestCase.captureOnCommitCallbacks(execute=True):
        issued = services.close_month(month=date(2026, 2, 1))

    # Then invoices are numbered 1..6 without a gap, in the order they were issued
    assert issued == 6
    assert list(Document.objects.filter(kind="invoice").order_by("pk").values_list("number", flat=True)) == [
        f"INV-2026-{n:05d}" for n in range(1, 7)
    ]
    assert list(Document.objects.filter(kind="act").order_by("pk").values_list("sequence", flat=True)) == [
        1, 2, 3, 4, 5, 6,
    ]  # fmt: skip
    assert list(NumberCounter.objects.order_by("kind").values_list("kind", "year", "last")) == [
        ("act", 2026, 6),
        ("invoice", 2026, 6),
    ]
    # and the companies without charges get documents of zero
    assert sorted(Document.objects.filter(kind="invoice").values_list("total_minor", flat=True)) == [
        0, 0, 0, 0, 30_000, MARCH_TOTAL,
    ]  # fmt: skip


def test_a_month_that_is_not_over_is_refused(firm):
    # When March's documents are asked for on March 31st
    with clock.frozen(at("2026-03-31T23:00:00")), pytest.raises(MonthNotClosed):
        services.issue_month_documents(firm.company, month=date(2026, 3, 1), actor="test")

    # Then nothing is issued and no number is used
    assert Document.objects.count() == 0
    assert list(NumberCounter.objects.values_list("last", flat=True)) == []


def test_the_month_close_tells_the_company_by_e_mail_with_a_link_never_the_file(firm):
    # When the month closes
    close()

    # Then the company's contact gets one e-mail per document, a link to the cabinet, no attachment
    assert sorted(m.subject for m in mail.outbox) == [
        "Selfcare Mobile: Act of services rendered ACT-2026-00001 is ready",
        "Selfcare Mobile: Invoice INV-2026-00001 is ready",
    ]
    for message in mail.outbox:
        assert message.to == ["office@romashka.example"]
        assert message.attachments == []
        assert f"http://testserver/business/documents/{firm.company.pk}/" in message.body
        assert ".pdf" not in message.body


def test_a_reconciliation_statement_agrees_with_the_ledger(firm, documents_dir):
    # Given the company's postings around March
    account = firm.company.account.ledger_account_id
    postings = Posting.objects.filter(account_id=account)
    opening = postings.filter(created_at__lt=at("2026-03-01T00:00:00")).order_by("-created_at", "-id").first()
    closing = postings.filter(created_at__lt=at("2026-04-01T00:00:00")).order_by("-created_at", "-id").first()

    # When the accountant orders a reconciliation statement of March on April 2nd
    accountant = firm.people["accountant"]
    with clock.frozen(at("2026-04-02T10:00:00")), TestCase.captureOnCommitCallbacks(execute=True):
        document = services.order_reconciliation(
            firm.company, start=date(2026, 3, 1), end=date(2026, 3, 31), actor="user:1", user=accountant
        )
    document.refresh_from_db()

    # Then its balances are the ledger's running balances at both ends
    figures = document.figures
    assert (
        (figures["opening_minor"], figures["closing_minor"])
        == (
            opening.balance_after_minor,
            closing.balance_after_minor,
        )
        == (170_000, 144_233)
    )
    # and every movement of March is there, by day and category, adding up
    assert figures["movements"] == [
        {"day": "2026-03-01", "category": "subscription", "debit_minor": 135_000, "credit_minor": 0},
        {"day": "2026-03-05", "category": "services", "debit_minor": 29_800, "credit_minor": 0},
        {"day": "2026-03-10", "category": "usage", "debit_minor": 4_318, "credit_minor": 0},
        {"day": "2026-03-20", "category": "other", "debit_minor": 5_000, "credit_minor": 0},
        {"day": "2026-03-20", "category": "payments", "debit_minor": 0, "credit_minor": 150_000},
        {"day": "2026-03-28", "category": "usage", "debit_minor": 1_649, "credit_minor": 0},
    ]
    assert (figures["debit_minor"], figures["credit_minor"]) == (MARCH_TOTAL, 150_000)
    assert (
        figures["opening_minor"] - figures["debit_minor"] + figures["credit_minor"]
        == figures["closing_minor"]
    )
    # and the PDF says so
    assert (document.kind, document.number, document.status) == ("reconciliation", "REC-2026-00001", "ready")
    text = pdf_text(documents_dir / document.file_name)
    for expected in (
        "Reconciliation statement",
        "Opening balance 1700.00",
        "2026-03-10 Calls, SMS and data 43.18",
        "2026-03-20 Payments 1500.00",
        "Turnover for the period 1757.67 1500.00",
        "Closing balance 1442.33",
    ):
        assert expected in text, expected
    # and the accountant was told by e-mail, with a link
    assert [m.to for m in mail.outbox] == [[accountant.email]]
    assert mail.outbox[0].attachments == []


def test_a_reconciliation_statement_can_be_ordered_twice_and_gets_two_numbers(firm):
    with clock.frozen(at("2026-04-02T10:00:00")), TestCase.captureOnCommitCallbacks(execute=True):
        first = services.order_reconciliation(
            firm.company, start=date(2026, 1, 1), end=date(2026, 4, 2), actor="t"
        )
        second = services.order_reconciliation(
            firm.company, start=date(2026, 1, 1), end=date(2026, 4, 2), actor="t"
        )
    assert (first.number, second.number) == ("REC-2026-00001", "REC-2026-00002")
    # From the start of the year up to now: everything, so the closing balance is today's balance
    first.refresh_from_db()
    assert first.figures["opening_minor"] == 0
    assert (
        first.figures["closing_minor"] == get_balance_minor(firm.company.account.ledger_account_id) == 99_233
    )


def test_a_reconciliation_period_in_the_future_or_reversed_is_refused(firm):
    with clock.frozen(at("2026-04-02T10:00:00")):
        with pytest.raises(InvalidPeriod):
            services.order_reconciliation(
                firm.company, start=date(2026, 4, 1), end=date(2026, 4, 3), actor="t"
            )
        with pytest.raises(InvalidPeriod):
            services.order_reconciliation(
                firm.company, start=date(2026, 3, 2), end=date(2026, 3, 1), actor="t"
            )
    assert Document.objects.count() == 0


def test_persian_documents_keep_numbers_left_to_right(zones, documents_dir):
    # Given a company whose language is Persian, charged 1234.56 in March
    from tests.documents.conftest import build_march
    from tests.documents.conftest import make_company as new_company
    from tests.usage.factories import make_payg_tariff

    with clock.frozen(at("2026-02-01T09:00:00")):
        made = new_company(language="fa", tariff=make_payg_tariff(zones))
    build_march(made)

    # When March closes
    close()

    # Then the invoice is in Persian and its numbers read left to right
    invoice = Document.objects.get(kind="invoice")
    assert invoice.language == "fa"
    text = pdf_text(documents_dir / invoice.file_name)
    for number in ("INV-2026-00001", "2026-03-31", "1350.00", "1757.67", "292.95", "7736207543"):
        assert number in text, number


def test_reissue_draws_the_same_document_again(firm, documents_dir):
    # Given March's invoice, its file lost
    close()
    invoice = Document.objects.get(kind="invoice")
    before = pdf_text(documents_dir / invoice.file_name)
    (documents_dir / invoice.file_name).unlink()

    # When staff re-issue it
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.reissue_document(invoice, actor="staff:1")

    # Then the file is back with the same number and text, and nobody is e-mailed again
    invoice.refresh_from_db()
    assert (invoice.number, invoice.status) == ("INV-2026-00001", "ready")
    assert pdf_text(documents_dir / invoice.file_name) == before
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action="document.reissue", actor="staff:1").count() == 1


@pytest.mark.parametrize(
    ("total", "rate", "vat"),
    [
        (175_767, 20, 29_295),  # 29294.5: half up
        (100_000, 20, 16_667),  # 16666.67
        (12, 20, 2),  # 2.0
        (5, 20, 1),  # 0.83
        (2, 20, 0),  # 0.33
        (11_000, 10, 1_000),
        (100_000, 0, 0),
        (0, 20, 0),
        (-100_000, 20, -16_667),  # a credit note rounds the same way, away from zero
    ],
)
def test_the_vat_part_is_rounded_half_up_in_minor_units(total, rate, vat):
    assert vat_part(total, rate) == vat
