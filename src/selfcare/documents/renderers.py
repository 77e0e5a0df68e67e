"""The PDF of a company document, drawn from its stored figures (fpdf2, selfcare.kit.pdf's fonts).

Texts go through `cell()` (shaping, bidi, fallback fonts); values that are ASCII (numbers, dates,
amounts, tax ids) are written with plain `text()`, so they read left to right inside Persian pages
(DESIGN.md §5.8), the way the call-detail PDF writes them. Amounts are plain "1234.50" with the
currency in the column heading: exact, and the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from fpdf import FPDF

from selfcare.kit.money import minor_digits
from selfcare.kit.pdf import INVISIBLE, plain_amount, register_fonts

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 15.0
ROW_H = 6.0
BOTTOM = PAGE_H - MARGIN - 10


@dataclass(frozen=True)
class Words:
    """Every fixed text of a document, translated once (call inside translation.override)."""

    titles: dict[str, str]
    number: str
    date: str
    period: str
    operator: str
    customer: str
    tax_id: str
    address: str
    bank: str
    account: str
    category: str
    amount: str
    total: str
    vat: str
    no_vat: str
    to_pay: str
    act_statement: str
    opening: str
    closing: str
    day: str
    charges: str
    payments: str
    period_totals: str
    no_movements: str
    page_of: str
    categories: dict[str, str]


def words() -> Words:
    return Words(
        titles={
            "invoice": _("Invoice"),
            "act": _("Act of services rendered"),
            "reconciliation": _("Reconciliation statement"),
        },
        number=_("Number"),
        date=_("Date"),
        period=_("Period"),
        operator=_("Operator"),
        customer=pgettext("party to a document", "Customer"),
        tax_id=_("Tax id"),
        address=_("Address"),
        bank=_("Payment details"),
        account=_("Account number"),
        category=_("Category"),
        amount=_("Amount"),
        total=_("Total"),
        vat=_("including VAT %(rate)s%%"),
        no_vat=_("VAT not charged"),
        to_pay=_("Amount to pay"),
        act_statement=_(
            "The operator rendered the services above in full and on time; the customer has no claims "
            "on their scope, quality or timing."
        ),
        opening=_("Opening balance"),
        closing=_("Closing balance"),
        day=_("Day"),
        charges=_("Charged"),
        payments=_("Paid"),
        period_totals=_("Turnover for the period"),
        no_movements=_("No movements in this period."),
        page_of=_("Page %(page)s of %(pages)s"),
        categories={
            "subscription": _("Subscription fees"),
            "services": _("Services"),
            "calls": _("Calls"),
            "sms": _("SMS"),
            "data": _("Mobile internet"),
            "other": _("Other charges"),
            "usage": _("Calls, SMS and data"),
            "payments": _("Payments"),
            "other_credits": _("Other credits"),
        },
    )


class _Pdf(FPDF):
    def __init__(self, rtl: bool, words: Words) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.rtl = rtl
        self.words = words
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)
        self.set_creator("selfcare")
        self.family = register_fonts(self, rtl=rtl)
        self.set_font(self.family, size=9)
        self.alias_nb_pages("{nb}")

    def footer(self) -> None:
        self.set_font(self.family, "", 7)
        self.set_xy(MARGIN, PAGE_H - MARGIN - 4)
        text = self.words.page_of % {"page": self.page_no(), "pages": "{nb}"}
        self.cell(PAGE_W - 2 * MARGIN, 4, text, align="C")

    # Columns are given in reading order as (start offset, width) from the start margin; right to left
    # pages mirror them.
    def x_of(self, offset: float, width: float) -> float:
        return PAGE_W - MARGIN - offset - width if self.rtl else MARGIN + offset

    def words_at(
        self, offset: float, width: float, y: float, text: str, *, bold: bool = False, end: bool = False
    ) -> None:
        """A text of the document's language at the start (or `end`) of its column (shaped, bidi)."""
        self.set_font(self.family, "B" if bold else "", self.font_size_pt)
        self.set_xy(self.x_of(offset, width), y)
        self.cell(width, ROW_H, text.translate(INVISIBLE), align="R" if end != self.rtl else "L")

    def value_at(self, offset: float, width: float, y: float, text: str, *, end: bool = False) -> None:
        """A value: ASCII ones read left to right whatever the page direction (plain text()); `end`
        puts it at the column's end (amounts), otherwise at its start."""
        text = text.translate(INVISIBLE)
        if not text:
            return
        if not text.isascii():
            self.set_xy(self.x_of(offset, width), y)
            at_end = end != self.rtl
            self.cell(width, ROW_H, text, align="R" if at_end else "L")
            return
        x = self.x_of(offset, width)
        text_w = self.get_string_width(text)
        to_the_right = end != self.rtl
        left = x + width - 1.0 - text_w if to_the_right else x + 1.0
        self.text(left, y + 0.5 * ROW_H + 0.3 * self.font_size, text)


