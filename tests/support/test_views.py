"""The help pages: public help number and FAQ; the subscriber's own requests (anybody else's is 404),
the request form (CSRF, rate limit), and closing."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from selfcare.identity.models import AuditEvent
from selfcare.support import services
from selfcare.support.models import SupportRequest
from tests.support.conftest import CommittingClient
from tests.support.factories import make_faq

pytestmark = pytest.mark.django_db


def test_the_help_page_shows_the_help_number_and_the_published_faq_in_order(settings):
    # Given a help number and three FAQ entries, one not published
    settings.SELFCARE_HELP_NUMBER = "636"
    make_faq({"en": "Second?", "ru": "Второй?"}, {"en": "Two."}, sort_order=20)
    make_faq({"en": "First?"}, {"en": "One.\nReally."}, sort_order=10)
    make_faq({"en": "Draft?"}, {"en": "Not yet."}, is_published=False)

    # When anyone opens /help/, in English and in Russian
    english = Client().get("/help/").content.decode()
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/help/").content.decode()

    # Then the number and the published questions show, in their order and language
    assert 'href="tel:636" data-testid="help-number"' in english
    assert english.index("First?") < english.index("Second?")
    assert "One.<br>Really." in english
    assert "Draft?" not in english
    assert "Второй?" in russian
    assert "First?" in russian  # no Russian text: the English one


def test_without_a_help_number_the_page_shows_none(settings):
    settings.SELFCARE_HELP_NUMBER = ""
    assert 'data-testid="help-number"' not in Client().get("/help/").content.decode()


def test_sending_a_request_from_the_form(web, subscriber):
    # When the subscriber fills in the form about their number
    form = web.get("/help/requests/new/")
    response = web.post(
        "/help/requests/new/",
        {"subject": "Roaming", "message": "Does my tariff work in Turkey?", "line": subscriber.msisdn},
    )

    # Then the request is stored and they land on its page, which shows it open
    assert form.status_code == 200
    request = SupportRequest.objects.get()
    assert (request.subject, request.line_msisdn, request.status) == ("Roaming", subscriber.msisdn, "open")
    assert response.status_code == 302
    assert response["Location"] == f"/help/requests/{request.public_id}/"
    page = web.get(response["Location"]).content.decode()
    assert 'data-testid="request-status">Open<' in page
    assert "Does my tariff work in Turkey?" in page


def test_an_empty_form_is_refused_with_messages_and_stores_nothing(web):
    response = web.post("/help/requests/new/", {"subject": "", "message": ""})

    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 2
    assert SupportRequest.objects.count() == 0


def test_the_form_is_rate_limited(web):
    # Given a subscriber who sent the hour's allowance of requests
    for index in range(services.REQUESTS_PER_HOUR):
        web.post("/help/requests/new/", {"subject": f"Q{index}", "message": "?"})

    # When they send one more
    response = web.post("/help/requests/new/", {"subject": "One more", "message": "?"})

    # Then it is refused with 429 and a message, and nothing more was stored
    assert response.status_code == 429
    assert "Too many requests. Please try again later." in response.content.decode()
    assert SupportRequest.objects.count() == services.REQUESTS_PER_HOUR


def test_the_form_needs_the_csrf_token(subscriber):
    # Given a signed-in browser that enforces CSRF (as real ones do)
    browser = CommittingClient(enforce_csrf_checks=True)
    browser.force_login(subscriber)

    # When another site posts the form
    response = browser.post("/help/requests/new/", {"subject": "Hi", "message": "Spam"})

    # Then it is refused
    assert response.status_code == 403
    assert SupportRequest.objects.count() == 0


def test_the_list_shows_only_the_subscribers_own_requests(web, subscriber, other):
    # Given one request of the subscriber and one of another subscriber
    services.create_request(subscriber, subject="Mine", message="?", actor="user")
    services.create_request(other, subject="Theirs", message="?", actor="user")

    # When the subscriber opens their list
    page = web.get("/help/requests/").content.decode()

    # Then only theirs is there
    assert "Mine" in page
    assert "Theirs" not in page


def test_another_subscribers_request_is_not_found_on_every_route(web, other):
    # Given another subscriber's request
    theirs = services.create_request(other, subject="Theirs", message="Private", actor="user")
    audit_before = AuditEvent.objects.count()

    # When the subscriber opens it or tries to close it, or opens one that does not exist
    detail = web.get(f"/help/requests/{theirs.public_id}/")
    close = web.post(f"/help/requests/{theirs.public_id}/close/")
    missing = web.get(f"/help/requests/{uuid.uuid4()}/")

    # Then each is 404, and nothing changed
    assert (detail.status_code, close.status_code, missing.status_code) == (404, 404, 404)
    assert "Private" not in detail.content.decode()
    assert SupportRequest.objects.get(pk=theirs.pk).status == "open"
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("path", ["/help/requests/", "/help/requests/new/"])
def test_request_pages_need_a_signed_in_subscriber(path):
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_subscriber_sees_the_answer_and_may_close_the_request(web, subscriber):
    # Given a request staff have answered
    request = services.create_request(subscriber, subject="Roaming", message="?", actor="user")
    services.answer_request(request, answer="Yes, in zone 2.", actor="staff:1")

    # When the subscriber opens it and closes it
    page = web.get(f"/help/requests/{request.public_id}/").content.decode()
    closed = web.post(f"/help/requests/{request.public_id}/close/")

    # Then they saw the answer and the status, and the request is closed by them, audited
    assert 'data-testid="request-status">Answered<' in page
    assert "Yes, in zone 2." in page
    assert closed.status_code == 302
    assert SupportRequest.objects.get(pk=request.pk).status == "closed"
    assert (
        AuditEvent.objects.filter(
            action="support.request.close", actor=f"user:{subscriber.pk}", subject_id=str(request.public_id)
        ).count()
        == 1
    )
    assert (
        'data-testid="close-request"' not in web.get(f"/help/requests/{request.public_id}/").content.decode()
    )


def test_the_help_page_and_the_request_list_read_little(web, subscriber, django_assert_max_num_queries):
    # Given ten FAQ entries and ten requests (written over two days: the daily limit is 20)
    from datetime import timedelta

    from selfcare.kit import clock

    for index in range(10):
        make_faq({"en": f"Question {index}?"}, {"en": "Answer."}, sort_order=index)
        with clock.frozen(clock.now() - timedelta(hours=2 * index)):
            services.create_request(subscriber, subject=f"Request {index}", message="?", actor="user")

    # When anyone opens /help/, and the subscriber their list: a fixed number of queries, not one per row
    with django_assert_max_num_queries(1):
        Client().get("/help/")
    # (the signed-in frame reads the session, the user and the session policy; the list is one query)
    with django_assert_max_num_queries(7):
        page = web.get("/help/requests/")

    assert page.content.decode().count('data-testid="request-row"') == 10
