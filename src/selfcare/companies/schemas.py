from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from ninja import Field, Schema


class CompanyCategoryOut(Schema):
    code: str
    label: str
    amount_minor: int


class LineSpendOut(Schema):
    line_id: int
    msisdn: str
    holder_name: str
    amount_minor: int


class CompanySummaryOut(Schema):
    id: int
    name: str
    role: str  # the caller's role in the company
    account_kind: str  # prepaid | postpaid
    currency: str
    balance_minor: int
    credit_limit_minor: int
    available_minor: int  # balance plus credit limit, never below zero
    owed_minor: int  # a postpaid account's negative balance plus unpaid fees
    spent_month_minor: int
    month_start: datetime
    categories: list[CompanyCategoryOut]
    top_lines: list[LineSpendOut]
    lines_by_status: dict[str, int]


class LineOut(Schema):
    id: int
    msisdn: str
    holder_name: str
    status: str
    tariff_id: int
    tariff_name: str
    spent_month_minor: int


class LinePageOut(Schema):
    count: int
    page: int
    pages: int
    per_page: int
    items: list[LineOut]


class CompanyServiceOut(Schema):
    id: int
    code: str
    name: str
    connected_at: datetime


class CompanyBucketOut(Schema):
    usage_kind: str
    amount: int
    remaining: int
    period_end: datetime | None


class LineDetailsOut(LineOut):
    usage_month_minor: int
    fees_month_minor: int
    services: list[CompanyServiceOut]
    buckets: list[CompanyBucketOut]


class LineStatementIn(Schema):
    """An admin's order of a company line's call detail (the statements API's order, for a line)."""

    period_start: date = Field(..., examples=["2026-02-01"])
    period_end: date = Field(..., examples=["2026-02-28"])
    categories: list[str] = Field(
        ..., examples=[["calls", "sms", "data"]], description="calls, sms, data, other"
    )
    format: str = Field(..., examples=["pdf"], description="pdf, xlsx or csv")
    by_email: bool = False
    code: str = Field(
        ..., max_length=12, examples=["123456"], description="The SMS code from POST …/statements/code."
    )


class LineStatementOut(Schema):
    """The order; its status and download link are read through GET /api/v1/statements/{id}."""

    id: UUID
    line_id: int
    msisdn: str
    period_start: date
    period_end: date
    categories: list[str]
    format: str
    by_email: bool
    status: str  # queued, generating, ready, failed, expired
    fee_minor: int
    created_at: datetime


class MemberOut(Schema):
    id: int
    user_id: int
    name: str
    msisdn: str | None
    role: str
    line_id: int | None
    created_at: datetime


class InvitationIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(max_length=32)
    email: str = Field("", max_length=254)
    role: str = Field(max_length=16)  # admin | accountant | viewer | employee
    line: str = Field("", max_length=32)  # the employee's line (a number of the company)


class InvitationOut(Schema):
    id: int
    role: str
    phone: str
    line_id: int | None
    expires_at: datetime


class RoleIn(Schema):
    role: str = Field(max_length=16)
    line_id: int | None = None  # for the employee role: one of the company's lines


# --- Bulk changes ------------------------------------------------------------------------------------

_ROW_ID = Field(ge=1, le=2**63 - 1)


class CompanyBulkIn(Schema):
    """A bulk change: the action, its target, and the lines by id or by number (any format)."""

    # change_tariff | connect_service | disconnect_service | set_quota | block | unblock
    action: str = Field(max_length=24)
    tariff_id: int | None = Field(None, ge=1, le=2**63 - 1)
    service_id: int | None = Field(None, ge=1, le=2**63 - 1)
    quota_minor: int | None = Field(None, ge=0, le=2**63 - 1)  # set_quota: None removes the quota
    line_ids: list[Annotated[int, _ROW_ID]] = Field(default_factory=list, max_length=10_000)
    msisdns: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=10_000)


class CompanyBulkLinePreviewOut(Schema):
    line_id: int
    msisdn: str
    holder_name: str
    allowed: bool
    code: str  # the refusal's stable code ("" when allowed)
    message: str
    cost_minor: int


class CompanyBulkPreviewOut(Schema):
    action: str
    allowed_count: int
    refused_count: int
    total_cost_minor: int
    balance_minor: int
    available_minor: int  # what the account may still spend (balance down to its floor)
    covered: bool  # the total cost is within what the account may spend
    missing: list[str]  # numbers given that are not lines of this company
    lines: list[CompanyBulkLinePreviewOut]


class CompanyBulkRequestOut(Schema):
    id: int
    action: str
    tariff_id: int | None
    service_id: int | None
    quota_minor: int | None
    selection: str
    requested_by: str
    status: str  # queued | running | done
    total: int
    succeeded: int
    failed: int
    charged_minor: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class CompanyBulkItemOut(Schema):
    line_id: int
    msisdn: str
    holder_name: str
    status: str  # pending | succeeded | failed
    code: str
    message: str
    charged_minor: int
    processed_at: datetime | None


class CompanyBulkReportOut(CompanyBulkRequestOut):
    items: list[CompanyBulkItemOut]
