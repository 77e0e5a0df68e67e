"""PDF: fpdf2 with the vendored fonts (DejaVu Sans Condensed for Latin and Cyrillic, Vazirmatn for
Persian, each the other's fallback) and harfbuzz text shaping for Persian, written page by page.

Page by page: fpdf2 keeps every page's content in memory until `output()`, which a million events
(tens of thousands of pages) would turn into gigabytes. `_StatementPdf` moves each finished page's
content stream, compressed, to a spill file, and `_streaming_producer` writes the document straight
to its file, reading each page back only when its turn comes. Both hook fpdf2 where it offers it
(`output(output_producer_class=…)`, the page objects), and the tests read every document back.

Speed: the events table uses fpdf2's plain `text()` for values that are different on every line
(times, numbers, amounts; ASCII, so no shaping or bidi is needed and they keep their left-to-right
order inside right-to-left pages), and "stamps" for the few texts that repeat (event types, package
and zone names): such a text is laid out once by `cell()` (shaping, bidi, fallback fonts), its
content-stream bytes are kept, and later lines replay them moved into place with a translation
matrix (`q 1 0 0 1 dx dy cm … Q`). All pages share one resources dictionary
(`single_resources_object`), so a replayed stamp always finds its font, and tens of thousands of pages
need no dictionary each.

"Page X of Y": the number of pages is known before the first is written (the summary page, then a
fixed number of events per page; every event is one line, texts are cut to their column).
"""

from __future__ import annotations

import hashlib
import math
import tempfile
import zlib
from pathlib import Path
from typing import IO, Any

from django.utils import translation
from fpdf import FPDF
from fpdf.output import OutputProducer, PDFPage
from fpdf.syntax import Name, PDFContentStream, PDFObject

from selfcare.kit.pdf import INVISIBLE, register_fonts
from selfcare.statements.document import Statement, StatementChanged
from selfcare.statements.renderers.base import (
    PROGRESS_EVERY,
    Amounts,
    LocalTimes,
    Progress,
    Words,
    duration_text,
    money_text,
    volume_text,
)

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 10.0
FONT_PT = 7.0
ROW_H = 4.0
TABLE_TOP = 24.0
ROWS_PER_PAGE = 62
# Column widths (mm, 190 in all) in reading order; numbers are right-aligned in their column.
COLUMNS = (
    ("date_time", 28.0),
    ("type", 27.0),
    ("counterparty", 27.0),
    ("measure", 20.0),
    ("zone", 24.0),
    ("bucket", 44.0),
    ("price", 20.0),
)
RIGHT_ALIGNED = {"measure", "price"}
_INVISIBLE = INVISIBLE


def page_count(rows: int) -> int:
    return 1 + math.ceil(rows / ROWS_PER_PAGE)


class _Spill:
    """Finished pages' content streams, compressed, in a temporary file."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="selfcare-pdf-")  # noqa: SIM115 - closed by close()
        self.pages: dict[int, tuple[int, int]] = {}

    def put(self, index: int, contents: bytes | bytearray) -> None:
        data = zlib.compress(contents, 6)
        offset = self.file.seek(0, 2)
        self.file.write(data)
        self.pages[index] = (offset, len(data))

    def get(self, index: int) -> bytes:
        offset, length = self.pages[index]
        self.file.seek(offset)
        return self.file.read(length)

    def close(self) -> None:
        self.file.close()


class _SpilledStream(PDFContentStream):
    """A page's content stream that stays in the spill file until it is written out."""

    def __init__(self, spill: _Spill, index: int) -> None:
        PDFObject.__init__(self)
        self._spill = spill
        self._index = index
        self._contents = b""
        self.filter = Name("FlateDecode")
        self.length = spill.pages[index][1]

    def content_stream(self) -> bytes:
        return self._spill.get(self._index)


