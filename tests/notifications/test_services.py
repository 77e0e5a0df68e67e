"""queue_sms and delivery: rendering, on-commit queueing, blanking the text, retries, no codes in logs."""

# ruff: noqa: RUF001 - the expected Russian texts are Cyrillic on purpose

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from huey.contrib.djhuey import HUEY

from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.notifications import services
from selfcare.notifications.models import OutboundSms, SmsStatus
from tests.concurrency import run_in_threads
from tests.notifications.conftest import FlakySender, GateSender

CODE = "404142"
NUMBER = "+79001234567"

ZWNJ = "\u200c"  # the zero-width non-joiner inside Persian words (ثبت‌نام, هیچ‌کس)
EXPECTED_TEXTS = {
    ("otp.registration", "en"): "Your Selfcare Mobile registration code: 404142. Do not tell it to anyone.",
    ("otp.registration", "ru"): "Код регистрации в Selfcare Mobile: 404142. Никому его не сообщайте.",
    ("otp.registration", "fa"): (
        f"کد ثبت{ZWNJ}نام شما در Selfcare Mobile: 404142. آن را به هیچ{ZWNJ}کس نگویید."
    ),
    ("otp.login", "en"): "Your Selfcare Mobile sign-in code: 404142. Do not tell it to anyone.",
    ("otp.login", "ru"): "Код входа в Selfcare Mobile: 404142. Никому его не сообщайте.",
    ("otp.login", "fa"): f"کد ورود شما به Selfcare Mobile: 404142. آن را به هیچ{ZWNJ}کس نگویید.",
    ("otp.reset", "en"): "Your Selfcare Mobile password reset code: 404142. Do not tell it to anyone.",
    ("otp.reset", "ru"): "Код сброса пароля Selfcare Mobile: 404142. Никому его не сообщайте.",
    ("otp.reset", "fa"): f"کد بازنشانی گذرواژهٔ Selfcare Mobile: 404142. آن را به هیچ{ZWNJ}کس نگویید.",
    ("otp.confirm", "en"): "Your Selfcare Mobile confirmation code: 404142. Do not tell it to anyone.",
    ("otp.confirm", "ru"): "Код подтверждения Selfcare Mobile: 404142. Никому его не сообщайте.",
    ("otp.confirm", "fa"): f"کد تأیید Selfcare Mobile: 404142. آن را به هیچ{ZWNJ}کس نگویید.",
    ("security.new_sign_in", "en"): (
        "Selfcare Mobile: new sign-in to your account from Firefox on Linux. "
        "If it was not you, change your password."
    ),
    ("security.new_sign_in", "ru"): (
        "Selfcare Mobile: новый вход в ваш кабинет с устройства Firefox on Linux. "
        "Если это были не вы, смените пароль."
    ),
    ("security.new_sign_in", "fa"): (
        "Selfcare Mobile: ورود تازه به حساب شما از Firefox on Linux. "
        f"اگر شما نبودید، گذرواژه{ZWNJ}تان را تغییر دهید."
    ),
    ("security.password_changed", "en"): (
        "Selfcare Mobile: your password was changed. If it was not you, call 636."
    ),
    ("security.password_changed", "ru"): (
        "Selfcare Mobile: ваш пароль изменён. Если это были не вы, позвоните по номеру 636."
    ),
    ("security.password_changed", "fa"): (
        "Selfcare Mobile: گذرواژهٔ شما تغییر کرد. اگر شما نبودید، با 636 تماس بگیرید."
    ),
}
PARAMS = {"code": CODE, "device": "Firefox on Linux"}


def run_scheduled_retries() -> int:
    """Run every retry huey has scheduled (in immediate mode they wait in its memory storage)."""
    ran = 0
    far_future = datetime.now(tz=UTC).replace(tzinfo=None) + timedelta(days=1)
    while tasks := HUEY.read_schedule(far_future):
        for task in tasks:
            HUEY.execute(task, timestamp=far_future)
            ran += 1
    return ran


@pytest.fixture(autouse=True)
def empty_huey_schedule() -> None:
    HUEY.storage.flush_schedule()


@pytest.mark.parametrize(("template", "language"), sorted(EXPECTED_TEXTS))
def test_render_sms_translates_each_template(template: str, language: str) -> None:
    # given the template and the recipient's language / when rendered / then the exact text
    rendered = services.render_sms(template, params=PARAMS, language=language)
    assert rendered == EXPECTED_TEXTS[template, language]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ru", "fa"])
