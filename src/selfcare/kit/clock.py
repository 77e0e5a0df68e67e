"""The one source of "now" (DESIGN.md §5.7): timezone-aware, freezable in tests and scenarios.

Business code calls `clock.now()`; tests use `with clock.frozen(dt):` and `clock.advance(...)`.
The frozen instant is process-wide on purpose: worker threads in a concurrency test see the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_lock = threading.Lock()
_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    frozen = _frozen
    if frozen is not None:
        return frozen
    return datetime.now(tz=UTC)


def local_now(tz_name: str) -> datetime:
    return now().astimezone(ZoneInfo(tz_name))


def local_today(tz_name: str) -> date:
    return local_now(tz_name).date()


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("clock only deals in timezone-aware datetimes")
    return moment.astimezone(UTC)


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Freeze `now()` at `moment` for the duration of the block (nesting restores the outer value)."""
    global _frozen
    with _lock:
        previous = _frozen
        _frozen = _require_aware(moment)
    try:
        yield
    finally:
        with _lock:
            _frozen = previous


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward; refuses on a running clock, where it would mean nothing."""
    global _frozen
    with _lock:
        if _frozen is None:
            raise RuntimeError("advance() needs a frozen clock")
        _frozen = _frozen + delta
        return _frozen
