"""Rate a batch of checked records against preloaded lines, buckets and balances, in plain Python.

Records are rated in a canonical order (start time, then source and record id), so the outcome of a
batch does not depend on the order records arrived in. For each record:

1. find the line by its number (unknown: rejected, not stored);
2. classify it (roaming zone of the record, else the destination's prefix; data at home is `home`);
3. take the price plan the catalog chose for (tariff, kind, direction, class, zone);
4. refuse it when the line is blocked (by the subscriber, or terminated) and the usage is chargeable,
   when an incoming call or SMS comes from a black-listed number while the Black list service is on,
   or when the tariff has no price;
5. round the quantity, draw the units from the buckets, price the rest; a line blocked for debt may
   still use what its buckets cover (fair blocking), but a record that would cost money is refused;
6. refuse an outgoing record (quota_exceeded) whose price is more than what the line's monthly quota
   still allows (incoming usage is never refused by a quota, but counts);
7. refuse it (insufficient_funds) when the price would take the account below its floor minus the
   usage overdraft; otherwise apply the draws and keep the price.

Nothing here touches the database; `usage.services` loads the state and writes the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from selfcare.usage.engine.catalog import RatingCatalog
from selfcare.usage.engine.classify import HOME, OFF_NET, ROAMING
from selfcare.usage.engine.inputs import UNKNOWN_DESTINATION, UNKNOWN_LINE, UNKNOWN_ROAMING_ZONE, Valid
from selfcare.usage.engine.pricing import INCLUDED_ALLOWANCE

ACCEPTED = "accepted"
REFUSED = "refused"
LINE_BLOCKED = "line_blocked"
BLACK_LISTED = "black_listed"
INSUFFICIENT_FUNDS = "insufficient_funds"
QUOTA_EXCEEDED = "quota_exceeded"


class BucketState:
    """A bucket while a batch is rated: `remaining` goes down as records draw on it."""

    __slots__ = (
        "id",
        "is_service",
        "line_id",
        "period_end",
        "remaining",
        "start",
        "tariff_id",
        "until",
        "usage_classes",
        "usage_kind",
        "used",
        "zone_id",
    )

    def __init__(
        self,
        *,
        id: int,
        line_id: int,
        usage_kind: str,
        usage_classes: frozenset[str],
        zone_id: int | None,
        tariff_id: int | None,
        remaining: int,
        start: datetime,
        period_end: datetime | None,
        until: datetime,
    ) -> None:
        self.id = id
        self.line_id = line_id
        self.usage_kind = usage_kind
        self.usage_classes = usage_classes
        self.zone_id = zone_id
        self.tariff_id = tariff_id
        self.is_service = tariff_id is None
        self.remaining = remaining
        self.start = start
        self.period_end = period_end
        self.until = until
        self.used = 0

    def order_key(self, far_future: datetime) -> tuple[int, datetime, int]:
        """Service packs first, then tariff allowances; earliest expiry first; then the oldest."""
        return (1 if self.tariff_id is not None else 0, self.period_end or far_future, self.id)


class LineState:
    __slots__ = (
        "account_id",
        "black_list",
        "black_list_since",
        "blocked",
        "buckets",
        "charged",
        "debt_blocked",
        "id",
        "quota_room",
        "tariff_eras",
        "tariff_id",
    )

    def __init__(
        self, *, id: int, account_id: int, tariff_id: int, blocked: bool, debt_blocked: bool = False
    ) -> None:
        self.id = id
        self.account_id = account_id  # the ledger account
        self.tariff_id = tariff_id
        self.blocked = blocked
        # Fair blocking (blocked for debt): allowances already paid for keep working until their period
        # ends; only usage that would cost money is refused.
        self.debt_blocked = debt_blocked
        # What the line's monthly quota still allows (None: no quota); goes down as records are priced.
        self.quota_room: int | None = None
        self.charged = 0  # what this batch charged for the line (its spend counter is raised by it)
        self.black_list: frozenset[str] = frozenset()
        self.black_list_since: datetime | None = None
        self.buckets: dict[str, list[BucketState]] = {}
        # Only for a line whose tariff changed after the batch's earliest record: (from, tariff id) of
        # each tariff in force since then, oldest first. A late record is priced, and draws on the
        # allowances, of the tariff it happened under, not the one the line has today.
        self.tariff_eras: tuple[tuple[datetime, int], ...] | None = None

    def tariff_at(self, moment: datetime) -> int:
        return tariff_in_force(self.tariff_eras, moment) if self.tariff_eras else self.tariff_id


def tariff_in_force(eras: Sequence[tuple[datetime, int]], moment: datetime) -> int:
    """The tariff of these (from, tariff id) eras, oldest first and not empty, in force at `moment`;
    before the first era, the oldest tariff known."""
    tariff_id = eras[0][1]
    for start, era_tariff in eras:
        if start > moment:
            break
        tariff_id = era_tariff
    return tariff_id


class Rated(NamedTuple):
    """What the engine decided about one record."""

    record: Valid
    line: LineState
    status: str
    reason: str
    usage_class: str
    zone_id: int | None
    roaming_zone_id: int | None
    charged_units: int
    bucket_id: int | None
    bucket_units: int
    extra_draws: tuple[tuple[int, int], ...]  # (bucket id, units) beyond the first
    priced_units: int
    price_minor: int


class RatingOutcome(NamedTuple):
    rated: list[Rated]
    rejected: dict[int, str]  # input index -> reason (not stored)
    charges: dict[int, int]  # ledger account id -> total price


def rate_records(
    records: Sequence[Valid],
    *,
    lines: dict[str, LineState],
    rooms: dict[int, int | None],
    catalog: RatingCatalog,
) -> RatingOutcome:
    """Rate `records` (already in canonical order). `rooms` and the buckets are updated in place."""
    rated: list[Rated] = []
    append = rated.append
    rejected: dict[int, str] = {}
    charges: dict[int, int] = {}
    classify = catalog.classifier.classify
    zone_ids = catalog.zone_ids
    plan_for = catalog.plan
    draw = INCLUDED_ALLOWANCE.draw
    no_buckets: list[BucketState] = []

    for record in records:
        line = lines.get(record.msisdn)
        if line is None:
            rejected[record.position] = UNKNOWN_LINE
            continue
        usage_kind = record.usage_kind
        incoming = record.incoming
        roaming_zone_id: int | None = None
        if record.roaming_zone:
            roaming_zone_id = zone_ids.get(record.roaming_zone)
            if roaming_zone_id is None:
                rejected[record.position] = UNKNOWN_ROAMING_ZONE
                continue
            usage_class, zone_id = ROAMING, roaming_zone_id
        elif usage_kind == "data":
            usage_class, zone_id = HOME, None
        else:
            counterparty = record.counterparty
            destination = classify(counterparty[1:]) if counterparty else None
            if destination is None:
                if not incoming:
                    rejected[record.position] = UNKNOWN_DESTINATION
                    continue
                destination = (OFF_NET, None)  # a hidden or unknown caller: free anyway at home
            usage_class, zone_id = destination

        tariff_id = line.tariff_id if line.tariff_eras is None else line.tariff_at(record.started_at)
        plan = plan_for(tariff_id, usage_kind, incoming, usage_class, zone_id)
        pricer = plan.pricer
        reason = ""
        if line.blocked and plan.chargeable:
            reason = LINE_BLOCKED
        elif (
            incoming
            and line.black_list
            and record.counterparty in line.black_list
            and line.black_list_since is not None
            and record.started_at >= line.black_list_since
        ):
            reason = BLACK_LISTED
        elif pricer is None:
            reason = "no_rate"
        if reason:
            append(
                Rated(
                    record, line, REFUSED, reason, usage_class, zone_id, roaming_zone_id, 0, None, 0, (), 0, 0
                )
            )
            continue

        if usage_kind == "voice":
            quantity = record.duration_s
        elif usage_kind == "data":
            quantity = record.volume_bytes
        else:
            quantity = 1
        units = plan.rounding.units(quantity)
        draws: list[tuple[BucketState, int]] = []
        rest = units
        if units and pricer.consumes_allowance:  # type: ignore[union-attr]
            buckets = line.buckets.get(usage_kind, no_buckets)
            if buckets:
                draws, rest = draw(  # type: ignore[assignment]
                    buckets, units, record.started_at, usage_class, zone_id, tariff_id
                )
        price = pricer.price(rest) if rest else 0  # type: ignore[union-attr]
        if price and line.debt_blocked:
            append(
                Rated(
                    record,
                    line,
                    REFUSED,
                    LINE_BLOCKED,
                    usage_class,
                    zone_id,
                    roaming_zone_id,
                    0,
                    None,
                    0,
                    (),
                    0,
                    0,
                )
            )
            continue
        if price:
            quota_room = line.quota_room
            if quota_room is not None and price > quota_room and not incoming:
                append(
                    Rated(
                        record,
                        line,
                        REFUSED,
                        QUOTA_EXCEEDED,
                        usage_class,
                        zone_id,
                        roaming_zone_id,
                        0,
                        None,
                        0,
                        (),
                        0,
                        0,
                    )
                )
                continue
            account_id = line.account_id
            room = rooms.get(account_id)
            if room is not None:
                if price > room:
                    append(
                        Rated(
                            record,
                            line,
                            REFUSED,
                            INSUFFICIENT_FUNDS,
                            usage_class,
                            zone_id,
                            roaming_zone_id,
                            0,
                            None,
                            0,
                            (),
                            0,
                            0,
                        )
                    )
                    continue
                rooms[account_id] = room - price
            if quota_room is not None:
                line.quota_room = quota_room - price
            line.charged += price
            charges[account_id] = charges.get(account_id, 0) + price
        bucket_id = None
        bucket_units = 0
        extra: tuple[tuple[int, int], ...] = ()
        if draws:
            for bucket, taken in draws:
                bucket.remaining -= taken
                bucket.used += taken
            first, bucket_units = draws[0]
            bucket_id = first.id
            if len(draws) > 1:
                extra = tuple((bucket.id, taken) for bucket, taken in draws[1:])
        append(
            Rated(
                record,
                line,
                ACCEPTED,
                "",
                usage_class,
                zone_id,
                roaming_zone_id,
                units,
                bucket_id,
                bucket_units,
                extra,
                rest,
                price,
            )
        )
    return RatingOutcome(rated, rejected, charges)
