from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class ChangePreviewOut(Schema):
    action: str
    allowed: bool
    refusal_code: str
    refusal_message: str
    fee_today_minor: int
    change_fee_minor: int
    total_minor: int
    balance_before_minor: int
    balance_after_minor: int
    effective_at: datetime
    notes: list[str]

    @classmethod
    def of(cls, preview: Any) -> ChangePreviewOut:
        """From a billing.changes.ChangePreview."""
        return cls(**{name: getattr(preview, name) for name in cls.model_fields})


class AllowanceOut(Schema):
    usage_kind: str  # voice (amount in seconds) | sms (messages) | data (bytes)
    amount: int
    usage_classes: list[str]
    zone: str


class RateOut(Schema):
    usage_kind: str
    usage_class: str
    price_minor: int  # per minute (voice), message (SMS) or MB (data)


class TariffOut(Schema):
    id: int
    code: str
    name: str
    description: str
    fee_minor: int
    fee_period: str
    change_fee_minor: int  # the change fee a change to it would cost this line now
    is_current: bool
    can_choose: bool
    allowances: list[AllowanceOut]
    main_rates: list[RateOut]


class ServiceOut(Schema):
    id: int
    code: str
    kind: str
    name: str
    description: str
    connect_fee_minor: int
    fee_minor: int
    fee_period: str
    validity_days: int | None
    connected: bool
    connected_at: datetime | None
    action: str  # connect | disconnect
    allowed: bool
    refusal_code: str
    refusal_message: str
    allowances: list[AllowanceOut]


class ProductChangeOut(Schema):
    id: int
    action: str
    product_kind: str
    product_id: int
    product_name: str
    msisdn: str  # black_list_add: the number
    fee_today_minor: int
    change_fee_minor: int
    total_minor: int
    balance_after_minor: int
    effective_at: datetime
    actor: str


class TariffPeriodOut(Schema):
    tariff_id: int
    tariff_name: str
    started_at: datetime
    ended_at: datetime | None


class ServicePeriodOut(Schema):
    service_id: int
    service_name: str
    connected_at: datetime
    disconnected_at: datetime | None


class HistoryOut(Schema):
    changes: list[ProductChangeOut]
    tariffs: list[TariffPeriodOut]
    services: list[ServicePeriodOut]
