from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class BlackListEntryOut(Schema):
    id: int
    msisdn: str
    note: str
    created_at: datetime


class BlackListOut(Schema):
    is_on: bool  # the Black list service is connected: these numbers cannot reach the line
    service_id: int | None  # the connected service, or the one the first number connects
    capacity: int | None
    entry_fee_minor: int
    kept_until: datetime | None  # switched off: when the kept numbers are deleted
    entries: list[BlackListEntryOut]


class BlackListAddIn(Schema):
    number: str = Field(max_length=40, examples=["+79161234567"])  # any common format; stored E.164
    note: str = Field("", max_length=100, examples=["Spam calls"])


class ScreeningOut(Schema):
    decision: str  # allow | deny
    reason: str  # black_listed when denied; empty otherwise
    caller: str  # E.164 as matched ("" for a hidden or unusable caller id)
    callee: str
