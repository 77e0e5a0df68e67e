"""Background delivery of queued SMS (huey)."""

from __future__ import annotations

from django.conf import settings
from huey import RetryTask, crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from selfcare.notifications import services


# `retries` is only a ceiling here: deliver_sms counts attempts in the row and marks the message
# failed after the last one, so the schedule of tries (exponential backoff) is decided there.
@db_task(retries=settings.SELFCARE_SMS_MAX_ATTEMPTS)  # type: ignore[untyped-decorator]  # huey is untyped
def send_outbound_sms(sms_id: int) -> None:
    try:
        services.deliver_sms(sms_id)
    except services.SmsRetryLater as later:
        raise RetryTask(str(later), delay=later.delay_s) from None


@db_periodic_task(crontab(minute="*/5"))  # type: ignore[untyped-decorator]
@lock_task("notifications-resend-sweep")  # type: ignore[untyped-decorator]
def resend_stuck_sms() -> dict[str, int]:
    return services.resend_stuck_sms()
