"""Support requests: created by the subscriber, answered and closed by staff, each change audited, the
answer announced by SMS; refused input changes nothing; requests are rate-limited per subscriber."""

from __future__ import annotations

import pytest

from selfcare.identity.errors import TooManyRequests
from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.notifications.models import OutboundSms
from selfcare.support import services
from selfcare.support.errors import (
    AnswerRequired,
    LineNotOnAccount,
    MessageRequired,
    RequestClosed,
    RequestNotFound,
    SubjectRequired,
)
from selfcare.support.models import SupportRequest
from selfcare.support.queries import get_request_for, list_requests_for
from tests.concurrency import run_in_threads
from tests.factories import make_line
from tests.support.factories import make_subscriber

pytestmark = pytest.mark.django_db


def audit(request: SupportRequest) -> list[tuple[str, str, object, object]]:
    return list(
        AuditEvent.objects.filter(subject_type="support_request", subject_id=str(request.public_id))
        .order_by("id")
        .values_list("action", "actor", "before", "after")
    )


def send(
    user, subject: str = "No internet", message: str = "Since this morning.", **kwargs
) -> SupportRequest:
    return services.create_request(user, subject=subject, message=message, actor=f"user:{user.pk}", **kwargs)


def test_a_request_is_stored_open_and_audited_without_its_message(subscriber, frozen_clock):
    # When the subscriber writes about their own number
    request = send(
        subscriber, subject="  No internet ", message="Since this morning.", line_msisdn=subscriber.msisdn
    )

    # Then it is open, theirs, stamped with the clock, and the audit row names it but not the message
    stored = SupportRequest.objects.get(pk=request.pk)
    assert (stored.requester_id, stored.msisdn, stored.line_msisdn) == (
        subscriber.pk,
        subscriber.msisdn,
        subscriber.msisdn,
    )
    assert (stored.subject, stored.message, stored.status, stored.created_at) == (
        "No internet",
        "Since this morning.",
        "open",
        clock.now(),
    )
    assert audit(stored) == [
        (
            "support.request.create",
            f"user:{subscriber.pk}",
            None,
            {"status": "open", "subject": "No internet", "line": subscriber.msisdn},
        )
    ]


def test_a_request_may_name_another_line_of_the_same_account(subscriber):
    # Given a second line on the subscriber's account
    from selfcare.lines.queries import get_line_by_msisdn

    second = make_line(account=get_line_by_msisdn(subscriber.msisdn).account)

    # When they write about that line
    request = send(subscriber, line_msisdn=second.msisdn)

    # Then the request names it
    assert request.line_msisdn == second.msisdn


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"subject": "   "}, SubjectRequired),
        ({"subject": "x" * 121}, SubjectRequired),
        ({"message": ""}, MessageRequired),
        ({"message": "x" * 4001}, MessageRequired),
        ({"line_msisdn": "+79990000000"}, LineNotOnAccount),
    ],
)
def test_invalid_requests_are_refused_and_leave_nothing(subscriber, fields, error):
    # When the subscriber sends an empty or too long text, or a number not on their account
    with pytest.raises(error):
        send(subscriber, **fields)

    # Then nothing was stored or audited
    assert SupportRequest.objects.count() == 0
    assert AuditEvent.objects.filter(action__startswith="support.").count() == 0


def test_a_line_of_another_account_is_refused(subscriber, other):
    # When the subscriber names somebody else's number
    with pytest.raises(LineNotOnAccount):
        send(subscriber, line_msisdn=other.msisdn)

    # Then nothing was stored
    assert SupportRequest.objects.count() == 0


def test_requests_are_limited_per_subscriber_per_hour(subscriber, other, frozen_clock):
    # Given a subscriber who sent the hour's five requests
    for index in range(services.REQUESTS_PER_HOUR):
        send(subscriber, subject=f"Question {index}")

    # When they send a sixth
    with pytest.raises(TooManyRequests):
        send(subscriber, subject="One more")

    # Then it was refused without a trace, while another subscriber may still write
    assert SupportRequest.objects.filter(requester=subscriber).count() == 5
    send(other)
    # and an hour later the subscriber may write again
    from datetime import timedelta

    clock.advance(timedelta(hours=1, minutes=7))
    send(subscriber, subject="Next hour")
    assert SupportRequest.objects.filter(requester=subscriber).count() == 6


def test_an_invalid_request_does_not_use_up_the_limit(subscriber, frozen_clock):
    # Given many refused attempts (empty subject)
    for _attempt in range(10):
        with pytest.raises(SubjectRequired):
            send(subscriber, subject="")

    # When the subscriber then writes properly
    request = send(subscriber)

    # Then it goes through
    assert request.status == "open"


