"""The limiter on both storages: memory (the default) and the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from selfcare.identity.throttles import Limiter, build_limiter
from tests.conftest import require_service

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[Limiter]:
    if request.param == "redis":
        require_service("Redis at 127.0.0.1:6379", redis_available())
        built = build_limiter(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:12]}")
    else:
        built = build_limiter("", prefix="test")
    yield built
    built.reset()


def test_n_per_period_is_a_sliding_window(limiter, frozen_clock):
    # Given a limit of 3 per 10 minutes, with 3 taken at 09:00, 09:01 and 09:02
    taken = []
    for _ in range(3):
        taken.append(limiter.acquire("t", "k", amount=3, period_s=600))
        frozen_clock.advance(timedelta(minutes=1))

    # When more are asked at 09:03, 09:10 and 09:11
    at_0903 = limiter.acquire("t", "k", amount=3, period_s=600)
    frozen_clock.advance(timedelta(minutes=7))
    at_0910 = limiter.acquire("t", "k", amount=3, period_s=600)
    frozen_clock.advance(timedelta(minutes=1))
    at_0911 = limiter.acquire("t", "k", amount=3, period_s=600)

    # Then nothing passes until the first one is more than 10 minutes old
    assert taken == [True, True, True]
    assert at_0903 is False
    assert at_0910 is False
    assert at_0911 is True
    assert limiter.remaining("t", "other", amount=3, period_s=600) == 3


def test_a_refused_request_takes_nothing(limiter, frozen_clock):
    # Given a limit of 1 per minute, taken
    assert limiter.acquire("t", "k", amount=1, period_s=60) is True

    # When it is hammered 50 times
    refused = [limiter.acquire("t", "k", amount=1, period_s=60) for _ in range(50)]
    frozen_clock.advance(timedelta(seconds=67))

    # Then the hammering did not extend the wait
    assert refused == [False] * 50
    assert limiter.acquire("t", "k", amount=1, period_s=60) is True


def test_cooldown_is_exact_to_the_second(limiter, frozen_clock):
    first = limiter.acquire_cooldown("c", "k", seconds=60)
    frozen_clock.advance(timedelta(seconds=59))
    early = limiter.acquire_cooldown("c", "k", seconds=60)
    frozen_clock.advance(timedelta(seconds=1))
    on_time = limiter.acquire_cooldown("c", "k", seconds=60)
    assert (first, early, on_time) == (True, False, True)


def test_cooldown_lets_exactly_one_of_many_simultaneous_requests_through(limiter, frozen_clock):
    # Given 20 threads asking at the same instant
    barrier = threading.Barrier(20)
    results: list[bool] = []

    def ask() -> None:
        barrier.wait()
        results.append(limiter.acquire_cooldown("c", "race", seconds=60))

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then one wins
    assert sorted(results) == [False] * 19 + [True]


def test_daily_cap_follows_the_operators_calendar_day(limiter, frozen_clock):
    # Given a cap of 2 a day, used up at 09:00 Moscow time
    used = [limiter.acquire_daily("d", "+7900", amount=2) for _ in range(3)]

    # When the next local day starts (15 h later)
    frozen_clock.advance(timedelta(hours=15))
    next_day = limiter.acquire_daily("d", "+7900", amount=2)

    assert used == [True, True, False]
    assert next_day is True


def test_login_delays_grow_and_always_end(limiter, frozen_clock, settings):
    # Given 2 free failures, a base delay of 2 s and a maximum of 10 s
    settings.SELFCARE_LOGIN_DELAY_BASE_S = 2
    settings.SELFCARE_LOGIN_DELAY_MAX_S = 10
    waits = []
    for _ in range(6):
        limiter.record_login_failure("l", "k")
        waits.append(limiter.login_delay("l", "k", free_failures=2).wait_s)

    # When the maximum has passed
    frozen_clock.advance(timedelta(seconds=10))
    after = limiter.login_delay("l", "k", free_failures=2).wait_s
    limiter.clear_login_failures("l", "k")

    # Then the waits doubled up to the cap, and nothing is left after the wait or a success
    assert waits == [0, 2, 4, 8, 10, 10]
    assert after == 0
    assert limiter.login_delay("l", "k", free_failures=0).wait_s == 0
