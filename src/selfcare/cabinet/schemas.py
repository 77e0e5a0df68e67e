"""Shapes of the cabinet's JSON API (/api/v1/home, /spending, /history, /recent-calls).

Money is an integer of minor units (`*_minor`) in the response's `currency`; a signed amount is
positive for money in and negative for money out, as in the ledger. Times are ISO 8601 with their UTC
offset; days (`*_date`, `day`) are the operator's local days. Allowances are counted in their own
units: seconds for voice, messages for SMS, bytes for data. Texts (`title`, `text`, `label`, `source`)
are in the request's language.
"""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema
from pydantic import ConfigDict
from pydantic.config import JsonDict

_CURRENCY = Field(..., description="ISO 4217 code of every `*_minor` amount.", examples=["RUB"])

# Examples of the OpenAPI document (a subscriber on a 450.00-a-month bundle with a 3 GB pack, a call abroad).
_RECORD_EXAMPLE: JsonDict = {
    "id": 81,
    "url": "/api/v1/history/usage/81",
    "started_at": "2026-03-02T05:51:00Z",
    "kind": "voice_out",
    "counterparty": "+442079460000",
    "usage_class": "international",
    "usage_class_label": "International",
    "status": "accepted",
    "how": "priced",
    "charged_units": 180,
    "package_units": 0,
    "bucket_id": None,
    "priced_units": 180,
    "price_minor": 10500,
    "text": "Call to +44 20 7946 0000, 3 min, outside package",
}
_HISTORY_ITEM_EXAMPLE: JsonDict = {
    "transaction_id": 412,
    "url": "/api/v1/history/412",
    "at": "2026-03-02T05:55:00Z",
    "kind": "usage",
    "amount_minor": -10500,
    "balance_after_minor": 45952,
    "title": "Calls, SMS and data outside the package: 1 call",
    "details": [],
    "cause": {"type": "usage_batch", "id": "77", "url": "/api/v1/history/412"},
    "product": None,
    "records_total": 1,
    "records": [_RECORD_EXAMPLE],
}
_FEE_ITEM_EXAMPLE: JsonDict = {
    "transaction_id": 409,
    "url": "/api/v1/history/409",
    "at": "2026-03-02T06:00:00Z",
    "kind": "tariff_fee",
    "amount_minor": -43548,
    "balance_after_minor": 56452,
    "title": "Monthly fee — Smart M",
    "details": ["Period: from 03/01/2026 to 03/31/2026"],
    "cause": {"type": "fee_charge", "id": "fee:tariff:3:2026-03-01", "url": None},
    "product": {"kind": "tariff", "id": 3, "code": "smart-m", "name": "Smart M"},
    "records_total": 0,
    "records": [],
}

_HOME_EXAMPLE: JsonDict = {
    "currency": "RUB",
    "name": "Anna Smirnova",
    "msisdn": "+79001234567",
    "line_status": "active",
    "balance_minor": 30098,
    "low_balance": False,
    "spent_today_minor": 69902,
    "spent_month_minor": 69902,
    "last_top_up": {"at": "2026-03-02T06:00:00Z", "amount_minor": 100000, "kind": "topup"},
    "last_write_off": {"at": "2026-03-02T06:00:00Z", "amount_minor": -7000, "kind": "usage"},
    "buckets": [
        {
            "id": 12,
            "usage_kind": "data",
            "unit": "bytes",
            "amount": 3221225472,
            "remaining": 3221225472,
            "amount_text": "3.0 GB",
            "remaining_text": "3.0 GB",
            "source": "3 GB",
            "roaming_zone": "",
            "renews": True,
            "until": "2026-03-31T21:00:00Z",
        },
        {
            "id": 9,
            "usage_kind": "voice",
            "unit": "seconds",
            "amount": 18000,
            "remaining": 15000,
            "amount_text": "300 min",
            "remaining_text": "250 min",
            "source": "Smart M",
            "roaming_zone": "",
            "renews": True,
            "until": "2026-03-31T21:00:00Z",
        },
    ],
    "tariff": {
        "id": 3,
        "code": "smart-m",
        "name": "Smart M",
        "fee_minor": 45000,
        "fee_period": "monthly",
        "next_fee_date": "2026-04-01",
    },
    "services": [
        {
            "id": 7,
            "code": "data-3",
            "name": "3 GB",
            "kind": "option",
            "fee_minor": 20000,
            "fee_period": "monthly",
            "connected_at": "2026-03-02T06:00:00Z",
            "next_fee_date": "2026-04-01",
        }
    ],
    "black_list": None,
    "promised_payment": {
        "eligible": False,
        "max_amount_minor": 0,
        "term_days": 0,
        "due_at": None,
        "tiers": [],
    },
}
_SPENDING_EXAMPLE: JsonDict = {
    "currency": "RUB",
    "days": [{"day": "2026-03-01", "amount_minor": 0}, {"day": "2026-03-02", "amount_minor": 50548}],
    "days_total_minor": 50548,
    "month_start": "2026-03-01",
    "categories": [
        {"code": "calls", "label": "Calls", "amount_minor": 7000},
        {"code": "sms", "label": "SMS", "amount_minor": 0},
        {"code": "data", "label": "Mobile internet", "amount_minor": 0},
        {"code": "subscription", "label": "Subscription fees", "amount_minor": 43548},
        {"code": "services", "label": "Services", "amount_minor": 0},
        {"code": "other", "label": "Other", "amount_minor": 0},
    ],
    "month_total_minor": 50548,
}
_HISTORY_EXAMPLE: JsonDict = {
    "currency": "RUB",
    "count": 3,
    "limit": 25,
    "offset": 0,
    "items": [_HISTORY_ITEM_EXAMPLE, _FEE_ITEM_EXAMPLE],
}
_USAGE_RECORD_EXAMPLE: JsonDict = {
    **_RECORD_EXAMPLE,
    "transaction_id": 412,
    "currency": "RUB",
    "duration_s": 180,
    "volume_bytes": 0,
    "zone": "Europe",
    "draws": [],
}
_RECENT_EXAMPLE: JsonDict = {
    "record_id": 80,
    "kind": "voice_in",
    "msisdn": "+79165550001",
    "started_at": "2026-03-02T05:40:00Z",
    "black_listed": False,
    "block_preview_url": "/api/v1/black-list/preview?number=%2B79165550001",
}


