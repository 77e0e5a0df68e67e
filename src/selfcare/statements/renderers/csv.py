"""CSV: UTF-8 with a byte-order mark (spreadsheets then read Cyrillic and Persian right), one table,
written as the events stream in. The columns are documented in docs/statements.md.

Every row says what it is in its first column, so one file holds the whole statement and stays one
table: `statement` rows (the header: item in `type`, value in `description`), `event` rows in the order
they happened, then `total` rows (one per category, tallied while the events were written: one pass
over the records) and `money` rows (opening balance, each kind of movement, closing balance). Amounts
are in major units with a dot ("12.50"), durations in seconds, volumes in bytes, times in the
operator's local time.
"""

from __future__ import annotations

import csv
from pathlib import Path

from selfcare.statements.document import CATEGORY_OF_KIND, Event, Statement
from selfcare.statements.renderers.base import PROGRESS_EVERY, Amounts, LocalTimes, Progress, Words

COLUMNS = (
    "section",
    "date_time",
    "category",
    "type",
    "description",
    "number",
    "count",
    "duration_s",
    "volume_bytes",
    "roaming_zone",
    "bucket",
    "bucket_units",
    "amount",
)


def render_csv(statement: Statement, path: Path, words: Words, progress: Progress) -> int:
    amounts = Amounts(statement.currency)
    times = LocalTimes(statement.tz)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writerow = writer.writerow
        writerow(COLUMNS)
        header = (
            ("operator", statement.operator),
            ("number", statement.msisdn),
            ("subscriber", statement.holder),
            ("account", statement.account_number),
            ("period_start", statement.period_start.isoformat()),
            ("period_end", statement.period_end.isoformat()),
            ("prepared_at", statement.generated_at.astimezone(statement.tz).strftime("%Y-%m-%d %H:%M:%S")),
            ("currency", statement.currency),
            ("language", statement.language),
        )
        for item, value in header:
            writerow(("statement", "", "", item, value, "", "", "", "", "", "", "", ""))
        time_text = times.text
        plain = amounts.plain
        kinds = words.kinds
        zones = statement.zone_names
        buckets = statement.bucket_names
        written = 0
        report_at = PROGRESS_EVERY
        sums = {category: [0, 0, 0, 0, 0] for category in statement.categories}
        category_of = CATEGORY_OF_KIND
        minute_prefix = times.minute_prefixes
        amount_text = amounts.cached

        def write_other(event: Event) -> None:
            tally = sums[event.category]
            tally[0] += 1
            tally[4] += event.price_minor
            name = kinds.get(event.kind, event.kind)
            when = time_text(event.started_s)
            writerow(("event", when, event.category, event.kind, name, "", "", 0, 0, "", "", 0,
                      plain(event.price_minor)))  # fmt: skip

        others = iter(statement.other_charges)
        pending = next(others, None)
        # The hot loop reads the record tuples directly (no Event per record): the CSV is the format
        # whose baseline is cheapest, so every step per record shows.
        for (
            started_s,
            kind,
            counterparty,
            duration_s,
            volume_bytes,
            zone_id,
            bucket_id,
            charged,
            priced,
            price,
        ) in statement.records():
            while pending is not None and pending.started_s <= started_s:
                write_other(pending)
                written += 1
                pending = next(others, None)
            category = category_of[kind]
            bucket_units = charged - priced
            tally = sums[category]
            tally[0] += 1
            tally[1] += duration_s
            tally[2] += volume_bytes
            tally[3] += bucket_units
            tally[4] += price
            # Local time and amount from their caches inline (a function call per value shows here).
            prefix = minute_prefix.get(started_s // 60)
            when = f"{prefix}:{started_s % 60:02d}" if prefix is not None else time_text(started_s)
            amount = amount_text.get(price)
            writerow(
                (
                    "event",
                    when,
                    category,
                    kind,
                    kinds.get(kind, kind),
                    counterparty,
                    "",
                    duration_s,
                    volume_bytes,
                    zones.get(zone_id, "") if zone_id else "",
                    buckets.get(bucket_id, "") if bucket_units and bucket_id else "",
                    bucket_units,
                    amount if amount is not None else plain(price),
                )
            )
            written += 1
            if written >= report_at:
                progress(written)
                report_at += PROGRESS_EVERY
        while pending is not None:
            write_other(pending)
            written += 1
            pending = next(others, None)
        if not statement.counted:
            statement.tally(sums)
        for category in statement.categories:
            total = statement.totals[category]
            writerow(
                (
                    "total", "", category, "", words.categories.get(category, category), "", total.count,
                    total.duration_s, total.volume_bytes, "", "", total.bucket_units,
                    amounts.plain(total.price_minor),
                )
            )  # fmt: skip
        money = statement.money
        if money is not None:
            writerow(("money", "", "", "opening_balance", words.opening, "", "", "", "", "", "", "",
                      amounts.plain(money.opening_minor)))  # fmt: skip
            for line in money.movements:
                writerow(("money", "", "", line.key, line.label, "", "", "", "", "", "", "",
                          amounts.plain(line.amount_minor)))  # fmt: skip
            writerow(("money", "", "", "closing_balance", words.closing, "", "", "", "", "", "", "",
                      amounts.plain(money.closing_minor)))  # fmt: skip

        progress(written)
    return written
