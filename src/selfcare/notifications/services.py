"""Every write of the notifications domain: queueing an SMS and recording how its delivery went.

`queue_sms` is what other domains call, inside their own transaction: the row is written with theirs
and the send job is queued only once they commit, so a rolled-back registration sends nothing. The
job carries only the row id (the queue never sees a code); delivery blanks the text.
"""

from __future__ import annotations

import re
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import translation

from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.notifications.message_templates import MESSAGE_TEXTS, OPTIONAL_TEMPLATE_KINDS
from selfcare.notifications.models import OutboundSms, SmsKind, SmsPreference, SmsStatus
from selfcare.notifications.senders import SmsSendError, get_sender
from selfcare.notifications.senders.console import ConsoleMessage, recent_messages

log = structlog.get_logger(__name__)

E164 = re.compile(r"\+[1-9]\d{6,14}")


class SmsRetryLater(Exception):
    """Delivery failed this time and should be tried again after `delay_s` seconds."""

    def __init__(self, sms_id: int, attempt: int, delay_s: int) -> None:
        super().__init__(f"SMS {sms_id} attempt {attempt} failed; next try in {delay_s} s")
        self.delay_s = delay_s


def _language_or_default(language: str) -> str:
    code = (language or "").split("-")[0].lower()
    known = {code for code, _name in settings.LANGUAGES}
    return code if code in known else settings.LANGUAGE_CODE


def render_sms(template: str, *, params: dict[str, str], language: str) -> str:
    """The text of `template` in `language` with `params` filled in (operator name and help number
    are filled from settings unless given)."""
    try:
        source = MESSAGE_TEXTS[template]
    except KeyError:
        raise ValueError(f"unknown SMS template {template!r}") from None
    values = {
        "operator": settings.SELFCARE_OPERATOR_NAME,
        "help_number": settings.SELFCARE_HELP_NUMBER,
        **params,
    }
    with translation.override(language):
        translated = translation.gettext(source)
    try:
        return translated % values
    except KeyError as missing:
        raise ValueError(f"SMS template {template!r} needs the parameter {missing}") from None


def queue_sms(
    msisdn: str,
    *,
    template: str,
    params: dict[str, str],
    language: str,
    actor: str = "system",
) -> OutboundSms | None:
    """Record an SMS to `msisdn` (E.164) and send it in the background once the caller commits.

    The subscriber's preferences (SmsPreference) are honoured here, for every caller alike: their
    language wins over the caller's, and a template of a kind they switched off is not sent (None is
    returned and an audit row says so). Templates outside OPTIONAL_TEMPLATE_KINDS are always sent.
    """
    if not E164.fullmatch(msisdn):
        # Callers normalise numbers (kit.phone); anything else here is a programming error.
        raise ValueError("msisdn must be in E.164 form, e.g. +79001234567")
    preference = SmsPreference.objects.filter(msisdn=msisdn).first()
    kind = OPTIONAL_TEMPLATE_KINDS.get(template)
    if preference is not None and kind is not None and kind in preference.muted_kinds:
        render_sms(template, params=params, language=settings.LANGUAGE_CODE)  # a caller's bug still shows
        record_audit(
            actor,
            "sms.suppress",
            subject_type="msisdn",
            subject_id=msisdn,
            after={"template": template, "kind": kind},
            outcome="opted_out",
        )
        log.info("sms.suppressed", msisdn=msisdn, template=template, kind=kind)
        return None
    if preference is not None and preference.language:
        language = preference.language
    language = _language_or_default(language)
    text = render_sms(template, params=params, language=language)
    with transaction.atomic():
        now = clock.now()
        sms = OutboundSms.objects.create(
            msisdn=msisdn,
            template=template,
            language=language,
            text=text,
            status=SmsStatus.QUEUED,
            created_at=now,
            next_attempt_at=now,
        )
        record_audit(
            actor,
            "sms.queue",
            subject_type="outbound_sms",
            subject_id=sms.pk,
            after={"msisdn": msisdn, "template": template, "language": language},
        )
        sms_id = sms.pk
        # robust: the caller's work is committed by now; a queue outage must not turn it into an
        # error page. The row then stays "queued" and the resend sweep (resend_stuck_sms) queues it
        # again once the queue is back.
        transaction.on_commit(lambda: _enqueue_delivery(sms_id), robust=True)
    return sms


def set_sms_preferences(msisdn: str, *, language: str, muted_kinds: set[str], actor: str) -> SmsPreference:
    """Store the SMS language ("" = the caller's) and the kinds switched off for `msisdn`; audited."""
    unknown = set(muted_kinds) - set(SmsKind.values)
    if unknown:
        raise ValueError(f"unknown SMS kinds {sorted(unknown)}")
    muted = sorted(muted_kinds)
    language = _language_or_default(language) if language else ""
    with transaction.atomic():
        preference, created = SmsPreference.objects.select_for_update().get_or_create(
            msisdn=msisdn, defaults={"updated_at": clock.now()}
        )
        before = {"language": preference.language, "muted_kinds": list(preference.muted_kinds)}
        after = {"language": language, "muted_kinds": muted}
        if before == after and not created:
            return preference
        preference.language = language
        preference.muted_kinds = muted
        preference.updated_at = clock.now()
        preference.save(update_fields=["language", "muted_kinds", "updated_at"])
        record_audit(
            actor,
            "sms.preferences",
            subject_type="msisdn",
            subject_id=msisdn,
            before=before,
            after=after,
        )
    return preference


def _enqueue_delivery(sms_id: int) -> None:
    # The one upward import of the layering (allowed in pyproject.toml): services decide when the job
    # runs, tasks.py owns the huey wiring.
    from selfcare.notifications.tasks import send_outbound_sms

    send_outbound_sms(sms_id)


