"""What a statement says, gathered from the domains' reads, in the form every renderer writes.

`build_statement` reads everything small at once (header, totals per category, money movements, the
names of buckets and zones) and leaves the events as a stream (`Statement.events()`), so that a month
of a million records never sits in memory. Each event is one plain tuple (see `Event`); renderers
turn it into text or cells with the helpers in renderers/base.py.

Money movements come from the ledger: the opening and closing balances are the running balances of
the account's postings before and within the period (docs/statements.md explains why they may differ
from the sum of the events: a record is listed by when it happened, its charge by when it was rated).
They are shown only when the line's account is the subscriber's own (an individual customer): an
employee's line on a company account gets its events, never the company's money.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from selfcare.catalog import queries as catalog_queries
from selfcare.kit.i18n import pick_translation
from selfcare.ledger import queries as ledger_queries
from selfcare.usage import queries as usage_queries

CATEGORY_KINDS: dict[str, tuple[str, ...]] = {
    "calls": ("voice_out", "voice_in"),
    "sms": ("sms_out", "sms_in"),
    "data": ("data",),
    "other": (),
}
CATEGORY_OF_KIND = {kind: category for category, kinds in CATEGORY_KINDS.items() for kind in kinds}
# Debits that are not "other charges": usage is listed record by record, and repaying a promised
# payment moves money already spent (as the cabinet counts spending).
NOT_OTHER_CHARGES = ("usage", "promised_repay", "promised_collect")
# Credits that are the subscriber's own money coming in.
TOPUP_KINDS = ("topup", "payment")
INDIVIDUAL = "individual"  # lines.models.CustomerKind.INDIVIDUAL

KIND_NAMES = {
    "voice_out": _("Outgoing call"),
    "voice_in": _("Incoming call"),
    "sms_out": _("Outgoing SMS"),
    "sms_in": _("Incoming SMS"),
    "data": _("Mobile internet"),
    # Ledger transaction kinds of "other charges" and money movements.
    "topup": _("Top-up"),
    "payment": _("Bank payment"),
    "promised_grant": _("Promised payment"),
    "promised_repay": _("Promised payment repaid"),
    "promised_collect": _("Promised payment collected"),
    "promised_write_off": _("Promised payment written off"),
    "tariff_fee": _("Tariff fee"),
    "service_fee": _("Service fee"),
    "usage": _("Calls, SMS and data"),
    "tariff_change_fee": _("Tariff change fee"),
    "service_connect_fee": _("Service connection fee"),
    "black_list_entry_fee": _("Black list: number added"),
    "statement_fee": _("Call-detail statement fee"),
}


class StatementChanged(Exception):
    """The events read differ from what the statement was planned with; making it again will agree."""


def kind_name(kind: str) -> str:
    name = KIND_NAMES.get(kind)
    return str(name) if name is not None else kind.replace("_", " ").capitalize()


class Event(NamedTuple):
    """One line of call detail. Usage records and other charges alike; money in minor units."""

    started_s: int  # seconds since the epoch (UTC)
    category: str
    kind: str  # record kind (voice_out…) or, for other charges, the ledger transaction kind
    counterparty: str
    duration_s: int
    volume_bytes: int
    zone_id: int | None
    bucket_id: int | None
    bucket_units: int  # units drawn from buckets (all draws; the bucket named is the first one)
    price_minor: int


@dataclass(frozen=True)
class CategoryTotal:
    category: str
    count: int = 0
    duration_s: int = 0
    volume_bytes: int = 0
    bucket_units: int = 0
    price_minor: int = 0


@dataclass(frozen=True)
class MoneyLine:
    key: str  # opening_balance, closing_balance, or a ledger transaction kind
    label: str
    amount_minor: int


@dataclass(frozen=True)
class Money:
    opening_minor: int
    closing_minor: int
    movements: list[MoneyLine]  # credits then debits, by kind

    @property
    def topups_minor(self) -> int:
        return sum(m.amount_minor for m in self.movements if m.key in TOPUP_KINDS and m.amount_minor > 0)

    @property
    def charges_minor(self) -> int:
        return sum(m.amount_minor for m in self.movements if m.amount_minor < 0)


@dataclass
class Statement:
    operator: str
    msisdn: str
    holder: str
    account_number: str
    period_start: date
    period_end: date
    since: datetime
    until: datetime
    generated_at: datetime
    language: str
    currency: str
    tz: ZoneInfo
    categories: list[str]
    totals: dict[str, CategoryTotal]
    money: Money | None
    other_charges: list[Event]
    bucket_names: dict[int, str]
    zone_names: dict[int, str]
    # Events counted before writing (None: the renderer counts them as it writes, see `counted`).
    rows_total: int
    line_id: int
    up_to_record_id: int
    record_kinds: list[str] = field(default_factory=list)
    chunk_size: int = 5_000
    # False when the totals of record categories were not read up front: the renderer tallies them
    # from the events it writes (`tally`), which saves a second pass over the records.
    counted: bool = True

    def tally(self, sums: dict[str, list[int]]) -> None:
        """Set the totals of record categories from [count, duration_s, volume_bytes, bucket units,
        price] sums kept by a renderer, and the number of events."""
        for category, (count, duration_s, volume_bytes, bucket_units, price) in sums.items():
            if category != "other":
                self.totals[category] = CategoryTotal(
                    category, count, duration_s, volume_bytes, bucket_units, price
                )
        self.rows_total = sum(total.count for total in self.totals.values())

    def records(self) -> Iterator[tuple[Any, ...]]:
        """The usage records alone, as usage.queries.STATEMENT_COLUMNS tuples (renderers on the
        fastest path merge `other_charges` in themselves)."""
        return usage_queries.iter_statement_records(
            self.line_id,
            since=self.since,
            until=self.until,
            kinds=self.record_kinds,
            up_to_id=self.up_to_record_id,
            chunk_size=self.chunk_size,
        )

    def events(self) -> Iterator[Event]:
        """Every event in the order it happened: records streamed from the database, other charges
        (a few a month) merged in by time."""
        others = iter(self.other_charges)
        pending = next(others, None)
        records = usage_queries.iter_statement_records(
            self.line_id,
            since=self.since,
            until=self.until,
            kinds=self.record_kinds,
            up_to_id=self.up_to_record_id,
            chunk_size=self.chunk_size,
        )
        category_of = CATEGORY_OF_KIND
        for row in records:
            started_s = row[0]
            while pending is not None and pending.started_s <= started_s:
                yield pending
                pending = next(others, None)
            # A plain tuple in Event's order (building a NamedTuple per record costs more than writing
            # it); the row is STATEMENT_COLUMNS, units from buckets = charged - priced.
            yield (  # type: ignore[misc]
                started_s, category_of[row[1]], row[1], row[2], row[3], row[4], row[5], row[6],
                row[7] - row[8], row[9],
            )  # fmt: skip
        while pending is not None:
            yield pending
            pending = next(others, None)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def period_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight of `start`, local midnight after `end`)."""
    return local_midnight(start, tz), local_midnight(end + timedelta(days=1), tz)


