"""JSON shapes of the network usage API."""

from __future__ import annotations

from ninja import Field, Schema
from pydantic import StrictInt


class UsageRecordIn(Schema):
    source: str = Field(..., max_length=32, examples=["msc-1"])
    record_id: str = Field(..., max_length=64, examples=["7c0e1a2b-0001"])
    kind: str = Field(..., examples=["voice_out"], description="voice_out, voice_in, sms_out, sms_in or data")
    msisdn: str = Field(..., examples=["+79001234567"], description="The line's number, E.164.")
    started_at: str = Field(
        ..., examples=["2026-03-02T09:15:00+03:00"], description="ISO 8601 with a UTC offset."
    )
    # Strict: a network element that sends `true` or "12" for a count has a bug worth refusing.
    duration_s: StrictInt = Field(0, description="Voice: seconds of conversation.")
    volume_bytes: StrictInt = Field(0, description="Data: bytes up and down.")
    counterparty: str = Field("", max_length=32, description="The other number (calls, SMS), E.164.")
    roaming_zone: str = Field("", max_length=32, description="Roaming zone code while abroad; empty at home.")
    cell: str = Field("", max_length=32)


class UsageBatchIn(Schema):
    records: list[UsageRecordIn]


class RecordResultOut(Schema):
    index: int
    status: str = Field(..., description="accepted, duplicate or rejected")
    reason: str = Field("", description="Why a record was rejected (a stable code).")
    price_minor: int = 0


class UsageBatchOut(Schema):
    batch_id: int
    accepted: int
    duplicates: int
    rejected: int
    charged_minor: int
    results: list[RecordResultOut]
