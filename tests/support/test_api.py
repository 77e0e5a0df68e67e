"""/api/v1/help/: contact and FAQ in public, support requests with a subscriber bearer token, always
the caller's own; errors are problem+json."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from selfcare.identity import services as identity
from selfcare.identity.models import User
from selfcare.support import services
from selfcare.support.models import SupportRequest
from tests.support.factories import make_faq

pytestmark = pytest.mark.django_db


def token_for(user: User) -> str:
    client = identity.Client(ip="192.0.2.40", user_agent="SelfcareApp/1.0", language="en")
    return identity.issue_api_tokens(user, device_id="install-1", client=client, method="test").access_token


def call(method: str, path: str, token: str = "", body: dict[str, Any] | None = None, **headers: Any) -> Any:
    kwargs: dict[str, Any] = dict(headers)
    if token:
        kwargs["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(Client(), method)(f"/api/v1/help/{path}", **kwargs)


def test_contact_and_faq_are_public_and_in_the_callers_language(settings):
    settings.SELFCARE_HELP_NUMBER = "636"
    make_faq({"en": "How do I top up?", "fa": "چگونه شارژ کنم؟"}, {"en": "With a card.", "fa": "با کارت."})

    contact = call("get", "contact")
    faq = call("get", "faq", HTTP_ACCEPT_LANGUAGE="fa")

    assert contact.json() == {"help_number": "636"}
    assert [(e["question"], e["answer"]) for e in faq.json()] == [("چگونه شارژ کنم؟", "با کارت.")]


def test_create_list_read_and_close_a_request(subscriber):
    token = token_for(subscriber)

    created = call("post", "requests", token, {"subject": "Roaming", "message": "Turkey?"})
    request_id = created.json()["id"]
    services.answer_request(SupportRequest.objects.get(), answer="Yes.", actor="staff:1")
    listed = call("get", "requests", token)
    read = call("get", f"requests/{request_id}", token)
    closed = call("post", f"requests/{request_id}/close", token)

    assert created.status_code == 201
    assert created.json()["status"] == "open"
    assert [r["id"] for r in listed.json()] == [request_id]
    assert (read.json()["status"], read.json()["answer"]) == ("answered", "Yes.")
    assert closed.json()["status"] == "closed"


def test_another_subscribers_request_is_a_404_problem(subscriber, other):
    theirs = services.create_request(other, subject="Theirs", message="Private", actor="user")
    token = token_for(subscriber)

    read = call("get", f"requests/{theirs.public_id}", token)
    close = call("post", f"requests/{theirs.public_id}/close", token)
    missing = call("get", f"requests/{uuid.uuid4()}", token)

    assert (read.status_code, close.status_code, missing.status_code) == (404, 404, 404)
    assert read["Content-Type"] == "application/problem+json"
    assert read.json()["code"] == "support_request_not_found"
    assert call("get", "requests", token).json() == []
    assert SupportRequest.objects.get(pk=theirs.pk).status == "open"


def test_invalid_requests_and_floods_are_problems(subscriber):
    token = token_for(subscriber)

    empty = call("post", "requests", token, {"subject": " ", "message": "?"})
    foreign = call(
        "post", "requests", token, {"subject": "Hi", "message": "?", "line_msisdn": "+79990000000"}
    )
    for index in range(services.REQUESTS_PER_HOUR):
        call("post", "requests", token, {"subject": f"Q{index}", "message": "?"})
    flood = call("post", "requests", token, {"subject": "One more", "message": "?"})

    assert (empty.status_code, empty.json()["code"]) == (422, "support_subject_required")
    assert (foreign.status_code, foreign.json()["code"]) == (422, "support_line_not_on_account")
    assert (flood.status_code, flood.json()["code"]) == (429, "too_many_requests")
    assert SupportRequest.objects.count() == services.REQUESTS_PER_HOUR


def test_requests_need_a_token():
    response = call("get", "requests")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_help_and_profile_endpoints_are_in_the_openapi_document():
    paths = Client().get("/api/v1/openapi.json").json()["paths"]

    assert {p for p in paths if p.startswith(("/api/v1/help/", "/api/v1/profile/"))} == {
        "/api/v1/help/contact",
        "/api/v1/help/faq",
        "/api/v1/help/requests",
        "/api/v1/help/requests/{request_id}",
        "/api/v1/help/requests/{request_id}/close",
        "/api/v1/profile/",
        "/api/v1/profile/block",
        "/api/v1/profile/unblock",
    }