def _bucket_name(bucket: Any, language: str) -> str:
    if bucket.service_assignment_id is not None:
        return pick_translation(bucket.service_assignment.service.name, language)
    if bucket.tariff_id is not None:
        return pick_translation(bucket.tariff.name, language)
    return ""


def build_statement(
    *,
    line: Any,
    period_start: date,
    period_end: date,
    categories: Sequence[str],
    language: str,
    generated_at: datetime,
    chunk_size: int = 5_000,
    count_first: bool = True,
) -> Statement:
    """Everything small about the statement (a fixed number of queries); the events stay a stream.

    The period ends at the end of `period_end` or at `generated_at`, whichever is first, so that what
    the document says is what the database held when it was made.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    since, until = period_bounds(period_start, period_end, tz)
    until = min(until, generated_at)
    since = min(since, until)
    record_kinds = [kind for category in categories for kind in CATEGORY_KINDS.get(category, ())]
    # Records stored after this moment are left out of both the totals and the list, so the two agree.
    up_to_id = usage_queries.get_last_record_id()
    # The PDF needs its number of pages before its first page; CSV and XLSX tally while they write.
    usage_totals = (
        usage_queries.sum_statement_records(
            line.pk, since=since, until=until, kinds=record_kinds, up_to_id=up_to_id
        )
        if count_first
        else {}
    )
    account = line.account
    customer = account.customer
    own_money = customer.kind == INDIVIDUAL
    ledger_id = int(account.ledger_account_id)

    other_charges: list[Event] = []
    if "other" in categories and own_money:
        for created_at, kind, amount in ledger_queries.list_period_debits(
            ledger_id, since=since, until=until, exclude_kinds=NOT_OTHER_CHARGES
        ):
            other_charges.append(
                Event(int(created_at.timestamp()), "other", kind, "", 0, 0, None, None, 0, -amount)
            )

    totals: dict[str, CategoryTotal] = {}
    for category in categories:
        if category == "other":
            totals[category] = CategoryTotal(
                category, count=len(other_charges), price_minor=sum(e.price_minor for e in other_charges)
            )
            continue
        parts = [usage_totals[k] for k in CATEGORY_KINDS[category] if k in usage_totals]
        totals[category] = CategoryTotal(
            category,
            count=sum(p.count for p in parts),
            duration_s=sum(p.duration_s for p in parts),
            volume_bytes=sum(p.volume_bytes for p in parts),
            bucket_units=sum(p.charged_units - p.priced_units for p in parts),
            price_minor=sum(p.price_minor for p in parts),
        )

    money = None
    if own_money:
        period = ledger_queries.get_period_money(ledger_id, since=since, until=until)
        movements = [
            MoneyLine(kind, kind_name(kind), amount)
            for kind, amount in sorted(period.credits_by_kind.items())
        ] + [
            MoneyLine(kind, kind_name(kind), amount) for kind, amount in sorted(period.debits_by_kind.items())
        ]
        money = Money(period.opening_minor, period.closing_minor, movements)

    buckets = usage_queries.list_buckets_between(line.pk, since=since, until=until)
    zone_names = {
        pk: pick_translation(name, language) for pk, name in catalog_queries.get_zone_names().items()
    }
    return Statement(
        operator=settings.SELFCARE_OPERATOR_NAME,
        msisdn=line.msisdn,
        holder=line.holder_name or customer.name,
        account_number=account.number,
        period_start=period_start,
        period_end=period_end,
        since=since,
        until=until,
        generated_at=generated_at,
        language=language,
        currency=settings.SELFCARE_CURRENCY,
        tz=tz,
        categories=list(categories),
        totals=totals,
        money=money,
        other_charges=other_charges,
        bucket_names={bucket.pk: _bucket_name(bucket, language) for bucket in buckets},
        zone_names=zone_names,
        rows_total=sum(total.count for total in totals.values()),
        line_id=line.pk,
        up_to_record_id=up_to_id,
        record_kinds=record_kinds,
        chunk_size=chunk_size,
        counted=count_first,
    )
