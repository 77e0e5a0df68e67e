"""JSON shapes of /api/v1/help/."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Field, Schema

from selfcare.support.services import MESSAGE_MAX, SUBJECT_MAX


class ContactOut(Schema):
    help_number: str = Field(..., description="The operator's short help number; empty when none is set.")


class FaqOut(Schema):
    id: int
    question: str = Field(..., description="In the request's language (Accept-Language), else the default.")
    answer: str


class SupportRequestIn(Schema):
    subject: str = Field(..., max_length=SUBJECT_MAX, examples=["Roaming does not work"])
    message: str = Field(..., max_length=MESSAGE_MAX, examples=["No data in Turkey since this morning."])
    line_msisdn: str = Field(
        "", max_length=16, description="Optional: one of the numbers on the account (E.164)."
    )


class SupportRequestOut(Schema):
    id: UUID
    subject: str
    message: str
    line_msisdn: str
    status: str = Field(..., description="open, answered or closed.")
    answer: str = Field(..., description="Empty until staff answer.")
    created_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
