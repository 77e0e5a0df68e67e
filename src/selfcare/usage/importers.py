"""Reading usage files: our CSV format and Asterisk's Master.csv (cdr_csv), plain or gzip.

Parsers yield `(line_number, UsageInput)` for every usable line and `(line_number, message)` for a
malformed one, so the caller reports it and goes on; nothing here touches the database except the
number ranges the Asterisk reader uses to tell our subscribers' calls from calls to them.
Both formats are documented in docs/usage.md.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from selfcare.kit.phone import InvalidPhoneNumber, normalize_msisdn
from selfcare.usage.engine.classify import DestinationClassifier
from selfcare.usage.engine.inputs import UsageInput

Parsed = tuple[int, UsageInput | str]

CSV_REQUIRED = ("record_id", "kind", "msisdn", "started_at")
CSV_OPTIONAL = ("source", "duration_s", "volume_bytes", "counterparty", "roaming_zone", "cell")

# Asterisk cdr_csv column order (Master.csv); uniqueid and userfield are written only with the
# loguniqueid / loguserfield options.
ASTERISK_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
)
ASTERISK_MIN_COLUMNS = 16
ASTERISK_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def open_text(path: Path) -> IO[str]:
    """A text stream of the file, gunzipped when it is gzip (by its magic bytes, not its name)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _int(value: str, name: str) -> int:
    text = value.strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} is not a whole number: {value!r}") from None


def parse_csv(stream: IO[str], *, default_source: str) -> Iterator[Parsed]:
    """Our CSV: a header row naming the columns (any order), then one record per line."""
    reader = csv.reader(stream)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return
    missing = [name for name in CSV_REQUIRED if name not in header]
    unknown = [name for name in header if name not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing columns {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown columns {', '.join(unknown)}")
        yield 1, "header: " + "; ".join(problems)
        return
    position = {name: index for index, name in enumerate(header)}
    for row in reader:
        line_number = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            yield line_number, f"expected {len(header)} columns, found {len(row)}"
            continue

        def field(name: str, row: list[str] = row) -> str:
            index = position.get(name)
            return row[index].strip() if index is not None else ""

        try:
            started_at = datetime.fromisoformat(field("started_at"))
        except ValueError:
            yield line_number, f"started_at is not an ISO 8601 time: {field('started_at')!r}"
            continue
        if started_at.utcoffset() is None:
            yield line_number, "started_at has no UTC offset"
            continue
        try:
            duration_s = _int(field("duration_s"), "duration_s")
            volume_bytes = _int(field("volume_bytes"), "volume_bytes")
        except ValueError as exc:
            yield line_number, str(exc)
            continue
        yield (
            line_number,
            UsageInput(
                source=field("source") or default_source,
                record_id=field("record_id"),
                kind=field("kind"),
                msisdn=field("msisdn"),
                started_at=started_at,
                duration_s=duration_s,
                volume_bytes=volume_bytes,
                counterparty=field("counterparty"),
                roaming_zone=field("roaming_zone"),
                cell=field("cell"),
            ),
        )


def parse_asterisk(
    stream: IO[str],
    *,
    source: str,
    time_zone: str,
    phone_region: str,
    classifier: DestinationClassifier,
) -> Iterator[Parsed]:
    """Asterisk Master.csv: answered calls become voice records; others are skipped (not usage).

    The subscriber side is told by the number ranges: a call from one of our numbers is its
    outgoing call; any other call is an incoming call to the destination. Times are the PBX's local
    time (`time_zone`); the record starts when the call was answered, and lasts `billsec`.
    """
    zone = ZoneInfo(time_zone)
    reader = csv.reader(stream)
    for row in reader:
        line_number = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if not (ASTERISK_MIN_COLUMNS <= len(row) <= len(ASTERISK_COLUMNS)):
            yield line_number, f"expected 16 to 18 columns (Asterisk cdr_csv), found {len(row)}"
            continue
        cdr = dict(zip(ASTERISK_COLUMNS, row, strict=False))
        if cdr["disposition"].strip().upper() != "ANSWERED":
            continue
        try:
            billsec = _int(cdr["billsec"], "billsec")
            when = (cdr["answer"] or cdr["start"]).strip()
            started_at = datetime.strptime(when, ASTERISK_TIME_FORMAT).replace(tzinfo=zone)
        except ValueError as exc:
            yield line_number, str(exc) if "billsec" in str(exc) else f"bad answer/start time: {exc}"
            continue
        if billsec < 0:
            yield line_number, "billsec is negative"
            continue
        try:
            src = normalize_msisdn(cdr["src"], phone_region)
            dst = normalize_msisdn(cdr["dst"], phone_region)
        except InvalidPhoneNumber as exc:
            yield line_number, f"not a phone number: {exc}"
            continue
        record_id = (cdr.get("uniqueid") or "").strip()
        if not record_id:
            # Without uniqueid the same call gets the same id from its own fields on every import.
            identity = "|".join((cdr["start"], cdr["src"], cdr["dst"], cdr["channel"], cdr["dstchannel"]))
            record_id = "h" + hashlib.sha256(identity.encode()).hexdigest()[:40]
        outgoing = classifier.is_own(src[1:])
        yield (
            line_number,
            UsageInput(
                source=source,
                record_id=record_id,
                kind="voice_out" if outgoing else "voice_in",
                msisdn=src if outgoing else dst,
                started_at=started_at,
                duration_s=billsec,
                counterparty=dst if outgoing else src,
            ),
        )
