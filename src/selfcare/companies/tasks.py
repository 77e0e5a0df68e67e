"""Background jobs of companies (huey)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from selfcare.companies import bulk

# --- Bulk requests ----------------------------------------------------------------------------------


@db_task()  # type: ignore[untyped-decorator]  # huey is untyped
def run_bulk_request_later(request_id: int) -> None:
    bulk.run_bulk_request(request_id)


@db_periodic_task(crontab(minute="*/5"))  # type: ignore[untyped-decorator]
@lock_task("companies-bulk-requeue")  # type: ignore[untyped-decorator]
def requeue_stale_bulk_requests() -> int:
    return bulk.requeue_stale_bulk_requests()
