"""What every PDF of selfcare shares: the vendored fonts and fpdf2's text shaping (docs/vendored.md).

DejaVu Sans Condensed covers Latin and Cyrillic, Vazirmatn covers Persian; each is the other's
fallback, so a Persian page can show a Latin company name and the other way round. Text shaping
(harfbuzz) and the bidirectional algorithm run in every `cell()`; numbers, dates and amounts written
with plain `text()` stay left to right inside right-to-left pages.

Used by the call-detail statements and by the companies' accounting documents.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF

# fontTools reports each step of subsetting a font at INFO: noise in the worker's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
LATIN = "dejavu"
PERSIAN = "vazirmatn"
# Direction marks that fpdf2's fonts have no glyph for; bidi is done by the layout itself.
INVISIBLE = str.maketrans("", "", "\u200e\u200f\u061c")


def register_fonts(pdf: FPDF, *, rtl: bool) -> str:
    """Add the vendored fonts (regular and bold) to `pdf`, turn on text shaping, and return the main
    family for the page direction (the other family is set as the fallback)."""
    pdf.add_font(LATIN, "", str(FONTS_DIR / "DejaVuSansCondensed.ttf"))
    pdf.add_font(LATIN, "B", str(FONTS_DIR / "DejaVuSansCondensed-Bold.ttf"))
    pdf.add_font(PERSIAN, "", str(FONTS_DIR / "Vazirmatn-Regular.ttf"))
    pdf.add_font(PERSIAN, "B", str(FONTS_DIR / "Vazirmatn-Bold.ttf"))
    family = PERSIAN if rtl else LATIN
    pdf.set_fallback_fonts([LATIN if rtl else PERSIAN])
    pdf.set_text_shaping(True)
    return family


def plain_amount(amount_minor: int, digits: int) -> str:
    """Minor units → "-1234.50": ASCII digits that read the same in every language and direction."""
    sign = "-" if amount_minor < 0 else ""
    whole, part = divmod(abs(amount_minor), 10**digits)
    return f"{sign}{whole}.{part:0{digits}d}" if digits else f"{sign}{whole}"
