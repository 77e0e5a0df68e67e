"""Rate limits of the identity flows, kept in a `limits` storage (Redis when configured, memory otherwise).

Windows are computed from selfcare.kit.clock, not from the storage's own timer, so a frozen clock in a
test (and a scenario replaying a day) moves them exactly; the storage's expiry only cleans keys up.
Every counter is changed with the storage's atomic increment, so concurrent requests never both take
the last unit: an increment that went over the limit is given back and refused.

Three shapes:
- `acquire(...)`: at most N per period, a sliding window made of BUCKETS small fixed windows plus the
  current one: it never lets more than N through in any span of `period`, and may hold back a unit for
  up to one bucket (a tenth of the period) longer than an exact log would.
- `acquire_cooldown(...)`: at least S seconds between two successes (a compare-and-set on a timestamp).
- `acquire_daily(...)`: at most N per calendar day of the operator's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.conf import settings
from limits.storage import MemoryStorage, Storage, storage_from_string

from selfcare.kit import clock

BUCKETS = 10


@dataclass(frozen=True)
class LoginDelay:
    """How long a login key must wait before its next try (0 = may try now)."""

    wait_s: int


class Limiter:
    def __init__(self, storage: Storage, *, prefix: str) -> None:
        self.storage = storage
        self.prefix = prefix

    def _key(self, *parts: object) -> str:
        return ":".join([self.prefix, *(str(part) for part in parts)])

    # --- N per period -------------------------------------------------------------------------------
    def _window(self, name: str, key: str, period_s: int) -> tuple[list[str], str, int]:
        """The keys of the buckets that make up the window ending now, and the current bucket's key."""
        bucket_s = max(1, period_s // BUCKETS)
        current = int(clock.now().timestamp()) // bucket_s
        keys = [self._key(name, key, bucket_s, index) for index in range(current - BUCKETS, current + 1)]
        return keys, keys[-1], period_s + 2 * bucket_s

    def acquire(self, name: str, key: str, *, amount: int, period_s: int) -> bool:
        """Take one unit of `amount` per `period_s` for `key`; False (and nothing taken) when none is left."""
        if amount <= 0:
            return False
        keys, current_key, expiry = self._window(name, key, period_s)
        taken = self.storage.incr(current_key, expiry)
        if taken + sum(self.storage.get(k) for k in keys[:-1]) > amount:
            self.storage.incr(current_key, expiry, amount=-1)
            return False
        return True

    def remaining(self, name: str, key: str, *, amount: int, period_s: int) -> int:
        keys, _current, _expiry = self._window(name, key, period_s)
        return max(0, amount - sum(self.storage.get(k) for k in keys))

    # --- at least S seconds apart ----------------------------------------------------------------------
    def acquire_cooldown(self, name: str, key: str, *, seconds: int) -> bool:
        """True at most once every `seconds` for `key`.

        The counter holds the clock time (whole seconds) of the last success. Moving it forward is one
        atomic increment by (now - seen); when another request moved it in between, the sum is not
        `now`, the increment is given back and this request loses: exactly one of two racers wins.
        """
        if seconds <= 0:
            return True
        storage_key = self._key(name, key)
        expiry = max(seconds * 2, 3600)
        now_s = int(clock.now().timestamp())
        seen = self.storage.incr(storage_key, expiry, amount=0)
        if now_s - seen < seconds:
            return False
        moved = self.storage.incr(storage_key, expiry, amount=now_s - seen)
        if moved != now_s:
            self.storage.incr(storage_key, expiry, amount=-(now_s - seen))
            return False
        return True

    # --- N per calendar day ---------------------------------------------------------------------------
    def acquire_daily(self, name: str, key: str, *, amount: int, day: date | None = None) -> bool:
        if amount <= 0:
            return False
        day = day or clock.local_today(settings.TIME_ZONE)
        storage_key = self._key(name, key, day.isoformat())
        taken = self.storage.incr(storage_key, 2 * 24 * 3600)
        if taken > amount:
            self.storage.incr(storage_key, 2 * 24 * 3600, amount=-1)
            return False
        return True

    # --- failures with growing delays -----------------------------------------------------------------
    def login_delay(self, name: str, key: str, *, free_failures: int) -> LoginDelay:
        """The wait imposed on `key` by its recent failures: none for the first `free_failures`, then
        base * 2^(n - free) seconds up to the maximum. Never a lockout: the wait always ends."""
        failures = self.storage.get(self._key(name, "count", key))
        if failures < free_failures:
            return LoginDelay(0)
        delay = min(
            settings.SELFCARE_LOGIN_DELAY_BASE_S * 2 ** min(failures - free_failures, 30),
            settings.SELFCARE_LOGIN_DELAY_MAX_S,
        )
        last = self.storage.get(self._key(name, "last", key))
        wait = int(last + delay - clock.now().timestamp())
        return LoginDelay(max(0, wait))

    def record_login_failure(self, name: str, key: str) -> None:
        memory = settings.SELFCARE_LOGIN_FAILURE_MEMORY_S
        self.storage.incr(self._key(name, "count", key), memory)
        last_key = self._key(name, "last", key)
        now_s = int(clock.now().timestamp())
        seen = self.storage.incr(last_key, memory, amount=0)
        if now_s > seen:
            # A racing failure may move it too; the later of the two times is what matters, and an
            # over-count only lengthens the wait by one step.
            self.storage.incr(last_key, memory, amount=now_s - seen)

    def clear_login_failures(self, name: str, key: str) -> None:
        self.storage.clear(self._key(name, "count", key))
        self.storage.clear(self._key(name, "last", key))

    def reset(self) -> None:
        """Forget every counter (tests, and an operator's "unblock everything" after an incident)."""
        self.storage.reset()


def build_limiter(redis_url: str = "", *, prefix: str | None = None) -> Limiter:
    prefix = prefix if prefix is not None else settings.SELFCARE_THROTTLE_KEY_PREFIX
    storage = storage_from_string(redis_url, key_prefix=f"{prefix}-limits") if redis_url else MemoryStorage()
    if not isinstance(storage, Storage):  # an async storage (limits.aio) was named: not for WSGI code
        raise TypeError(f"{redis_url!r} is not a synchronous limits storage")
    return Limiter(storage, prefix=prefix)


@lru_cache(maxsize=1)
def get_limiter() -> Limiter:
    return build_limiter(settings.REDIS_URL)
