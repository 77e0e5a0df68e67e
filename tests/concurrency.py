"""Running one piece of work in many threads released at the same instant (concurrency tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_in_threads(
    count: int, work: Callable[[int], Any], *, exceptions_as_results: bool = False
) -> list[Any]:
    """Run `work(i)` for i in range(count), each in its own thread, all released by one barrier.

    Each thread closes its own database connection at the end (Django opens one per thread).
    By default the first failure is re-raised in the calling thread; with `exceptions_as_results`
    the exception raised by `work(i)` is returned in place of its result, for tests that count
    outcomes (one success, the rest refused).
    """
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # handed to the calling thread, as a result or re-raised there
            if exceptions_as_results:
                results[index] = exc
            else:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
