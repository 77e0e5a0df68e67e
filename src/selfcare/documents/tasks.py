"""Background jobs of company documents (huey): the month close, and drawing a document's PDF."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from selfcare.documents import services


@db_task()  # type: ignore[untyped-decorator]  # huey is untyped
def generate_document_later(document_id: int) -> None:
    services.generate_document(document_id)


# Every day at 03:40 UTC (huey runs in UTC): the last closed month's documents for
# every company. Daily rather than on the 1st only, so a missed run or a company that failed is caught
# up the next day; issuing is idempotent, so the other days issue nothing.
@db_periodic_task(crontab(hour="3", minute="40"))  # type: ignore[untyped-decorator]
@lock_task("documents-month-close")  # type: ignore[untyped-decorator]
def close_month() -> int:
    return services.close_month()