class _FileBuffer:
    """What fpdf2's producer appends the document to: here, straight into the file."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.written = 0
        # The document's /ID is a hash of its content (PDF 1.7 §14.4), computed as it is written.
        self.md5 = hashlib.md5(usedforsecurity=False)

    def __len__(self) -> int:
        return self.written

    def __iadd__(self, data: bytes | bytearray) -> _FileBuffer:
        self.target.write(data)
        self.md5.update(data)
        self.written += len(data)
        return self


def _streaming_producer(target: IO[bytes], spill: _Spill) -> type[OutputProducer]:
    class StreamingProducer(OutputProducer):
        def __init__(self, fpdf: FPDF) -> None:
            super().__init__(fpdf)
            file_buffer = _FileBuffer(target)
            self.buffer = file_buffer  # type: ignore[assignment]
            assert isinstance(fpdf, _StatementPdf)
            fpdf.written_hash = file_buffer.md5

        def _add_pages(self, _slice: slice = slice(0, None)) -> list[PDFPage]:
            fpdf = self.fpdf
            page_objs: list[PDFPage] = []
            for index in range(1, fpdf.pages_count + 1):
                page_obj = fpdf.pages[index]
                if page_obj.dimensions() != fpdf.default_page_dimensions:  # pragma: no cover - one size
                    raise ValueError("statements use one page size")
                self._add_pdf_obj(page_obj, "pages")
                page_objs.append(page_obj)
                stream: PDFContentStream
                if index in spill.pages:
                    stream = _SpilledStream(spill, index)
                else:
                    assert isinstance(page_obj.contents, bytearray)
                    stream = PDFContentStream(contents=page_obj.contents, compress=True)
                self._add_pdf_obj(stream, "pages")
                page_obj.contents = stream
            return page_objs

    return StreamingProducer


class _StatementPdf(FPDF):
    def __init__(self, statement: Statement, words: Words, rtl: bool, pages: int) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.statement = statement
        self.words = words
        self.rtl = rtl
        self.pages_planned = pages
        self.spill = _Spill()
        self.single_resources_object = True  # see the module's docstring
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)
        self.set_creator("selfcare")
        self.set_title(f"{words.title} {statement.msisdn}")
        # The vendored fonts, shaping (harfbuzz) and the bidirectional algorithm for every cell
        # (selfcare.kit.pdf); plain text() calls, used only for ASCII, need neither.
        self.family = register_fonts(self, rtl=rtl)
        self.set_font(self.family, size=FONT_PT)
        self._stamps: dict[tuple[str, float, str, str, float], tuple[float, float, bytes]] = {}
        self._char_widths: dict[str, float] = {}
        self.in_table = False
        self.columns = self._column_positions()
        self.written_hash: Any = None

    def file_id(self) -> str:
        digest = self.written_hash.hexdigest().upper() if self.written_hash is not None else "0" * 32
        return f"<{digest}><{digest}>"

    # --- layout -------------------------------------------------------------------------------------

    def _column_positions(self) -> dict[str, tuple[float, float]]:
        """(left x, width) of each column; right to left pages put the first column on the right."""
        positions: dict[str, tuple[float, float]] = {}
        x = PAGE_W - MARGIN if self.rtl else MARGIN
        for key, width in COLUMNS:
            if self.rtl:
                x -= width
                positions[key] = (x, width)
            else:
                positions[key] = (x, width)
                x += width
        return positions

    def _fit(self, text: str, width: float) -> str:
        text = text.translate(_INVISIBLE)
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "…") > width:
            text = text[:-1]
        return text + "…"

    def _char_width(self, char: str) -> float:
        width = self._char_widths.get(char)
        if width is None:
            width = self.get_string_width(char)
            self._char_widths[char] = width
        return width

    # --- text ---------------------------------------------------------------------------------------

    def ltr(self, x: float, y: float, width: float, text: str, align: str = "L") -> None:
        """Plain left-to-right text (ASCII: digits, times, numbers) in a column: fpdf2's text()."""
        if not text:
            return
        if not text.isascii():
            self.stamp(x, y, width, text, align, cache=False)
            return
        char_width = self._char_widths
        try:
            text_w = sum(char_width[c] for c in text)
        except KeyError:
            text_w = sum(self._char_width(c) for c in text)
        to_the_right = align == "R" or (align == "S" and self.rtl)
        left = x + width - 0.8 - text_w if to_the_right else x + 0.8
        self.text(left, y + 0.5 * ROW_H + 0.3 * self.font_size, text)

    def stamp(
        self, x: float, y: float, width: float, text: str, align: str = "S", *, cache: bool = True
    ) -> None:
        """A text laid out by cell() (shaping, bidi, fallback fonts), replayed when it comes again.

        align "S" is the start of the line: left in left-to-right pages, right in right-to-left ones.
        """
        if not text:
            return
        align = ("R" if self.rtl else "L") if align == "S" else align
        key = (text, width, align, self.font_style, self.font_size_pt)
        entry = self._stamps.get(key) if cache else None
        if entry is not None:
            x0, y0, captured = entry
            k = self.k
            self._out(b"q 1 0 0 1 %.2f %.2f cm\n%s\nQ" % ((x - x0) * k, (y0 - y) * k, captured))
            return
        contents = self.pages[self.page].contents
        assert isinstance(contents, bytearray)
        start = len(contents)
        # So the captured bytes select their own font, whatever was selected before.
        self.current_font_is_set_on_page = False
        self.set_xy(x, y)
        self.cell(width, ROW_H, self._fit(text, width - 1.6), align=align)
        if cache and len(self._stamps) < 5_000:
            self._stamps[key] = (x, y, bytes(contents[start:]))
        self.current_font_is_set_on_page = False

    # --- pages --------------------------------------------------------------------------------------

    def add_page(self, *args: Any, **kwargs: Any) -> None:
        finished = self.page
        super().add_page(*args, **kwargs)
        if finished:
            page = self.pages[finished]
            assert isinstance(page.contents, bytearray)
            self.spill.put(finished, page.contents)
            page.contents = bytearray()
        self.current_font_is_set_on_page = False

    def header(self) -> None:
        if not self.in_table:
            return
        words = self.words
        statement = self.statement
        # Title and number at the start of the line, the period at its end.
        start, end = (PAGE_W - MARGIN - 95, MARGIN) if self.rtl else (MARGIN, PAGE_W - MARGIN - 95)
        self.set_font(self.family, "B", 9)
        self.stamp(start, MARGIN, 60 if not self.rtl else 95, words.title)
        self.set_font(self.family, "", 8)
        self.ltr(start + (0 if self.rtl else 60), MARGIN, 35, statement.msisdn, "S" if not self.rtl else "L")
        period = f"{statement.period_start:%Y-%m-%d} — {statement.period_end:%Y-%m-%d}"
        self.ltr(end, MARGIN, 95, period, "R" if not self.rtl else "L")
        self.set_font(self.family, "B", FONT_PT)
        headings = {
            "date_time": words.date_time,
            "type": words.type,
            "counterparty": words.counterparty,
            "measure": words.duration_volume,
            "zone": words.roaming_zone,
            "bucket": words.bucket,
            "price": f"{words.price}, {statement.currency}",
        }
        for key, (x, width) in self.columns.items():
            self.stamp(x, TABLE_TOP - ROW_H - 1.0, width, headings[key], "R" if key in RIGHT_ALIGNED else "S")
        self.set_draw_color(120)
        self.line(MARGIN, TABLE_TOP - 0.6, PAGE_W - MARGIN, TABLE_TOP - 0.6)
        self.set_font(self.family, "", FONT_PT)

    def footer(self) -> None:
        self.set_font(self.family, "", 7)
        self.set_xy(MARGIN, PAGE_H - MARGIN - 4)
        self.current_font_is_set_on_page = False
        text = self.words.page_of % {"page": self.page, "pages": self.pages_planned}
        self.cell(PAGE_W - 2 * MARGIN, 4, text, align="C")
        self.current_font_is_set_on_page = False


