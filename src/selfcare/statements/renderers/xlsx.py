"""XLSX: XlsxWriter in constant-memory mode, a summary sheet and a sheet per category.

Constant memory: each sheet's rows go to its own temporary file as they are written (rows in order per
sheet, which one pass over events in time order gives), so memory stays flat whatever the period.
Values are real numbers and dates with formats (date and time, [h]:mm:ss durations, MB with two
decimals, amounts with the currency's decimals), so a spreadsheet can sum and sort them. Sheets are
right to left for Persian.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import xlsxwriter
from django.utils import translation

from selfcare.statements.document import Statement
from selfcare.statements.renderers.base import (
    MB,
    PROGRESS_EVERY,
    Amounts,
    LocalTimes,
    Progress,
    Words,
)

_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(text: str, used: set[str]) -> str:
    name = _SHEET_NAME_FORBIDDEN.sub(" ", text).strip()[:31] or "Sheet"
    candidate, n = name, 2
    while candidate.lower() in used:
        candidate = f"{name[:28]} {n}"
        n += 1
    used.add(candidate.lower())
    return candidate


def render_xlsx(statement: Statement, path: Path, words: Words, progress: Progress) -> int:
    amounts = Amounts(statement.currency)
    times = LocalTimes(statement.tz)
    rtl = translation.get_language_info(statement.language)["bidi"]
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False}
    )
    money_pattern = "#,##0" + ("." + "0" * amounts.digits if amounts.digits else "")
    bold = workbook.add_format({"bold": True})
    title = workbook.add_format({"bold": True, "font_size": 14})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    duration = workbook.add_format({"num_format": "[h]:mm:ss"})
    megabytes = workbook.add_format({"num_format": "#,##0.00"})
    money = workbook.add_format({"num_format": money_pattern})
    integer = workbook.add_format({"num_format": "#,##0"})
    used: set[str] = set()

    summary = workbook.add_worksheet(_sheet_name(words.title, used))
    sheets: dict[str, Any] = {}
    rows: dict[str, int] = {}
    for category in statement.categories:
        sheet = workbook.add_worksheet(_sheet_name(words.categories.get(category, category), used))
        if rtl:
            sheet.right_to_left()
        if category == "other":
            headings = [words.date_time, words.type, words.amount]
            widths = [20, 32, 14]
        else:
            measure = words.volume if category == "data" else words.duration
            headings = [
                words.date_time, words.type, words.counterparty, measure, words.roaming_zone, words.bucket,
                words.bucket_units, words.price,
            ]  # fmt: skip
            widths = [20, 18, 18, 12, 16, 24, 12, 12]
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        sheet.write_row(0, 0, headings, bold)
        sheet.freeze_panes(1, 0)
        sheets[category] = sheet
        rows[category] = 1

    excel = times.excel
    major = amounts.major
    kinds = words.kinds
    zones = statement.zone_names
    buckets = statement.bucket_names
    written = 0
    report_at = PROGRESS_EVERY
    sums = {category: [0, 0, 0, 0, 0] for category in statement.categories}
    for event in statement.events():
        (started_s, category, kind, counterparty, duration_s, volume_bytes, zone_id, bucket_id, bucket_units,
         price) = event  # fmt: skip
        tally = sums[category]
        tally[0] += 1
        tally[1] += duration_s
        tally[2] += volume_bytes
        tally[3] += bucket_units
        tally[4] += price
        sheet = sheets[category]
        row = rows[category]
        rows[category] = row + 1
        sheet.write_number(row, 0, excel(started_s), when)
        sheet.write_string(row, 1, kinds.get(kind, kind))
        if category == "other":
            sheet.write_number(row, 2, major(price), money)
        else:
            if counterparty:
                sheet.write_string(row, 2, counterparty)
            if category == "data":
                sheet.write_number(row, 3, volume_bytes / MB, megabytes)
            elif category == "calls":
                sheet.write_number(row, 3, duration_s / 86400, duration)
            if zone_id:
                sheet.write_string(row, 4, zones.get(zone_id, ""))
            if bucket_units:
                sheet.write_string(row, 5, buckets.get(bucket_id, "") if bucket_id else "")
                sheet.write_number(row, 6, bucket_units, integer)
            sheet.write_number(row, 7, major(price), money)
        written += 1
        if written == report_at:
            progress(written)
            report_at += PROGRESS_EVERY

    if not statement.counted:
        statement.tally(sums)
    # The summary sheet is written last (its rows are still in order: nothing was written to it yet).
    if rtl:
        summary.right_to_left()
    summary.set_column(0, 0, 34)
    summary.set_column(1, 6, 16)
    summary.write_string(0, 0, words.title, title)
    header = [
        (words.operator, statement.operator),
        (words.number, statement.msisdn),
        (words.holder, statement.holder),
        (words.account, statement.account_number),
        (words.period, f"{statement.period_start:%Y-%m-%d} — {statement.period_end:%Y-%m-%d}"),
        (words.generated, statement.generated_at.astimezone(statement.tz).strftime("%Y-%m-%d %H:%M")),
        (words.currency, statement.currency),
    ]
    row = 2
    for label, value in header:
        summary.write_string(row, 0, label, bold)
        summary.write_string(row, 1, value)
        row += 1
    row += 1
    summary.write_string(row, 0, words.totals, bold)
    row += 1
    headings = [words.category, words.count, words.duration, words.volume, words.bucket_units, words.price]
    summary.write_row(row, 0, headings, bold)
    row += 1
    for category in statement.categories:
        total = statement.totals[category]
        summary.write_string(row, 0, words.categories.get(category, category))
        summary.write_number(row, 1, total.count, integer)
        summary.write_number(row, 2, total.duration_s / 86400, duration)
        summary.write_number(row, 3, total.volume_bytes / MB, megabytes)
        summary.write_number(row, 4, total.bucket_units, integer)
        summary.write_number(row, 5, major(total.price_minor), money)
        row += 1
    row += 1
    summary.write_string(row, 0, words.money, bold)
    row += 1
    if statement.money is None:
        summary.write_string(row, 0, words.money_hidden)
    else:
        lines = [
            (words.opening, statement.money.opening_minor),
            *[(line.label, line.amount_minor) for line in statement.money.movements],
            (words.closing, statement.money.closing_minor),
        ]
        for label, amount in lines:
            summary.write_string(row, 0, label)
            summary.write_number(row, 1, major(amount), money)
            row += 1
    summary.activate()
    workbook.close()
    progress(written)
    return written
