"""The cabinet's own reads for the mobile app (subscriber bearer tokens): the home screen, spending, the
history of money movements in plain words, one rated record, and the recent calls to block from.

Each route reads what its page reads, through the same functions of `cabinet.queries` (docs/cabinet.md),
so the app and the pages show the same figures. Every route works on the caller's own line, found by
the token's number; whatever a URL names (a transaction, a usage record) is looked up within that line
or its account, so anyone else's is a 404, the same answer as for one that does not exist.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from ninja import Router

from selfcare.api.problems import Problem
from selfcare.api.subscriber import IsoDay, RowId
from selfcare.cabinet import queries
from selfcare.cabinet.errors import PeriodBackwards
from selfcare.cabinet.schemas import (
    BlackListedOut,
    BucketOut,
    CategoryOut,
    CauseOut,
    ConnectedServiceOut,
    DayOut,
    DrawOut,
    HistoryItemDetailOut,
    HistoryItemOut,
    HistoryPageOut,
    HomeOut,
    HomeTariffOut,
    MovementOut,
    ProductRefOut,
    PromisedPaymentOut,
    PromisedTierOut,
    RecentContactOut,
    SpendingOut,
    UsageLineOut,
    UsageRecordOut,
)
from selfcare.catalog import queries as catalog_queries
from selfcare.identity.auth import SubscriberBearer
from selfcare.kit.errors import NotFound
from selfcare.ledger import queries as ledger_queries

router = Router(tags=["cabinet"], auth=SubscriberBearer())
_ERRORS: dict[int, type[Problem]] = {401: Problem, 404: Problem, 422: Problem}

API = "/api/v1"
HISTORY_PAGE_SIZE = 25
RECORDS_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_UNITS = {"voice": "seconds", "sms": "messages", "data": "bytes"}

HistoryKind = Literal["topups", "fees", "usage", "changes", "promised"]


def _line(request: HttpRequest) -> Any:
    """The caller's line with customer, account, balance and tariff (one query); 404 without one."""
    line = queries.get_subscriber_line(request.user)
    if line is None:
        raise NotFound()
    return line


def _currency() -> str:
    return str(settings.SELFCARE_CURRENCY)


def _movement(movement: ledger_queries.Movement | None) -> MovementOut | None:
    if movement is None:
        return None
    return MovementOut(at=movement.at, amount_minor=movement.amount_minor, kind=movement.kind)


# --- Home -----------------------------------------------------------------------------------------------


@router.get(
    "/home",
    response={200: HomeOut, **_ERRORS},
    summary="The home screen at a glance: balance, spending, packages, tariff, services, black list",
    description=(
        "The figures of the home page, read by the same queries (at most 10 SQL queries whatever the "
        "line's history). `promised_payment` is the offer the home page shows: it is worked out only "
        "when one is possible (the balance below the rule's threshold); the full conditions, with the "
        "reasons when there is none, are at GET /api/v1/payments/promised/offer."
    ),
)
def home(request: HttpRequest) -> HomeOut:
    line = _line(request)
    data = queries.get_home(line)
    offer = data.promised if data.promised_eligible else None
    return HomeOut(
        currency=_currency(),
        name=str(line.account.customer.name),
        msisdn=line.msisdn,
        line_status=line.status,
        balance_minor=data.balance_minor,
        low_balance=data.low_balance,
        spent_today_minor=data.summary.spent_today_minor,
        spent_month_minor=data.summary.spent_month_minor,
        last_top_up=_movement(data.summary.last_credit),
        last_write_off=_movement(data.summary.last_debit),
        buckets=[
            BucketOut(
                id=bucket.id,
                usage_kind=bucket.usage_kind,
                unit=_UNITS.get(bucket.usage_kind, ""),
                amount=bucket.amount,
                remaining=bucket.remaining,
                amount_text=bucket.total_text,
                remaining_text=bucket.left_text,
                source=bucket.source,
                roaming_zone=bucket.roaming_zone,
                renews=bucket.renews,
                until=bucket.until,
            )
            for bucket in data.buckets
        ],
        tariff=HomeTariffOut(
            id=line.tariff.pk,
            code=line.tariff.code,
            name=str(line.tariff.display_name),
            fee_minor=line.tariff.fee_minor,
            fee_period=line.tariff.fee_period,
            next_fee_date=data.tariff_next_fee,
        ),
        services=[
            ConnectedServiceOut(
                id=service.id,
                code=service.code,
                name=str(service.name),
                kind=service.kind,
                fee_minor=service.fee_minor,
                fee_period=service.fee_period,
                connected_at=service.connected_at,
                next_fee_date=service.next_fee,
            )
            for service in data.services
        ],
        black_list=(
            None
            if data.black_list is None
            else [
                BlackListedOut(id=entry.id, msisdn=entry.msisdn, note=entry.note, created_at=entry.created_at)
                for entry in data.black_list
            ]
        ),
        promised_payment=(
            PromisedPaymentOut(
                eligible=True,
                max_amount_minor=offer.max_amount_minor,
                term_days=offer.term_days,
                due_at=offer.due_at,
                tiers=[
                    PromisedTierOut(amount_minor=t.amount_minor, fee_minor=t.fee_minor) for t in offer.tiers
                ],
            )
            if offer is not None
            else PromisedPaymentOut(eligible=False, max_amount_minor=0, term_days=0, due_at=None, tiers=[])
        ),
    )


