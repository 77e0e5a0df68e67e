"""Periodic jobs of the usage domain."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from selfcare.usage import services


# Periods start at local midnight (daily) and on the 1st (monthly). Every quarter of an hour covers
# every time zone offset in use; a run that finds every bucket open creates nothing. Rating creates
# a missing bucket on its own too, so a late or skipped run never loses an allowance.
@db_periodic_task(crontab(minute="*/15"))  # type: ignore[untyped-decorator]  # huey is untyped
def reset_buckets_task() -> int:
    return services.reset_buckets()
