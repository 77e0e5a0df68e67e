from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Schema


class TopUpIn(Schema):
    amount_minor: int
    msisdn: str | None = None  # another number of the operator; the caller's own by default
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
    card_id: int
    threshold_minor: int
    amount_minor: int
    max_per_month: int
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
    amount_minor: int


class PromisedOut(Schema):
    id: int
    amount_minor: int
    fee_minor: int
    outstanding_minor: int
    status: str
    granted_at: datetime
    due_at: datetime
