from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Schema


class OrderIn(Schema):
    period_start: date = Field(..., examples=["2026-02-01"])
    period_end: date = Field(..., examples=["2026-02-28"])
    categories: list[str] = Field(
        ..., examples=[["calls", "sms", "data"]], description="calls, sms, data, other"
    )
    format: str = Field(..., examples=["pdf"], description="pdf, xlsx or csv")
    by_email: bool = False
    code: str = Field(..., examples=["123456"], description="The SMS code from POST /statements/code.")


class LinkOut(Schema):
    url: str  # absolute; GET it with the same bearer token (or in the signed-in browser)
    expires_at: datetime


class OrderOut(Schema):
    id: UUID
    period_start: date
    period_end: date
    categories: list[str]
    format: str
    by_email: bool
    status: str  # queued, generating, ready, failed, expired
    progress_percent: int
    events: int
    fee_minor: int
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    download: LinkOut | None  # a fresh link while the order is ready


class EventOut(Schema):
    id: int
    started_at: datetime
    kind: str
    counterparty: str
    duration_s: int
    volume_bytes: int
    roaming_zone: str
    price_minor: int
