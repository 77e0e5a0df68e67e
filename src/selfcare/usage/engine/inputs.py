"""What a usage record looks like on the way in, and the checks every path applies.

`UsageInput` is a NamedTuple so that a generator or a parser builds millions of them cheaply; plain
dicts with the same keys are accepted too. `validate` turns one into the engine's internal tuple or
returns the reason it is rejected (stable codes, listed in docs/usage.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

KINDS = {
    # kind -> (usage kind, incoming)
    "voice_out": ("voice", False),
    "voice_in": ("voice", True),
    "sms_out": ("sms", False),
    "sms_in": ("sms", True),
    "data": ("data", False),
}
MAX_DURATION_S = 7 * 24 * 3600
MAX_VOLUME_BYTES = 1 << 45
# Records may arrive late (hours, days) but never from the future beyond clock skew.
FUTURE_TOLERANCE = timedelta(minutes=15)

SOURCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,31}$")

# Reasons a record is rejected before rating (it is not stored; fix it and send it again).
INVALID_SOURCE = "invalid_source"
INVALID_RECORD_ID = "invalid_record_id"
INVALID_KIND = "invalid_kind"
INVALID_MSISDN = "invalid_msisdn"
INVALID_STARTED_AT = "invalid_started_at"
INVALID_QUANTITY = "invalid_quantity"
INVALID_COUNTERPARTY = "invalid_counterparty"
INVALID_FIELD = "invalid_field"
UNKNOWN_LINE = "unknown_line"
UNKNOWN_ROAMING_ZONE = "unknown_roaming_zone"
UNKNOWN_DESTINATION = "unknown_destination"


class UsageInput(NamedTuple):
    source: str
    record_id: str
    kind: str  # voice_out | voice_in | sms_out | sms_in | data
    msisdn: str  # the line's number, E.164 ("+79001234567"; the '+' may be left out)
    started_at: datetime  # timezone-aware (an ISO 8601 string with an offset is accepted too)
    duration_s: int = 0  # voice
    volume_bytes: int = 0  # data
    counterparty: str = ""  # the other number (voice, SMS), E.164; empty for a hidden caller
    roaming_zone: str = ""  # roaming zone code while abroad; empty at home
    cell: str = ""  # cell id or location, kept for call detail


FIELDS = UsageInput._fields


class Valid(NamedTuple):
    """A record that passed the checks, in the shape the rater uses."""

    position: int  # in the input batch
    source: str
    record_id: str
    kind: str
    usage_kind: str
    incoming: bool
    msisdn: str  # "+digits"
    started_at: datetime
    duration_s: int
    volume_bytes: int
    counterparty: str  # "+digits" or ""
    roaming_zone: str
    cell: str


def as_input(raw: UsageInput | Mapping[str, Any] | Any) -> UsageInput:
    if isinstance(raw, UsageInput):
        return raw
    if isinstance(raw, Mapping):
        unknown = set(raw) - set(FIELDS)
        if unknown:
            raise ValueError(INVALID_FIELD)
        return UsageInput(**raw)
    defaults = UsageInput._field_defaults
    values: list[Any] = [
        getattr(raw, name) if name not in defaults else getattr(raw, name, defaults[name]) for name in FIELDS
    ]
    return UsageInput(*values)


def _number(raw: Any) -> str | None:
    """'+79001234567' for '+79001234567' or '79001234567'; None when it is not E.164 digits."""
    if not isinstance(raw, str):
        return None
    digits = raw[1:] if raw.startswith("+") else raw
    if not (5 <= len(digits) <= 15) or not digits.isdigit() or not digits.isascii():
        return None
    return "+" + digits


class Validator:
    """Checks records of one batch; remembers what repeats (sources, line numbers) to stay cheap."""

    __slots__ = ("_latest", "_numbers", "_sources")

    def __init__(self, now: datetime) -> None:
        self._latest = now + FUTURE_TOLERANCE
        self._sources: set[str] = set()
        self._numbers: dict[str, str | None] = {}

    def check(self, position: int, raw: Any) -> Valid | str:
        """The checked record, or the reason it is rejected."""
        if type(raw) is UsageInput:
            record = raw
        else:
            try:
                record = as_input(raw)
            except (TypeError, ValueError, AttributeError):
                return INVALID_FIELD
        source = record.source
        if source not in self._sources:
            if not isinstance(source, str) or not SOURCE_PATTERN.match(source):
                return INVALID_SOURCE
            self._sources.add(source)
        record_id = record.record_id
        if not isinstance(record_id, str) or not (0 < len(record_id) <= 64) or not record_id.isprintable():
            return INVALID_RECORD_ID
        shape = KINDS.get(record.kind)
        if shape is None:
            return INVALID_KIND
        usage_kind, incoming = shape
        raw_msisdn = record.msisdn
        try:
            msisdn = self._numbers[raw_msisdn]
        except (KeyError, TypeError):
            msisdn = _number(raw_msisdn)
            if isinstance(raw_msisdn, str):
                self._numbers[raw_msisdn] = msisdn
        if msisdn is None:
            return INVALID_MSISDN
        started_at = record.started_at
        if isinstance(started_at, str):
            try:
                started_at = datetime.fromisoformat(started_at)
            except ValueError:
                return INVALID_STARTED_AT
        if not isinstance(started_at, datetime) or started_at.utcoffset() is None:
            return INVALID_STARTED_AT
        if started_at > self._latest:
            return INVALID_STARTED_AT
        duration_s = record.duration_s or 0
        volume_bytes = record.volume_bytes or 0
        if type(duration_s) is not int or type(volume_bytes) is not int:
            return INVALID_QUANTITY
        if usage_kind == "voice":
            if not (0 <= duration_s <= MAX_DURATION_S) or volume_bytes:
                return INVALID_QUANTITY
        elif usage_kind == "data":
            if not (0 <= volume_bytes <= MAX_VOLUME_BYTES) or duration_s:
                return INVALID_QUANTITY
        elif duration_s or volume_bytes:
            return INVALID_QUANTITY
        counterparty = record.counterparty or ""
        if counterparty:
            normalized = _number(counterparty)
            if normalized is None:
                return INVALID_COUNTERPARTY
            counterparty = normalized
        elif usage_kind != "data" and not incoming:
            return INVALID_COUNTERPARTY
        roaming_zone = record.roaming_zone or ""
        cell = record.cell or ""
        if not isinstance(roaming_zone, str) or not isinstance(cell, str) or len(cell) > 32:
            return INVALID_FIELD
        return Valid(
            position,
            source,
            record_id,
            record.kind,
            usage_kind,
            incoming,
            msisdn,
            started_at,
            duration_s,
            volume_bytes,
            counterparty,
            roaming_zone,
            cell,
        )


def validate(position: int, raw: Any, now: datetime) -> Valid | str:
    """Check one record on its own (a batch uses one Validator for all its records)."""
    return Validator(now).check(position, raw)