def test_queue_sms_stores_the_rendered_text_until_commit(language: str, frozen_clock: Any) -> None:
    # given nothing queued / when queueing inside a transaction that has not committed yet
    sms = services.queue_sms(
        NUMBER, template="otp.login", params={"code": CODE}, language=language, actor="user:7"
    )
    # then the row holds the translated text, waiting for the commit to be sent
    row = OutboundSms.objects.get(pk=sms.pk)
    assert (row.msisdn, row.template, row.language, row.status, row.attempts) == (
        NUMBER,
        "otp.login",
        language,
        SmsStatus.QUEUED,
        0,
    )
    assert row.text == EXPECTED_TEXTS["otp.login", language]
    assert row.created_at == frozen_clock.now()
    audit = AuditEvent.objects.get(action="sms.queue")
    assert (audit.actor, audit.subject_id, audit.after) == (
        "user:7",
        str(sms.pk),
        {"msisdn": NUMBER, "template": "otp.login", "language": language},
    )


@pytest.mark.django_db
def test_unknown_language_falls_back_to_the_default_language() -> None:
    # given a language the operator does not offer / when queueing / then English (LANGUAGE_CODE) is used
    sms = services.queue_sms(NUMBER, template="otp.login", params={"code": CODE}, language="de-AT")
    assert (sms.language, sms.text) == ("en", EXPECTED_TEXTS["otp.login", "en"])


@pytest.mark.django_db
def test_unknown_template_missing_parameter_or_local_number_is_refused_and_nothing_is_stored() -> None:
    # given a misspelt template, a template without its parameter, a number not in E.164
    # when queueing / then refused
    with pytest.raises(ValueError, match=r"unknown SMS template 'otp\.signin'"):
        services.queue_sms(NUMBER, template="otp.signin", params={"code": CODE}, language="en")
    with pytest.raises(ValueError, match="needs the parameter 'device'"):
        services.queue_sms(NUMBER, template="security.new_sign_in", params={}, language="en")
    with pytest.raises(ValueError, match=r"E\.164 form"):
        services.queue_sms("89001234567", template="otp.login", params={"code": CODE}, language="en")
    assert OutboundSms.objects.count() == 0


@pytest.mark.django_db
def test_send_job_runs_after_commit_and_blanks_the_text(
    django_capture_on_commit_callbacks: Any, frozen_clock: Any
) -> None:
    # given an SMS queued in the caller's transaction
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sms = services.queue_sms(NUMBER, template="otp.registration", params={"code": CODE}, language="fa")
    # then nothing is sent before the commit
    assert len(callbacks) == 1
    assert services.list_recent_console_messages() == []
    # when the caller commits (the job runs inline in immediate mode)
    callbacks[0]()
    # then the gateway got the text, and the database keeps everything but the text
    [delivered] = services.list_recent_console_messages()
    assert (delivered.msisdn, delivered.text) == (NUMBER, EXPECTED_TEXTS["otp.registration", "fa"])
    sms.refresh_from_db()
    assert (sms.status, sms.text, sms.attempts, sms.last_error) == (SmsStatus.SENT, "", 1, "")
    assert sms.provider_message_id == delivered.provider_message_id == f"console-{delivered.sequence}"
    assert sms.sent_at == frozen_clock.now()
    assert sms.template == "otp.registration"


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_when_the_callers_transaction_rolls_back() -> None:
    # given a caller whose work fails after it queued the SMS
    class CallerFailed(Exception):
        pass

    # when its transaction rolls back
    def register_then_fail() -> None:
        with transaction.atomic():
            services.queue_sms(NUMBER, template="otp.login", params={"code": CODE}, language="en")
            raise CallerFailed

    with pytest.raises(CallerFailed):
        register_then_fail()
    # then there is no row and nothing reached the gateway
    assert OutboundSms.objects.count() == 0
    assert services.list_recent_console_messages() == []


@pytest.mark.django_db(transaction=True)
def test_queue_sms_outside_a_transaction_sends_at_once() -> None:
    # given no surrounding transaction (autocommit) / when queueing / then it is sent when queue_sms returns
    sms = services.queue_sms(NUMBER, template="otp.login", params={"code": CODE}, language="en")
    sms.refresh_from_db()
    assert (sms.status, sms.text) == (SmsStatus.SENT, "")
    assert [m.text for m in services.list_recent_console_messages()] == [EXPECTED_TEXTS["otp.login", "en"]]


