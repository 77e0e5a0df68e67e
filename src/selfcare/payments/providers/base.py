"""What our payment logic needs of a provider, and nothing more (DESIGN.md §5.4).

A provider creates a payment and gives a hosted page to send the subscriber to, tells a payment's
status when asked (server to server), turns a webhook into a trusted snapshot (verifying it its own
way: a signature, or re-fetching the payment), and charges a saved card without the subscriber.
Amounts are minor units; card data is never in any of these shapes beyond last four, brand, expiry.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class ProviderStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class CardDetails:
    token: str  # the provider's reusable token (empty when the subscriber did not agree to save it)
    last4: str
    brand: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class PaymentSnapshot:
    """What the provider says about one payment, from a source we trust (verified or fetched)."""

    provider_payment_id: str
    status: ProviderStatus
    amount_minor: int
    currency: str
    reference: str = ""  # our Payment.public_id, echoed by the provider
    failure_code: str = ""
    card: CardDetails | None = None
    confirmation_url: str = ""


@dataclass(frozen=True)
class VerifiedNotice:
    event_id: str
    event_type: str
    payment: PaymentSnapshot | None  # None: an event we do not act on


@dataclass(frozen=True)
class NewPayment:
    reference: str  # our payment's public id: also the provider-side idempotency key
    amount_minor: int
    currency: str
    description: str
    return_url: str
    save_card: bool


@dataclass(frozen=True)
class CardCharge:
    reference: str
    amount_minor: int
    currency: str
    description: str
    card_token: str


class ProviderError(Exception):
    """The provider could not be reached or refused the request (not a decline: a technical failure)."""


class WebhookRejected(Exception):
    """A notification failed verification: bad signature, stale timestamp, unknown payment."""


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, request: NewPayment) -> PaymentSnapshot: ...

    def fetch_payment(self, provider_payment_id: str) -> PaymentSnapshot: ...

    def verify_notice(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotice: ...

    def charge_card(self, request: CardCharge) -> PaymentSnapshot: ...