def retry_delay_s(attempt: int) -> int:
    """Exponential backoff after the `attempt`-th failed try, capped at an hour."""
    base: int = settings.SELFCARE_SMS_RETRY_DELAY_S
    return int(min(base * 2 ** (attempt - 1), 3600))


def deliver_sms(sms_id: int) -> OutboundSms | None:
    """Try once to hand a queued SMS to the gateway.

    Returns the updated row, or None when there is nothing to do (already sent or failed: the job may
    run twice). Raises SmsRetryLater when the try failed and attempts remain.
    """
    max_attempts: int = settings.SELFCARE_SMS_MAX_ATTEMPTS
    # Claim the message: one conditional update moves it from "queued" to "sending". Of two copies of
    # the job running at once (a redelivered job, the resend sweep's) exactly one matches; the other
    # finds nothing queued and sends nothing. The attempt count is exact under concurrency.
    now = clock.now()
    claimed = OutboundSms.objects.filter(pk=sms_id, status=SmsStatus.QUEUED).update(
        status=SmsStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return None
    sms = OutboundSms.objects.get(pk=sms_id)
    try:
        result = get_sender().send(sms.msisdn, sms.text, reference=f"sms-{sms.pk}")
    except Exception as exc:
        # Our senders raise SmsSendError with a text-free reason; for anything else only the class is
        # kept, because a library's message might quote what it was sending.
        error = f"{type(exc).__name__}: {exc}"[:300] if isinstance(exc, SmsSendError) else type(exc).__name__
        if getattr(exc, "permanent", False) or sms.attempts >= max_attempts:
            _finish(sms, status=SmsStatus.FAILED, last_error=error)
            log.warning(
                "sms.failed",
                sms_id=sms.pk,
                msisdn=sms.msisdn,
                template=sms.template,
                attempts=sms.attempts,
                error=error,
            )
            return sms
        delay = retry_delay_s(sms.attempts)
        # Back to "queued" (the claim ends), due again after the back-off.
        OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.SENDING).update(
            status=SmsStatus.QUEUED, last_error=error, next_attempt_at=clock.now() + timedelta(seconds=delay)
        )
        log.info(
            "sms.retry",
            sms_id=sms.pk,
            template=sms.template,
            attempts=sms.attempts,
            delay_s=delay,
            error=error,
        )
        raise SmsRetryLater(sms.pk, sms.attempts, delay) from None
    _finish(sms, status=SmsStatus.SENT, provider_message_id=result.provider_message_id[:100])
    # Never the text: for otp.* it is the code itself, and the others need not be in logs either.
    log.info(
        "sms.sent",
        sms_id=sms.pk,
        msisdn=sms.msisdn,
        template=sms.template,
        segments=result.segments,
        message_id=sms.provider_message_id,
    )
    return sms


def _finish(sms: OutboundSms, *, status: str, last_error: str = "", provider_message_id: str = "") -> None:
    """Record the final outcome and blank the text, so the database never keeps a code once it is sent."""
    sms.status = status
    sms.text = ""
    if status == SmsStatus.SENT:
        sms.sent_at = clock.now()
        sms.provider_message_id = provider_message_id
    else:
        sms.last_error = last_error
    sms.save(update_fields=["status", "text", "sent_at", "provider_message_id", "last_error"])


def resend_stuck_sms(*, limit: int = 1000) -> dict[str, int]:
    """The resend sweep (periodic): messages whose delivery job was lost get another one.

    A message still "queued" more than SELFCARE_SMS_RESEND_AFTER_MIN minutes after it was due (the
    queue was down when its caller committed, or the job vanished) is queued again; its due time
    moves to now, so the next sweep waits as long again. A copy of a job that was only late is
    harmless: the claim lets one of them send.

    A message "sending" for that long was claimed by a worker that died mid-send: whether the gateway
    took it is unknown, and sending again could deliver it twice, so it is marked failed
    ("interrupted") and its text blanked.
    """
    now = clock.now()
    before = now - timedelta(minutes=settings.SELFCARE_SMS_RESEND_AFTER_MIN)
    counts = {"requeued": 0, "interrupted": 0}
    stale = list(
        OutboundSms.objects.filter(status=SmsStatus.QUEUED)
        .filter(Q(next_attempt_at__lt=before) | Q(next_attempt_at__isnull=True, created_at__lt=before))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for sms_id in stale:
        # Conditional: a job that ran meanwhile has taken it, and is not given a rival.
        if not OutboundSms.objects.filter(pk=sms_id, status=SmsStatus.QUEUED).update(next_attempt_at=now):
            continue
        try:
            _enqueue_delivery(sms_id)
        except Exception:  # the queue is still down: the next sweep tries again
            log.warning("sms.resend_enqueue_failed", sms_id=sms_id)
            OutboundSms.objects.filter(pk=sms_id, status=SmsStatus.QUEUED).update(next_attempt_at=before)
            break
        counts["requeued"] += 1
    for sms in OutboundSms.objects.filter(status=SmsStatus.SENDING, claimed_at__lt=before).order_by("pk")[
        :limit
    ]:
        if OutboundSms.objects.filter(pk=sms.pk, status=SmsStatus.SENDING, claimed_at=sms.claimed_at).update(
            status=SmsStatus.FAILED, text="", last_error="interrupted: the delivery job stopped while sending"
        ):
            counts["interrupted"] += 1
            log.warning("sms.interrupted", sms_id=sms.pk, msisdn=sms.msisdn, template=sms.template)
    if any(counts.values()):
        log.info("sms.resend_sweep", **counts)
    return counts


def list_recent_console_messages(limit: int = 20) -> list[ConsoleMessage]:
    """What the console gateway sent lately, newest first (for /dev/sms and for tests)."""
    return recent_messages(limit)
