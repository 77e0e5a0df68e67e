"""Background jobs of payments (huey): reconciliation, promised-payment term ends, autopay, card expiry,
and the fake acquirer's webhook delivery."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from selfcare.payments import queries, services
from selfcare.payments.providers.fake import acquirer


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]  # huey is untyped
@lock_task("payments-reconcile")  # type: ignore[untyped-decorator]
def reconcile_pending_payments() -> dict[str, int]:
    return services.reconcile_pending()


@db_periodic_task(crontab(minute="*/5"))  # type: ignore[untyped-decorator]
@lock_task("payments-promised-settle")  # type: ignore[untyped-decorator]
def settle_due_promised_payments() -> dict[str, int]:
    return services.settle_due_promised()


@db_task()  # type: ignore[untyped-decorator]
def check_autopay_later(account_id: int) -> None:
    services.check_autopay(account_id)


def queue_autopay_checks(ledger_account_ids: list[int]) -> None:
    """The ledger's balance-fell hook (registered in apps.py): right after a charge (usage, a fee,
    anything that lowered a balance) has committed, queue an autopay check for each account now
    below its threshold. The 15-minute sweep stays as the safety net for a lost job."""
    for account_id in queries.list_accounts_below_autopay_threshold(ledger_account_ids):
        check_autopay_later(account_id)


@db_periodic_task(crontab(minute="*/15"))  # type: ignore[untyped-decorator]
@lock_task("payments-autopay-sweep")  # type: ignore[untyped-decorator]
def sweep_autopay() -> int:
    return services.sweep_autopay()


@db_periodic_task(crontab(hour="10", minute="0"))  # type: ignore[untyped-decorator]
def announce_expiring_cards() -> int:
    return services.announce_expiring_cards()


@db_task()  # type: ignore[untyped-decorator]
def deliver_fake_webhooks() -> int:
    return acquirer.deliver_due()


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def deliver_late_fake_webhooks() -> int:
    return acquirer.deliver_due()
