from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Field, Schema


class TopUpIn(Schema):
    amount_minor: int = Field(..., examples=[50_000], description="In minor units of the currency.")
    msisdn: str | None = Field(
        None,
        examples=["+79001234567"],
        description="Another number of the operator; the caller's own if omitted.",
    )
    save_card: bool = False


class PaymentOut(Schema):
    id: UUID
    kind: str
    msisdn: str
    amount_minor: int
    currency: str
    status: str
    failure_code: str
    confirmation_url: str
    card_brand: str
    card_last4: str
    created_at: datetime
    confirmed_at: datetime | None


class CardOut(Schema):
    id: int
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class AutopayIn(Schema):
    card_id: int = Field(..., examples=[1])
    threshold_minor: int = Field(..., examples=[10_000], description="Top up when the balance falls below.")
    amount_minor: int = Field(..., examples=[50_000])
    max_per_month: int = Field(..., examples=[3])
    enabled: bool = True


class AutopayOut(AutopayIn):
    pass


class TierOut(Schema):
    amount_minor: int
    fee_minor: int


class PromisedOfferOut(Schema):
    eligible: bool
    reasons: list[str]
    tiers: list[TierOut]
    max_amount_minor: int
    term_days: int
    due_at: datetime
    balance_minor: int


class PromisedIn(Schema):
    amount_minor: int = Field(..., examples=[10_000], description="One of the offer's tiers.")


class PromisedOut(Schema):
    id: int
    amount_minor: int
    fee_minor: int
    outstanding_minor: int
    status: str
    granted_at: datetime
    due_at: datetime
