"""Staff edit the FAQ and answer requests in the back office, through audited writes."""

from __future__ import annotations

import pytest

from selfcare.identity.models import AuditEvent
from selfcare.notifications.models import OutboundSms
from selfcare.support import services
from selfcare.support.models import FaqEntry, SupportRequest

pytestmark = pytest.mark.django_db


def test_staff_add_a_faq_entry_in_three_languages_and_it_is_audited(backoffice, staff):
    # When staff add an entry with a question and an answer per language
    response = backoffice.post(
        "/backoffice/support/faqentry/add/",
        {
            "question_en": "How do I top up?",
            "question_ru": "Как пополнить счёт?",
            "question_fa": "چگونه شارژ کنم؟",
            "answer_en": "With a card.",
            "answer_ru": "Картой.",
            "answer_fa": "با کارت.",
            "sort_order": "5",
            "is_published": "on",
        },
    )

    # Then it is stored with the three texts and an audit row names staff
    assert response.status_code == 302
    entry = FaqEntry.objects.get()
    assert entry.question == {"en": "How do I top up?", "ru": "Как пополнить счёт?", "fa": "چگونه شارژ کنم؟"}
    assert entry.answer == {"en": "With a card.", "ru": "Картой.", "fa": "با کارت."}
    assert AuditEvent.objects.filter(action="backoffice.faqentry.add", actor=f"staff:{staff.pk}").count() == 1


def test_staff_answer_a_request_through_the_service(backoffice, staff, subscriber):
    # Given an open request
    request = services.create_request(subscriber, subject="Roaming", message="Turkey?", actor="user")
    url = f"/backoffice/support/supportrequest/{request.pk}/change/"

    # When staff open it and save an answer
    page = backoffice.get(url).content.decode()
    response = backoffice.post(url, {"answer": "Yes, in zone 2."})

    # Then they saw the message, and the request is answered by them, audited, with the SMS sent
    assert "Turkey?" in page
    assert response.status_code == 302
    stored = SupportRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.answer, stored.answered_by) == (
        "answered",
        "Yes, in zone 2.",
        f"staff:{staff.pk}",
    )
    assert AuditEvent.objects.filter(action="support.request.answer", actor=f"staff:{staff.pk}").count() == 1
    sms = OutboundSms.objects.get(template="support.answered")
    assert (sms.msisdn, sms.status) == (subscriber.msisdn, "sent")


def test_an_empty_answer_is_refused_in_the_back_office(backoffice, subscriber):
    request = services.create_request(subscriber, subject="Roaming", message="Turkey?", actor="user")

    response = backoffice.post(f"/backoffice/support/supportrequest/{request.pk}/change/", {"answer": "  "})

    assert response.status_code == 200
    assert "Write the answer in at most 4000 characters." in response.content.decode()
    assert SupportRequest.objects.get(pk=request.pk).status == "open"
    assert OutboundSms.objects.count() == 0


def test_staff_close_requests_with_the_action_and_cannot_delete_them(backoffice, staff, subscriber):
    request = services.create_request(subscriber, subject="Roaming", message="Turkey?", actor="user")

    backoffice.post(
        "/backoffice/support/supportrequest/",
        {"action": "close_requests", "_selected_action": [request.pk]},
    )

    assert SupportRequest.objects.get(pk=request.pk).status == "closed"
    assert AuditEvent.objects.filter(action="support.request.close", actor=f"staff:{staff.pk}").count() == 1
    assert backoffice.get(f"/backoffice/support/supportrequest/{request.pk}/delete/").status_code == 403
    assert backoffice.get("/backoffice/support/supportrequest/add/").status_code == 403