# --- Spending -------------------------------------------------------------------------------------------


@router.get(
    "/spending",
    response={200: SpendingOut, **_ERRORS},
    summary="Spending per day over the last 30 days and this month by category",
)
def spending(request: HttpRequest) -> SpendingOut:
    data = queries.get_spending(_line(request))
    return SpendingOut(
        currency=_currency(),
        days=[DayOut(day=day.day, amount_minor=day.amount_minor) for day in data.days],
        days_total_minor=data.days_total_minor,
        month_start=data.month_start,
        categories=[
            CategoryOut(code=category.code, label=category.label, amount_minor=category.amount_minor)
            for category in data.categories
        ],
        month_total_minor=data.month_total_minor,
    )


# --- History --------------------------------------------------------------------------------------------


def _page(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(limit, MAX_PAGE_SIZE)), max(0, offset)


def _usage_line(record: queries.RecordLine) -> UsageLineOut:
    return UsageLineOut(
        id=record.id,
        url=f"{API}/history/usage/{record.id}",
        started_at=record.started_at,
        kind=record.kind,
        counterparty=record.counterparty,
        usage_class=record.usage_class,
        usage_class_label=catalog_queries.usage_class_label(record.usage_class) if record.usage_class else "",
        status=record.status,
        how=record.how,
        charged_units=record.charged_units,
        package_units=record.package_units,
        bucket_id=record.bucket_id,
        priced_units=record.priced_units,
        price_minor=record.price_minor,
        text=record.text,
    )


def _cause(item: queries.HistoryItem) -> CauseOut | None:
    if item.payment_public_id:
        return CauseOut(
            type="payment", id=item.payment_public_id, url=f"{API}/payments/{item.payment_public_id}"
        )
    if item.kind == "usage":
        # A usage charge is its own cause's record: the records it is made of are listed at its URL.
        return CauseOut(
            type=item.cause_type or "usage_batch",
            id=item.cause_id or str(item.transaction_id),
            url=f"{API}/history/{item.transaction_id}",
        )
    if not item.cause_type:
        return None
    return CauseOut(type=item.cause_type, id=item.cause_id, url=None)


def _item_fields(item: queries.HistoryItem) -> dict[str, Any]:
    product = item.product
    return {
        "transaction_id": item.transaction_id,
        "url": f"{API}/history/{item.transaction_id}",
        "at": item.at,
        "kind": item.kind,
        "amount_minor": item.amount_minor,
        "balance_after_minor": item.balance_after_minor,
        "title": item.title,
        "details": list(item.details),
        "cause": _cause(item),
        "product": (
            ProductRefOut(kind=product.kind, id=product.id, code=product.code, name=product.name)
            if product is not None
            else None
        ),
        "records_total": item.records_total,
        "records": [_usage_line(record) for record in item.records],
    }


