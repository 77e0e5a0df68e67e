"""The billing schedule (huey; crontabs are in UTC, the services work in the operator's local time).

The fee job runs every hour: the first run after local midnight charges the new day's (and month's)
fees; later runs find everything recorded and only pick up lines activated or unblocked since.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from selfcare.billing import changes, services


@db_periodic_task(crontab(minute="5"))  # type: ignore[untyped-decorator]  # huey is untyped
def charge_recurring_fees() -> None:
    services.charge_fees()


@db_periodic_task(crontab(minute="*/15"))  # type: ignore[untyped-decorator]
def settle_debts_sweep() -> None:
    services.settle_all_debts()


@db_task()  # type: ignore[untyped-decorator]
def settle_account_debts(account_id: int) -> None:
    """For callers that would rather queue the settlement than run it in their request."""
    services.settle_debts(account_id)


@db_periodic_task(crontab(minute="35", hour="*/6"))  # type: ignore[untyped-decorator]
def purge_expired_black_lists() -> None:
    """Numbers of a black list switched off more than SELFCARE_BLACK_LIST_RETENTION_DAYS ago go."""
    changes.purge_expired_black_lists()