@pytest.mark.django_db(transaction=True)
def test_a_busy_gateway_is_retried_with_backoff_until_the_last_attempt_fails(settings: Any) -> None:
    # given a gateway that stays busy and three attempts allowed
    settings.SELFCARE_SMS_BACKEND = "tests.notifications.conftest.BusySender"
    settings.SELFCARE_SMS_MAX_ATTEMPTS = 3
    # when the SMS is queued (first try at commit)
    sms = services.queue_sms(NUMBER, template="otp.login", params={"code": CODE}, language="en")
    # then it waits for a retry, with its text still there to send
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == (SmsStatus.QUEUED, 1, "SmsSendError: SMSC busy")
    assert sms.text == EXPECTED_TEXTS["otp.login", "en"]
    # when huey runs the scheduled retries
    assert run_scheduled_retries() == 2
    # then the third failure is final and the text is gone
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.text, sms.sent_at) == (SmsStatus.FAILED, 3, "", None)
    assert sms.last_error == "SmsSendError: SMSC busy"


def test_retry_delays_grow_exponentially_up_to_an_hour(settings: Any) -> None:
    # given a 10 s base delay / when computing the delay after each failed attempt / then it doubles, capped
    settings.SELFCARE_SMS_RETRY_DELAY_S = 10
    delays = [services.retry_delay_s(attempt) for attempt in (1, 2, 3, 4, 9, 10)]
    assert delays == [10, 20, 40, 80, 2560, 3600]


@pytest.mark.django_db(transaction=True)
def test_a_flaky_gateway_delivers_on_the_retry(flaky_sender: type[FlakySender]) -> None:
    # given a gateway that fails once / when the SMS is queued and the retry runs
    sms = services.queue_sms(NUMBER, template="otp.reset", params={"code": CODE}, language="ru")
    assert run_scheduled_retries() == 1
    # then it was delivered once, with our stable reference, and the row is complete
    assert flaky_sender.delivered == [(NUMBER, EXPECTED_TEXTS["otp.reset", "ru"], f"sms-{sms.pk}")]
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.text, sms.provider_message_id) == (SmsStatus.SENT, 2, "", "flaky-2")
    assert sms.last_error == "SmsSendError: connection reset"


@pytest.mark.django_db(transaction=True)
def test_a_permanent_refusal_is_not_retried(settings: Any) -> None:
    # given a gateway that refuses the number / when queued
    settings.SELFCARE_SMS_BACKEND = "tests.notifications.conftest.RefusingSender"
    sms = services.queue_sms(NUMBER, template="otp.login", params={"code": CODE}, language="en")
    # then it fails at the first attempt and no retry is scheduled
    assert run_scheduled_retries() == 0
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.text, sms.last_error) == (
        SmsStatus.FAILED,
        1,
        "",
        "SmsSendError: number refused",
    )