@router.get(
    "/history",
    response={200: HistoryPageOut, **_ERRORS},
    summary="Every money movement of the line's account in plain words, newest first",
    description=(
        "Filter by `kind` (topups, fees, usage, changes, promised) and by local days `since`..`until` "
        "(both inclusive, YYYY-MM-DD); page with `limit` (1-200, 25 by default) and `offset`. Each line "
        "says what it was, links to its cause, and a usage charge lists its records (up to three inline) "
        "with their class, what the packages covered and their price. A period whose start is after "
        "its end is refused (422, `period_backwards`)."
    ),
)
def history(
    request: HttpRequest,
    kind: HistoryKind | None = None,
    since: IsoDay | None = None,
    until: IsoDay | None = None,
    limit: int = HISTORY_PAGE_SIZE,
    offset: int = 0,
) -> HistoryPageOut:
    if since and until and since > until:
        raise PeriodBackwards()
    line = _line(request)
    limit, offset = _page(limit, offset)
    postings = queries.list_history(
        line, kinds=queries.HISTORY_FILTERS[kind][1] if kind else None, since=since, until=until
    )
    count = postings.count()
    items = queries.describe_postings(list(postings[offset : offset + limit])) if offset < count else []
    return HistoryPageOut(
        currency=_currency(),
        count=count,
        limit=limit,
        offset=offset,
        items=[HistoryItemOut(**_item_fields(item)) for item in items],
    )


@router.get(
    "/history/usage/{record_id}",
    response={200: UsageRecordOut, **_ERRORS},
    summary="One rated usage record of the line: class, zone, each package draw, priced units and price",
    description="Only the caller's own line's records; anyone else's is 404, like one that does not exist.",
)
def usage_record(request: HttpRequest, record_id: int) -> UsageRecordOut:
    explanation = queries.explain_line_record(_line(request), record_id)
    if explanation is None:
        raise NotFound()
    record = explanation.record
    return UsageRecordOut(
        **_usage_line(explanation.line).dict(),
        transaction_id=record.transaction_id,
        currency=_currency(),
        duration_s=int(record.duration_s),
        volume_bytes=int(record.volume_bytes),
        zone=str(explanation.zone),
        draws=[
            DrawOut(
                bucket_id=draw.bucket_id, usage_kind=draw.usage_kind, source=draw.source, units=draw.units
            )
            for draw in explanation.draws
        ],
    )


@router.get(
    "/history/{transaction_id}",
    response={200: HistoryItemDetailOut, **_ERRORS},
    summary="One money movement explained; a usage charge with a page of its records",
    description=(
        "The movement must have touched the caller's account (404 otherwise). A usage charge lists its "
        "records in the order they happened, `records_limit` (1-200, 50 by default) from `records_offset`."
    ),
)
def history_item(
    request: HttpRequest,
    transaction_id: RowId,
    records_limit: int = RECORDS_PAGE_SIZE,
    records_offset: int = 0,
) -> HistoryItemDetailOut:
    line = _line(request)
    item = queries.get_history_item(line, transaction_id)
    if item is None:
        raise NotFound()
    records_limit, records_offset = _page(records_limit, records_offset)
    if item.kind == "usage":
        records = queries.list_charge_records(line, transaction_id)[
            records_offset : records_offset + records_limit
        ]
        item.records = [queries.describe_record(record) for record in records]
    return HistoryItemDetailOut(
        **_item_fields(item), currency=_currency(), records_limit=records_limit, records_offset=records_offset
    )


# --- Recent calls (to block a caller) ----------------------------------------------------------------------


@router.get(
    "/recent-calls",
    response={200: list[RecentContactOut], **_ERRORS},
    summary="The latest calls (both ways) and incoming SMS of the last 30 days, to block a caller from",
    description=(
        'What the history and black-list pages list under "Block this caller": up to 10, newest first. '
        "A number not on the black list yet comes with the URL of the preview of adding it; adding it is "
        "POST /api/v1/black-list/ with an Idempotency-Key."
    ),
)
def recent_calls(request: HttpRequest) -> list[RecentContactOut]:
    line = _line(request)
    blocked = queries.list_black_listed_numbers(line)
    return [
        RecentContactOut(
            record_id=record.pk,
            kind=record.kind,
            msisdn=record.counterparty,
            started_at=record.started_at,
            black_listed=record.counterparty in blocked,
            block_preview_url=(
                None
                if record.counterparty in blocked
                else f"{API}/black-list/preview?{urlencode({'number': record.counterparty})}"
            ),
        )
        for record in queries.list_recent_contacts(line)
    ]