def _units(category: str, units: int) -> str:
    """Units drawn from packages, in the category's own unit (seconds, messages, bytes)."""
    if category == "calls":
        return duration_text(units)
    if category == "data":
        return volume_text(units)
    return str(units) if category == "sms" else ""


def _summary_page(pdf: _StatementPdf, statement: Statement, words: Words) -> None:
    amounts = Amounts(statement.currency)
    label_w, value_w = 60.0, 120.0
    start = PAGE_W - MARGIN - label_w if pdf.rtl else MARGIN
    value_x = start - value_w if pdf.rtl else start + label_w
    y = MARGIN
    pdf.set_font(pdf.family, "B", 14)
    pdf.set_xy(MARGIN, y)
    pdf.cell(PAGE_W - 2 * MARGIN, 8, words.title, align="R" if pdf.rtl else "L")
    y += 12
    rows = [
        (words.operator, statement.operator, False),
        (words.number, statement.msisdn, True),
        (words.holder, statement.holder, False),
        (words.account, statement.account_number, True),
        (words.period, f"{statement.period_start:%Y-%m-%d} — {statement.period_end:%Y-%m-%d}", True),
        (words.generated, statement.generated_at.astimezone(statement.tz).strftime("%Y-%m-%d %H:%M"), True),
        (words.currency, statement.currency, True),
    ]
    for label, value, plain in rows:
        pdf.set_font(pdf.family, "B", 8)
        pdf.stamp(start, y, label_w, label, cache=False)
        pdf.set_font(pdf.family, "", 8)
        if plain:
            pdf.ltr(value_x, y, value_w, value, "S")
        else:
            pdf.stamp(value_x, y, value_w, value, cache=False)
        y += 5

    # Totals per category: a small table in reading order.
    y += 5
    pdf.set_font(pdf.family, "B", 10)
    pdf.stamp(MARGIN, y, PAGE_W - 2 * MARGIN, words.totals, "R" if pdf.rtl else "L", cache=False)
    y += 7
    widths = [45.0, 20.0, 28.0, 28.0, 32.0, 37.0]
    xs: list[float] = []
    x = PAGE_W - MARGIN if pdf.rtl else MARGIN
    for width in widths:
        if pdf.rtl:
            x -= width
            xs.append(x)
        else:
            xs.append(x)
            x += width
    pdf.set_font(pdf.family, "B", 8)
    heads = [words.category, words.count, words.duration, words.volume, words.bucket_units, words.price]
    for column, head in enumerate(heads):
        pdf.stamp(xs[column], y, widths[column], head, "S" if column == 0 else "R", cache=False)
    y += 5
    pdf.set_font(pdf.family, "", 8)
    for category in statement.categories:
        total = statement.totals[category]
        pdf.stamp(xs[0], y, widths[0], words.categories.get(category, category), cache=False)
        values = [
            str(total.count),
            duration_text(total.duration_s) if category == "calls" else "",
            volume_text(total.volume_bytes) if category == "data" else "",
            _units(category, total.bucket_units),
            amounts.plain(total.price_minor),
        ]
        for column, value in enumerate(values, start=1):
            pdf.ltr(xs[column], y, widths[column], value, "R")
        y += 5

    y += 5
    pdf.set_font(pdf.family, "B", 10)
    pdf.stamp(MARGIN, y, PAGE_W - 2 * MARGIN, words.money, "R" if pdf.rtl else "L", cache=False)
    y += 7
    pdf.set_font(pdf.family, "", 8)
    if statement.money is None:
        pdf.stamp(MARGIN, y, PAGE_W - 2 * MARGIN, words.money_hidden, "R" if pdf.rtl else "L", cache=False)
        y += 5
    else:
        lines = [
            (words.opening, statement.money.opening_minor, True),
            *[(line.label, line.amount_minor, False) for line in statement.money.movements],
            (words.closing, statement.money.closing_minor, True),
        ]
        for label, amount, strong in lines:
            pdf.set_font(pdf.family, "B" if strong else "", 8)
            pdf.stamp(start, y, label_w, label, cache=False)
            pdf.stamp(value_x, y, 40, money_text(statement, amount).translate(_INVISIBLE), "R", cache=False)
            y += 5
    if not statement.rows_total:
        y += 5
        pdf.set_font(pdf.family, "", 8)
        pdf.stamp(MARGIN, y, PAGE_W - 2 * MARGIN, words.no_events, "R" if pdf.rtl else "L", cache=False)