class MovementOut(Schema):
    at: datetime
    amount_minor: int = Field(..., description="Signed: positive for a top-up, negative for a write-off.")
    kind: str = Field(
        ..., description="The ledger transaction's kind (topup, payment, tariff_fee, usage...)."
    )


class BucketOut(Schema):
    id: int
    usage_kind: str = Field(..., description="voice, sms or data.")
    unit: str = Field(..., description="seconds (voice), messages (sms) or bytes (data).")
    amount: int = Field(..., description="What the package gives for its period, in `unit`.")
    remaining: int = Field(..., description="What is left of it, in `unit`.")
    amount_text: str = Field(..., examples=["300 min"])
    remaining_text: str = Field(..., examples=["250 min"])
    source: str = Field(..., description="The tariff or service the package comes with.")
    roaming_zone: str = Field("", description="The roaming zone the package is for; empty at home.")
    renews: bool = Field(
        ...,
        description="true: renews at `until` (tariff, periodic service); false: a pack "
        "that runs out at `until`.",
    )
    until: datetime | None


class HomeTariffOut(Schema):
    id: int
    code: str
    name: str
    fee_minor: int
    fee_period: str = Field(..., description="daily, monthly or none.")
    next_fee_date: date | None = Field(..., description="The local day the next fee is charged.")


class ConnectedServiceOut(Schema):
    id: int = Field(..., description="The service's id (as in /api/v1/changes/services).")
    code: str
    name: str
    kind: str
    fee_minor: int
    fee_period: str
    connected_at: datetime
    next_fee_date: date | None


class BlackListedOut(Schema):
    id: int
    msisdn: str = Field(..., description="E.164.", examples=["+79165550001"])
    note: str
    created_at: datetime


class PromisedTierOut(Schema):
    amount_minor: int
    fee_minor: int


class PromisedPaymentOut(Schema):
    eligible: bool = Field(
        ..., description="A promised payment can be taken now (POST /api/v1/payments/promised)."
    )
    max_amount_minor: int = Field(0, description="Eligible: the largest amount offered.")
    term_days: int = Field(0, description="Eligible: days until it is collected if not repaid by a top-up.")
    due_at: datetime | None = None
    tiers: list[PromisedTierOut] = Field(
        default_factory=list, description="Eligible: the amounts and their fees."
    )


class HomeOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_HOME_EXAMPLE]})

    currency: str = _CURRENCY
    name: str = Field(..., description="The customer's name.")
    msisdn: str = Field(..., description="The line's number, E.164.")
    line_status: str = Field(..., description="active, blocked...")
    balance_minor: int
    low_balance: bool = Field(..., description="The balance is zero or below: paid usage is stopped.")
    spent_today_minor: int
    spent_month_minor: int
    last_top_up: MovementOut | None
    last_write_off: MovementOut | None
    buckets: list[BucketOut] = Field(..., description="In the order usage draws on them.")
    tariff: HomeTariffOut
    services: list[ConnectedServiceOut]
    black_list: list[BlackListedOut] | None = Field(..., description="null when the Black list is off.")
    promised_payment: PromisedPaymentOut


