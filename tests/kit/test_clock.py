"""The clock: aware UTC time, frozen for tests, advanced on purpose, seen by every thread."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from selfcare.kit import clock

MOMENT = datetime.fromisoformat("2026-03-02T09:00:00+03:00")


def test_now_is_timezone_aware_utc():
    # Given a running clock, when asked for now, then it is an aware UTC instant
    now = clock.now()
    assert now.tzinfo is UTC


def test_frozen_clock_returns_the_moment_in_utc():
    # Given a clock frozen at 09:00 Moscow time
    with clock.frozen(MOMENT):
        # When asked, then it answers that instant in UTC, every time
        assert clock.now() == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
        assert clock.now().tzinfo is UTC
        assert clock.now() is clock.now()


def test_frozen_clock_is_restored_after_the_block_and_nesting_restores_the_outer_value():
    # Given a frozen clock with another one frozen inside it
    with clock.frozen(MOMENT):
        with clock.frozen(MOMENT + timedelta(days=1)):
            assert clock.now() == MOMENT + timedelta(days=1)
        # When the inner block ends, then the outer instant is back
        assert clock.now() == MOMENT
    # and after the outer block the clock runs again
    assert clock.now() != MOMENT


def test_advance_moves_a_frozen_clock():
    # Given a frozen clock
    with clock.frozen(MOMENT):
        # When it is advanced by 90 minutes
        moved = clock.advance(timedelta(minutes=90))
        # Then now() and the returned value are 90 minutes later
        assert moved == clock.now() == MOMENT + timedelta(minutes=90)


def test_advance_refuses_a_running_clock():
    # Given a running clock, when advanced, then it refuses (it would mean nothing)
    with pytest.raises(RuntimeError):
        clock.advance(timedelta(seconds=1))


def test_naive_datetimes_are_refused():
    # Given a naive datetime, when the clock is frozen at it, then it is refused
    with pytest.raises(ValueError, match="timezone-aware"), clock.frozen(datetime(2026, 1, 1)):  # noqa: DTZ001
        pass


def test_local_time_and_date_follow_the_time_zone():
    # Given 23:30 UTC on 1 March
    with clock.frozen(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)):
        # When asked in Moscow (UTC+3) and in New York (UTC-5)
        # Then Moscow is already on 2 March and New York still on 1 March
        assert clock.local_now("Europe/Moscow").hour == 2
        assert clock.local_today("Europe/Moscow") == date(2026, 3, 2)
        assert clock.local_today("America/New_York") == date(2026, 3, 1)


def test_frozen_time_is_seen_by_other_threads(frozen_clock):
    # Given a frozen clock (the fixture freezes it process-wide)
    seen: list[datetime] = []

    # When another thread asks for the time
    thread = threading.Thread(target=lambda: seen.append(clock.now()))
    thread.start()
    thread.join()

    # Then it sees the frozen instant
    assert seen == [MOMENT]
