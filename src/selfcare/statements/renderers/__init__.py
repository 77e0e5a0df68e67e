"""The three formats of a statement: each renderer writes a Statement to a file (base.Renderer)."""

from __future__ import annotations

from selfcare.statements.renderers.base import Renderer
from selfcare.statements.renderers.csv import render_csv
from selfcare.statements.renderers.pdf import render_pdf
from selfcare.statements.renderers.xlsx import render_xlsx

RENDERERS: dict[str, Renderer] = {"csv": render_csv, "xlsx": render_xlsx, "pdf": render_pdf}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