def _header(pdf: _Pdf, document: Any, doc_date: date) -> float:
    w = pdf.words
    figures = document.figures
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 14)
    pdf.words_at(0, 180, MARGIN, w.titles[document.kind], bold=True)
    y = MARGIN + 10
    pdf.set_font(pdf.family, "", 9)
    period = f"{document.period_start:%Y-%m-%d} - {document.period_end:%Y-%m-%d}"
    for label, value in ((w.number, document.number), (w.date, f"{doc_date:%Y-%m-%d}"), (w.period, period)):
        pdf.words_at(0, 40, y, label, bold=True)
        pdf.set_font(pdf.family, "", 9)
        pdf.value_at(40, 140, y, value)
        y += ROW_H
    y += 3
    for title, party, with_bank in (
        (w.operator, figures["operator"], True),
        (w.customer, figures["company"], False),
    ):
        pdf.set_font(pdf.family, "B", 10)
        pdf.words_at(0, 180, y, title, bold=True)
        y += ROW_H
        pdf.set_font(pdf.family, "", 9)
        pdf.words_at(0, 180, y, party["name"])
        y += ROW_H
        rows = [(w.tax_id, party["tax_id"], True), (w.address, party["address"], False)]
        if with_bank and party.get("bank"):
            rows.append((w.bank, party["bank"], False))
        if not with_bank:
            rows.append((w.account, party["account"], True))
        for label, value, plain in rows:
            pdf.words_at(0, 40, y, label)
            if plain:
                pdf.value_at(40, 140, y, value)
            else:
                pdf.words_at(40, 140, y, value)
            y += ROW_H
        y += 2
    return y + 3


def _charges_page(pdf: _Pdf, document: Any, y: float) -> None:
    w = pdf.words
    figures = document.figures
    amount = _amounts(document)
    pdf.set_draw_color(120)
    pdf.set_font(pdf.family, "B", 9)
    pdf.words_at(0, 130, y, w.category, bold=True)
    pdf.words_at(130, 50, y, f"{w.amount}, {document.currency}", bold=True, end=True)
    y += ROW_H
    pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
    pdf.set_font(pdf.family, "", 9)
    for line in figures["lines"]:
        pdf.words_at(0, 130, y, w.categories[line["category"]])
        pdf.value_at(130, 50, y, amount(line["amount_minor"]), end=True)
        y += ROW_H
    pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
    pdf.set_font(pdf.family, "B", 10)
    pdf.words_at(0, 130, y, w.to_pay if document.kind == "invoice" else w.total, bold=True)
    pdf.value_at(130, 50, y, amount(figures["total_minor"]), end=True)
    y += ROW_H
    pdf.set_font(pdf.family, "", 9)
    rate = figures["vat_rate_percent"]
    if rate:
        pdf.words_at(0, 130, y, w.vat % {"rate": rate})
        pdf.value_at(130, 50, y, amount(figures["vat_minor"]), end=True)
    else:
        pdf.words_at(0, 130, y, w.no_vat)
    y += ROW_H + 6
    if document.kind == "act":
        pdf.set_xy(MARGIN, y)
        pdf.multi_cell(PAGE_W - 2 * MARGIN, 5, w.act_statement, align="R" if pdf.rtl else "L")


def _reconciliation_pages(pdf: _Pdf, document: Any, y: float) -> None:
    w = pdf.words
    figures = document.figures
    amount = _amounts(document)
    pdf.set_draw_color(120)

    def heading(y: float) -> float:
        pdf.set_font(pdf.family, "B", 9)
        pdf.words_at(0, 30, y, w.day, bold=True)
        pdf.words_at(30, 70, y, w.category, bold=True)
        pdf.words_at(100, 40, y, f"{w.charges}, {document.currency}", bold=True, end=True)
        pdf.words_at(140, 40, y, f"{w.payments}, {document.currency}", bold=True, end=True)
        y += ROW_H
        pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
        pdf.set_font(pdf.family, "", 9)
        return y

    pdf.set_font(pdf.family, "B", 10)
    pdf.words_at(0, 100, y, w.opening, bold=True)
    pdf.value_at(100, 80, y, amount(figures["opening_minor"]), end=True)
    y = heading(y + ROW_H + 2)
    for movement in figures["movements"]:
        if y > BOTTOM - ROW_H:
            pdf.add_page()
            y = heading(MARGIN)
        pdf.value_at(0, 30, y, movement["day"])
        pdf.words_at(30, 70, y, w.categories.get(movement["category"], movement["category"]))
        if movement["debit_minor"]:
            pdf.value_at(100, 40, y, amount(movement["debit_minor"]), end=True)
        if movement["credit_minor"]:
            pdf.value_at(140, 40, y, amount(movement["credit_minor"]), end=True)
        y += ROW_H
    if not figures["movements"]:
        pdf.words_at(0, 180, y, w.no_movements)
        y += ROW_H
    if y > BOTTOM - 3 * ROW_H:
        pdf.add_page()
        y = MARGIN
    pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
    pdf.set_font(pdf.family, "B", 9)
    pdf.words_at(0, 100, y, w.period_totals, bold=True)
    pdf.value_at(100, 40, y, amount(figures["debit_minor"]), end=True)
    pdf.value_at(140, 40, y, amount(figures["credit_minor"]), end=True)
    y += ROW_H + 2
    pdf.set_font(pdf.family, "B", 10)
    pdf.words_at(0, 100, y, w.closing, bold=True)
    pdf.value_at(100, 80, y, amount(figures["closing_minor"]), end=True)


def _amounts(document: Any) -> Any:
    digits = minor_digits(document.currency)
    return lambda amount_minor: plain_amount(int(amount_minor), digits)


def document_date(document: Any) -> date:
    """Invoices and acts are dated the last day of their month; a reconciliation the day it was made."""
    if document.kind == "reconciliation":
        local: date = document.created_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
        return local
    end: date = document.period_end
    return end


def render_document(document: Any, path: Path) -> None:
    """Write the document's PDF to `path`, in the document's language."""
    with translation.override(document.language):
        rtl = bool(translation.get_language_info(document.language)["bidi"])
        pdf = _Pdf(rtl, words())
        pdf.set_title(f"{pdf.words.titles[document.kind]} {document.number}")
        y = _header(pdf, document, document_date(document))
        if document.kind == "reconciliation":
            _reconciliation_pages(pdf, document, y)
        else:
            _charges_page(pdf, document, y)
        pdf.output(str(path))