def render_pdf(statement: Statement, path: Path, words: Words, progress: Progress) -> int:
    rtl = bool(translation.get_language_info(statement.language)["bidi"])
    pages = page_count(statement.rows_total)
    pdf = _StatementPdf(statement, words, rtl, pages)
    try:
        pdf.add_page()
        _summary_page(pdf, statement, words)
        pdf.in_table = True

        times = LocalTimes(statement.tz).text
        plain = Amounts(statement.currency).plain
        kinds = words.kinds
        zones = statement.zone_names
        buckets = statement.bucket_names
        cols = pdf.columns
        date_x, date_w = cols["date_time"]
        type_x, type_w = cols["type"]
        number_x, number_w = cols["counterparty"]
        measure_x, measure_w = cols["measure"]
        zone_x, zone_w = cols["zone"]
        bucket_x, bucket_w = cols["bucket"]
        price_x, price_w = cols["price"]
        ltr, stamp = pdf.ltr, pdf.stamp
        on_page = ROWS_PER_PAGE
        y = TABLE_TOP
        written = 0
        report_at = PROGRESS_EVERY
        for event in statement.events():
            (started_s, category, kind, counterparty, duration_s, volume_bytes, zone_id, bucket_id,
             bucket_units, price) = event  # fmt: skip
            if on_page == ROWS_PER_PAGE:
                pdf.add_page()
                pdf.set_font(pdf.family, "", FONT_PT)
                on_page = 0
                y = TABLE_TOP
            ltr(date_x, y, date_w, times(started_s))
            stamp(type_x, y, type_w, kinds.get(kind, kind))
            if counterparty:
                ltr(number_x, y, number_w, counterparty, "S")
            if category == "calls":
                ltr(measure_x, y, measure_w, duration_text(duration_s), "R")
            elif category == "data":
                ltr(measure_x, y, measure_w, volume_text(volume_bytes), "R")
            if zone_id:
                stamp(zone_x, y, zone_w, zones.get(zone_id, ""))
            if bucket_units and bucket_id:
                stamp(bucket_x, y, bucket_w, buckets.get(bucket_id, ""))
            ltr(price_x, y, price_w, plain(price), "R")
            y += ROW_H
            on_page += 1
            written += 1
            if written == report_at:
                progress(written)
                report_at += PROGRESS_EVERY
        if pdf.page != pages:
            raise StatementChanged(f"planned {pages} pages, wrote {pdf.page}")
        with path.open("wb") as target:
            pdf.output(output_producer_class=_streaming_producer(target, pdf.spill))
    finally:
        pdf.spill.close()
    progress(written)
    return written
