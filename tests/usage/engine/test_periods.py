"""Calendar periods in the operator's time zone."""

from __future__ import annotations

from datetime import datetime

from selfcare.usage.engine.periods import PeriodCalendar


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_monthly_period_runs_from_local_midnight_of_the_first():
    calendar = PeriodCalendar("Europe/Moscow")
    # 23:30 UTC on 31 March is already 1 April in Moscow
    assert calendar.period("monthly", at("2026-03-31T23:30:00+00:00")) == (
        at("2026-04-01T00:00:00+03:00"),
        at("2026-05-01T00:00:00+03:00"),
    )
    assert calendar.period("monthly", at("2026-12-15T10:00:00+03:00")) == (
        at("2026-12-01T00:00:00+03:00"),
        at("2027-01-01T00:00:00+03:00"),
    )


def test_daily_period_follows_daylight_saving_time():
    calendar = PeriodCalendar("Europe/Berlin")
    # The day clocks go forward is 23 hours long
    start, end = calendar.period("daily", at("2026-03-29T12:00:00+02:00"))
    assert (start, end) == (at("2026-03-29T00:00:00+01:00"), at("2026-03-30T00:00:00+02:00"))
    assert (end - start).total_seconds() == 23 * 3600


def test_half_hour_offsets_are_cut_at_local_midnight():
    calendar = PeriodCalendar("Asia/Tehran")
    assert calendar.period("daily", at("2026-01-10T20:29:00+00:00"))[0] == at("2026-01-10T00:00:00+03:30")
    assert calendar.period("daily", at("2026-01-10T20:30:00+00:00"))[0] == at("2026-01-11T00:00:00+03:30")
