from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from ninja import Schema

from selfcare.api.subscriber import RowId


class ReconciliationIn(Schema):
    company_id: RowId
    start: date
    end: date


class DocumentOut(Schema):
    id: UUID
    company_id: int
    kind: str  # invoice, act, reconciliation
    number: str
    period_start: date
    period_end: date
    language: str
    currency: str
    total_minor: int  # invoices and acts: the charges of the period, VAT included
    vat_minor: int
    vat_rate_percent: int
    status: str  # queued, ready, failed
    created_at: datetime
    download_url: str | None  # absolute; GET it with the same bearer token (or signed in)


class DocumentLinkOut(Schema):
    url: str