@pytest.mark.django_db(transaction=True)
def test_an_unexpected_gateway_error_keeps_only_its_class(settings: Any, caplog: Any) -> None:
    # given a gateway library whose exception quotes the text (and so the code)
    settings.SELFCARE_SMS_BACKEND = "tests.notifications.conftest.CrashingSender"
    settings.SELFCARE_SMS_MAX_ATTEMPTS = 2
    caplog.set_level(logging.DEBUG)
    # when the SMS is tried until it fails for good
    sms = services.queue_sms(NUMBER, template="otp.login", params={"code": CODE}, language="en")
    run_scheduled_retries()
    # then neither the row nor any log line holds the code
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error, sms.text) == (SmsStatus.FAILED, 2, "RuntimeError", "")
    assert caplog.records
    assert CODE not in caplog.text
    assert all(CODE not in str(record.msg) and CODE not in str(record.args) for record in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_second_copy_of_the_job_sends_nothing() -> None:
    # given an SMS already delivered / when its job runs again (a duplicate from the queue)
    sms = services.queue_sms(NUMBER, template="otp.login", params={"code": CODE}, language="en")
    result = services.deliver_sms(sms.pk)
    # then nothing more is sent and the row is unchanged
    assert result is None
    assert len(services.list_recent_console_messages()) == 1
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (SmsStatus.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_the_code_never_reaches_the_logs_or_the_stored_row(caplog: Any) -> None:
    # given every logger at DEBUG / when every OTP template is queued and sent
    caplog.set_level(logging.DEBUG)
    for template in ("otp.registration", "otp.login", "otp.reset", "otp.confirm"):
        services.queue_sms(NUMBER, template=template, params={"code": CODE}, language="fa")
    # then the log lines name the sends but never hold the code, and no row holds it either
    assert any("sms.sent" in str(record.msg) for record in caplog.records)
    assert CODE not in caplog.text
    assert list(OutboundSms.objects.values_list("status", "text")) == [(SmsStatus.SENT, "")] * 4


# --- The claim ("sending") and the resend sweep ---------------------------------------------------------


def queued_row(*, created_at: datetime | None = None, **fields: Any) -> OutboundSms:
    """An SMS left queued without a delivery job (the queue was down when its caller committed)."""
    moment = created_at or clock.now()
    values: dict[str, Any] = {
        "msisdn": NUMBER,
        "template": "otp.login",
        "language": "en",
        "text": EXPECTED_TEXTS["otp.login", "en"],
        "status": SmsStatus.QUEUED,
        "created_at": moment,
        "next_attempt_at": moment,
        **fields,
    }
    return OutboundSms.objects.create(**values)


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_sms_at_once_send_it_once(gate_sender: type[GateSender]) -> None:
    # given an SMS left queued, and two copies of its delivery job (the first job was late, the resend
    # sweep queued another) starting at the same instant; the gateway holds the first send open until
    # the other copy has finished
    sms = queued_row()

    def deliver(_index: int) -> bool:
        result = services.deliver_sms(sms.pk)
        if result is None:
            gate_sender.release.set()
        return result is not None

    # when both run
    outcomes = run_in_threads(2, deliver)

    # then exactly one claimed it and the gateway took it once
    assert sorted(outcomes) == [False, True]
    assert gate_sender.sent == [f"sms-{sms.pk}"]
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.text) == (SmsStatus.SENT, 1, "")


@pytest.mark.django_db
def test_while_a_job_is_sending_another_copy_finds_nothing_to_do(frozen_clock: Any) -> None:
    # given an SMS claimed by a job that is handing it to the gateway right now
    sms = queued_row()
    OutboundSms.objects.filter(pk=sms.pk).update(status=SmsStatus.SENDING, attempts=1, claimed_at=clock.now())

    # when a second copy of the job runs
    result = services.deliver_sms(sms.pk)

    # then it sends nothing and changes nothing
    assert result is None
    assert services.list_recent_console_messages() == []
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (SmsStatus.SENDING, 1)


@pytest.mark.django_db
def test_the_resend_sweep_sends_what_lost_its_job_and_leaves_the_rest(
    frozen_clock: Any, settings: Any
) -> None:
    # given (resend after 10 minutes) messages in every state
    settings.SELFCARE_SMS_RESEND_AFTER_MIN = 10
    now = clock.now()
    lost = queued_row(created_at=now - timedelta(minutes=30))
    fresh = queued_row(created_at=now - timedelta(minutes=2))
    backing_off = queued_row(
        created_at=now - timedelta(minutes=40), attempts=3, next_attempt_at=now + timedelta(minutes=5)
    )
    before_the_claim_existed = queued_row(created_at=now - timedelta(minutes=30), next_attempt_at=None)
    interrupted = queued_row(
        created_at=now - timedelta(minutes=30),
        status=SmsStatus.SENDING,
        attempts=1,
        claimed_at=now - timedelta(minutes=20),
    )
    sending_now = queued_row(status=SmsStatus.SENDING, attempts=1, claimed_at=now - timedelta(seconds=5))

    # when the sweep runs, and again five minutes later
    first = services.resend_stuck_sms()
    with clock.frozen(now + timedelta(minutes=5)):
        second = services.resend_stuck_sms()

    # then the two messages whose job was lost are sent (once), the one sending for 20 minutes is
    # given up without a second send, and the others are left to their own jobs
    assert first == {"requeued": 2, "interrupted": 1}
    assert second == {"requeued": 0, "interrupted": 0}
    assert len(services.list_recent_console_messages()) == 2
    statuses = dict(OutboundSms.objects.values_list("pk", "status"))
    assert statuses == {
        lost.pk: SmsStatus.SENT,
        fresh.pk: SmsStatus.QUEUED,
        backing_off.pk: SmsStatus.QUEUED,
        before_the_claim_existed.pk: SmsStatus.SENT,
        interrupted.pk: SmsStatus.FAILED,
        sending_now.pk: SmsStatus.SENDING,
    }
    interrupted.refresh_from_db()
    assert (interrupted.text, interrupted.last_error) == (
        "",
        "interrupted: the delivery job stopped while sending",
    )


@pytest.mark.django_db
def test_a_failed_try_goes_back_to_queued_due_after_its_back_off(frozen_clock: Any, settings: Any) -> None:
    # given a busy gateway and a first retry delay of 10 s
    settings.SELFCARE_SMS_BACKEND = "tests.notifications.conftest.BusySender"
    settings.SELFCARE_SMS_RETRY_DELAY_S = 10
    sms = queued_row()

    # when a delivery fails
    with pytest.raises(services.SmsRetryLater):
        services.deliver_sms(sms.pk)

    # then the claim ends: queued again, due in 10 s, so the resend sweep leaves it to huey's retry
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.next_attempt_at, sms.claimed_at) == (
        SmsStatus.QUEUED,
        1,
        clock.now() + timedelta(seconds=10),
        clock.now(),
    )
    assert services.resend_stuck_sms() == {"requeued": 0, "interrupted": 0}