class DayOut(Schema):
    day: date
    amount_minor: int


class CategoryOut(Schema):
    code: str = Field(..., description="calls, sms, data, subscription, services or other.")
    label: str
    amount_minor: int


class SpendingOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_SPENDING_EXAMPLE]})

    currency: str = _CURRENCY
    days: list[DayOut] = Field(..., description="The last 30 local days, oldest first, today last.")
    days_total_minor: int
    month_start: date
    categories: list[CategoryOut] = Field(..., description="This month by category, every category listed.")
    month_total_minor: int


class ProductRefOut(Schema):
    kind: str = Field(..., description="tariff or service.")
    id: int
    code: str
    name: str


class CauseOut(Schema):
    type: str = Field(
        ...,
        description="What made the movement: payment, fee_charge, product_change, "
        "usage_batch, promised_payment...",
    )
    id: str
    url: str | None = Field(None, description="The API resource of the cause, when there is one.")


class UsageLineOut(Schema):
    """A rated usage record: what it was, its class, what the packages covered and what it cost."""

    id: int
    url: str = Field(..., description="The record explained: /api/v1/history/usage/{id}.")
    started_at: datetime
    kind: str = Field(..., description="voice_out, voice_in, sms_out, sms_in or data.")
    counterparty: str = Field(..., description="The other number, E.164; empty for data or a hidden number.")
    usage_class: str = Field(..., description="on_net, off_net, international, roaming, home...")
    usage_class_label: str
    status: str = Field(..., description="accepted or refused.")
    how: str = Field(..., description="package, partly, priced, free or refused.")
    charged_units: int = Field(..., description="Counted after rounding: seconds, messages or bytes.")
    package_units: int = Field(..., description="Of them, drawn from packages.")
    bucket_id: int | None = Field(..., description="The first package drawn from.")
    priced_units: int = Field(..., description="Of them, priced beyond the packages.")
    price_minor: int
    text: str = Field(..., examples=["Call to +44 20 7946 0000, 3 min, outside package"])


class HistoryItemOut(Schema):
    transaction_id: int
    url: str = Field(..., description="This movement: /api/v1/history/{transaction_id}.")
    at: datetime
    kind: str = Field(..., description="The ledger transaction's kind.")
    amount_minor: int = Field(..., description="Signed: positive in, negative out.")
    balance_after_minor: int
    title: str = Field(..., examples=["Daily fee — Black list"])
    details: list[str]
    cause: CauseOut | None
    product: ProductRefOut | None = Field(..., description="The tariff or service of a fee or a change.")
    records_total: int = Field(..., description="A usage charge: how many records it is made of.")
    records: list[UsageLineOut] = Field(
        ...,
        description="A usage charge: its records, inline when at most three (all of them in the "
        "list; page through them at `url`).",
    )


class HistoryPageOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_HISTORY_EXAMPLE]})

    currency: str = _CURRENCY
    count: int = Field(..., description="Movements matching the filters.")
    limit: int
    offset: int
    items: list[HistoryItemOut] = Field(..., description="Newest first.")


class DrawOut(Schema):
    bucket_id: int
    usage_kind: str
    source: str
    units: int


class UsageRecordOut(UsageLineOut):
    model_config = ConfigDict(json_schema_extra={"examples": [_USAGE_RECORD_EXAMPLE]})

    transaction_id: int | None = Field(..., description="The usage charge it is priced in, if priced.")
    currency: str = _CURRENCY
    duration_s: int
    volume_bytes: int
    zone: str = Field(..., description="The destination or roaming zone's name.")
    draws: list[DrawOut] = Field(..., description="Each package draw, in the order drawn.")


class RecentContactOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_RECENT_EXAMPLE]})

    record_id: int
    kind: str = Field(..., description="voice_in, voice_out or sms_in.")
    msisdn: str = Field(..., description="The other number, E.164.")
    started_at: datetime
    black_listed: bool
    block_preview_url: str | None = Field(
        ..., description="Not listed yet: the preview of adding it (then POST /api/v1/black-list/)."
    )


class HistoryItemDetailOut(HistoryItemOut):
    """One movement; a usage charge with a page of its records (`records_offset`, `records_limit`)."""

    currency: str = _CURRENCY
    records_limit: int
    records_offset: int
