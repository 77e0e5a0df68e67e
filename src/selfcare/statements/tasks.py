"""Background jobs of statements (huey): making a document, and deleting documents past retention."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from selfcare.statements import services


@db_task()  # type: ignore[untyped-decorator]  # huey is untyped
def generate_statement_later(order_id: int) -> None:
    services.generate_statement(order_id)


@db_periodic_task(crontab(minute="17"))  # type: ignore[untyped-decorator]
@lock_task("statements-purge")  # type: ignore[untyped-decorator]
def purge_expired_statements() -> int:
    return services.purge_expired_statements()


@db_periodic_task(crontab(minute="*/5"))  # type: ignore[untyped-decorator]
@lock_task("statements-requeue")  # type: ignore[untyped-decorator]
def requeue_stalled_statements() -> int:
    return services.requeue_stalled_statements()
