"""Calendar periods of tariffs and services in the operator's time zone.

A monthly allowance lasts from local midnight of the 1st to local midnight of the next 1st; a daily
one from local midnight to the next. Instants are returned timezone-aware in UTC. Lookups are cached
per quarter of an hour of UTC time (every time zone offset in use is a multiple of 15 minutes), so a
batch of a million records computes each period once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

DAILY = "daily"
MONTHLY = "monthly"
QUARTER_HOUR_S = 900


class PeriodCalendar:
    __slots__ = ("_cache", "_tz")

    def __init__(self, tz_name: str) -> None:
        self._tz = ZoneInfo(tz_name)
        self._cache: dict[tuple[str, int], tuple[datetime, datetime]] = {}

    def period(self, fee_period: str, moment: datetime) -> tuple[datetime, datetime]:
        """(start, end) of the daily or monthly period that contains `moment`."""
        key = (fee_period, int(moment.timestamp()) // QUARTER_HOUR_S)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._compute(fee_period, moment)
            self._cache[key] = hit
        return hit

    def _compute(self, fee_period: str, moment: datetime) -> tuple[datetime, datetime]:
        local = moment.astimezone(self._tz)
        if fee_period == DAILY:
            start_day = local.date()
            end_day = start_day + timedelta(days=1)
        elif fee_period == MONTHLY:
            start_day = local.date().replace(day=1)
            end_day = (start_day + timedelta(days=32)).replace(day=1)
        else:
            raise ValueError(f"no calendar period for {fee_period!r}")
        start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=self._tz)
        end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=self._tz)
        return start.astimezone(UTC), end.astimezone(UTC)