def test_answering_sets_the_status_audits_and_sends_the_sms_in_the_subscribers_language(frozen_clock):
    # Given a Russian-speaking subscriber's open request
    subscriber = make_subscriber(language="ru")
    request = send(subscriber)

    # When staff answer it
    answered = services.answer_request(request, answer="  Restart the phone, please. ", actor="staff:3")

    # Then it is answered by staff now, audited, and one SMS in Russian tells the subscriber
    stored = SupportRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.answer, stored.answered_by, stored.answered_at) == (
        "answered",
        "Restart the phone, please.",
        "staff:3",
        clock.now(),
    )
    assert answered.pk == stored.pk
    assert audit(stored)[-1] == (
        "support.request.answer",
        "staff:3",
        {"status": "open", "answered": False},
        {"status": "answered", "answered": True},
    )
    sms = list(OutboundSms.objects.filter(msisdn=subscriber.msisdn).values_list("template", "language"))
    assert sms == [("support.answered", "ru")]
    assert "ответили" in OutboundSms.objects.get(msisdn=subscriber.msisdn).text


def test_the_same_answer_twice_sends_one_sms_and_a_corrected_answer_another(subscriber):
    # Given an answered request
    request = send(subscriber)
    services.answer_request(request, answer="Restart the phone.", actor="staff:3")

    # When staff save the same answer again, then a corrected one
    services.answer_request(request, answer="Restart the phone.", actor="staff:3")
    services.answer_request(request, answer="Restart the phone, then call 636.", actor="staff:3")

    # Then two SMS went out and two answers were audited
    assert OutboundSms.objects.filter(template="support.answered").count() == 2
    assert [row[0] for row in audit(request)] == [
        "support.request.create",
        "support.request.answer",
        "support.request.answer",
    ]
    assert SupportRequest.objects.get(pk=request.pk).answer == "Restart the phone, then call 636."


def test_an_empty_answer_is_refused(subscriber):
    # Given an open request
    request = send(subscriber)

    # When staff send an empty answer
    with pytest.raises(AnswerRequired):
        services.answer_request(request, answer="  ", actor="staff:3")

    # Then it stays open and unanswered, with no SMS
    assert SupportRequest.objects.get(pk=request.pk).status == "open"
    assert OutboundSms.objects.count() == 0


def test_closing_is_audited_and_a_closed_request_cannot_be_answered(subscriber, frozen_clock):
    # Given an answered request that staff close
    request = send(subscriber)
    services.answer_request(request, answer="Done.", actor="staff:3")
    services.close_request(request, actor="staff:3")

    # When staff try to answer it again, and close it again
    with pytest.raises(RequestClosed):
        services.answer_request(request, answer="Something else.", actor="staff:3")
    services.close_request(request, actor="staff:3")

    # Then it is closed with the first answer, closed once in the audit log, and one SMS went out
    stored = SupportRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.answer, stored.closed_by, stored.closed_at) == (
        "closed",
        "Done.",
        "staff:3",
        clock.now(),
    )
    assert [row[0] for row in audit(request)].count("support.request.close") == 1
    assert OutboundSms.objects.filter(template="support.answered").count() == 1


def test_only_the_requester_can_read_or_close_a_request(subscriber, other):
    # Given a request of the subscriber
    request = send(subscriber)

    # When another subscriber asks for it or tries to close it
    with pytest.raises(RequestNotFound):
        get_request_for(other, request.public_id)
    with pytest.raises(RequestNotFound):
        services.close_own_request(other, request.public_id, actor=f"user:{other.pk}")

    # Then they see none of it, and it is still open
    assert list_requests_for(other) == []
    assert SupportRequest.objects.get(pk=request.pk).status == "open"
    assert get_request_for(subscriber, request.public_id).pk == request.pk


def test_an_unreadable_id_is_not_found(subscriber):
    with pytest.raises(RequestNotFound):
        get_request_for(subscriber, "not-a-uuid")


@pytest.mark.django_db(transaction=True)
def test_the_hourly_limit_holds_under_concurrent_requests():
    # Given a subscriber
    subscriber = make_subscriber()

    # When ten requests arrive at the same moment
    results = run_in_threads(10, lambda i: send(subscriber, subject=f"Q{i}"), exceptions_as_results=True)

    # Then exactly the hour's allowance went through and the rest were refused
    assert sum(isinstance(r, SupportRequest) for r in results) == services.REQUESTS_PER_HOUR
    assert sum(isinstance(r, TooManyRequests) for r in results) == 10 - services.REQUESTS_PER_HOUR
    assert SupportRequest.objects.count() == services.REQUESTS_PER_HOUR
