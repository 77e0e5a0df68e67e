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
# A stack of frozen instants, one entry per active `frozen()` block, newest last. Each block removes
# its own entry on exit (not "restore what was there before"), so blocks entered and left by several
# threads in any interleaving never leave the clock frozen behind them.
_frozen_stack: list[list[datetime]] = []


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    stack = _frozen_stack
    if stack:
        try:
            return stack[-1][0]
        except IndexError:  # emptied by another thread between the two reads
            pass
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
    """Freeze `now()` at `moment` for the duration of the block (an inner block wins while it lasts)."""
    entry = [_require_aware(moment)]
    with _lock:
        _frozen_stack.append(entry)
    try:
        yield
    finally:
        with _lock:
            for index in range(len(_frozen_stack) - 1, -1, -1):
                if _frozen_stack[index] is entry:
                    del _frozen_stack[index]
                    break


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward; refuses on a running clock, where it would mean nothing."""
    with _lock:
        if not _frozen_stack:
            raise RuntimeError("advance() needs a frozen clock")
        top = _frozen_stack[-1]
        top[0] = top[0] + delta
        return top[0]
