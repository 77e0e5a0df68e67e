"""/api/v1/auth/ end to end: every flow issues a short access token and a rotating refresh token."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from selfcare.identity.models import AuditEvent, RefreshToken
from selfcare.notifications.models import OutboundSms
from tests.identity.conftest import OTHER_PASSWORD, PASSWORD, CommittingClient, last_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def app() -> CommittingClient:
    return CommittingClient(REMOTE_ADDR="192.0.2.50", HTTP_USER_AGENT="SelfcareApp/1.0 (Android 14)")


def call(client: Any, path: str, body: dict[str, Any], token: str = "") -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/auth/{path}", json.dumps(body), content_type="application/json", **headers)


def me(client: Any, token: str) -> Any:
    return client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def register(app: Any, msisdn: str, device_id: str = "install-1") -> dict[str, Any]:
    assert call(app, "register/start", {"msisdn": msisdn}).status_code == 202
    response = call(
        app,
        "register/confirm",
        {"msisdn": msisdn, "code": last_code(msisdn), "password": PASSWORD, "device_id": device_id},
    )
    assert response.status_code == 200
    return response.json()


def test_registration_returns_working_tokens(app, line):
    # When the app registers the line
    started = call(app, "register/start", {"msisdn": line.msisdn})
    confirmed = call(
        app,
        "register/confirm",
        {
            "msisdn": line.msisdn,
            "code": last_code(line.msisdn),
            "password": PASSWORD,
            "device_id": "install-1",
        },
    )

    # Then it gets a bearer pair that identifies the subscriber
    assert started.status_code == 202
    assert started.json() == {"status": "accepted"}
    tokens = confirmed.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 600
    assert tokens["access_token"].startswith("at_")
    assert tokens["refresh_token"].startswith("rt_")
    assert me(app, tokens["access_token"]).json() == {
        "msisdn": line.msisdn,
        "username": line.msisdn,
        "language": "en",
    }


def test_a_weak_password_is_refused_without_spending_the_code(app, line):
    call(app, "register/start", {"msisdn": line.msisdn})
    code = last_code(line.msisdn)
    weak = call(app, "register/confirm", {"msisdn": line.msisdn, "code": code, "password": "password123"})
    strong = call(app, "register/confirm", {"msisdn": line.msisdn, "code": code, "password": PASSWORD})
    assert weak.status_code == 422
    assert weak["Content-Type"] == "application/problem+json"
    assert strong.status_code == 200


def test_password_login_from_the_known_install_and_from_a_new_one(app, line):
    # Given a subscriber registered from install-1
    register(app, line.msisdn)

    # When they sign in with the password from install-1, then from install-2
    known = call(app, "login", {"login": line.msisdn, "password": PASSWORD, "device_id": "install-1"})
    new = call(app, "login", {"login": line.msisdn, "password": PASSWORD, "device_id": "install-2"})
    challenge = new.json()["challenge"]
    code = last_code(line.msisdn)
    wrong_device = call(
        app, "login/confirm", {"challenge": challenge, "code": code, "device_id": "install-3"}
    )
    confirmed = call(app, "login/confirm", {"challenge": challenge, "code": code, "device_id": "install-2"})

    # Then the known install gets tokens at once; the new one after the SMS code, bound to that install
    assert known.status_code == 200
    assert new.status_code == 202
    assert new.json()["confirmation_required"] is True
    assert wrong_device.status_code == 401
    assert confirmed.status_code == 200
    templates = list(OutboundSms.objects.order_by("pk").values_list("template", flat=True))
    assert templates == ["otp.registration", "otp.confirm", "security.new_sign_in"]


def test_code_login_and_reset(app, line, frozen_clock):
    # Given a registered subscriber
    register(app, line.msisdn)

    # When they sign in by code, then reset the password a minute later
    call(app, "otp/start", {"msisdn": line.msisdn})
    by_code = call(
        app, "otp/confirm", {"msisdn": line.msisdn, "code": last_code(line.msisdn), "device_id": "x"}
    )
    frozen_clock.advance(timedelta(seconds=61))
    call(app, "reset/start", {"msisdn": line.msisdn})
    reset = call(
        app,
        "reset/confirm",
        {"msisdn": line.msisdn, "code": last_code(line.msisdn), "password": OTHER_PASSWORD},
    )

    # Then both give tokens; the reset ends the earlier sign-ins, and only the new password works
    assert by_code.status_code == 200
    assert reset.status_code == 200
    assert me(app, by_code.json()["access_token"]).status_code == 401
    assert me(app, reset.json()["access_token"]).status_code == 200
    assert (
        call(app, "login", {"login": line.msisdn, "password": PASSWORD, "device_id": "x"}).status_code == 401
    )
    assert (
        call(app, "login", {"login": line.msisdn, "password": OTHER_PASSWORD, "device_id": "x"}).status_code
        == 200
    )


def test_refresh_rotates_and_reuse_ends_the_family(app, line):
    # Given a signed-in app
    tokens = register(app, line.msisdn)

    # When it refreshes, and then the old refresh token is replayed
    rotated = call(app, "refresh", {"refresh_token": tokens["refresh_token"]})
    replayed = call(app, "refresh", {"refresh_token": tokens["refresh_token"]})

    # Then the first works, the replay fails, and the rotated pair has been revoked with it
    assert rotated.status_code == 200
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "invalid_token"
    assert me(app, rotated.json()["access_token"]).status_code == 401
    assert call(app, "refresh", {"refresh_token": rotated.json()["refresh_token"]}).status_code == 401


def test_logout_revokes_access_and_refresh_at_once(app, line):
    tokens = register(app, line.msisdn)
    out = call(app, "logout", {"refresh_token": tokens["refresh_token"]}, token=tokens["access_token"])
    assert out.status_code == 204
    assert me(app, tokens["access_token"]).status_code == 401
    assert call(app, "refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 0


def test_refresh_tokens_are_stored_only_as_hashes(app, line):
    tokens = register(app, line.msisdn)
    stored = list(RefreshToken.objects.values_list("token_hash", flat=True))
    assert tokens["refresh_token"] not in stored
    assert all(len(h) == 64 for h in stored)


def test_auth_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {p for p in paths if p.startswith("/api/v1/auth/")} == {
        "/api/v1/auth/register/start",
        "/api/v1/auth/register/confirm",
        "/api/v1/auth/login",
        "/api/v1/auth/login/confirm",
        "/api/v1/auth/otp/start",
        "/api/v1/auth/otp/confirm",
        "/api/v1/auth/reset/start",
        "/api/v1/auth/reset/confirm",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
    }


def test_a_long_unknown_login_is_refused_and_audited_in_the_column(app):
    # Given a login name of 150 characters that names nobody (longer than an audit row's subject id)
    login = "0" * 150
    # When the app signs in with it
    response = call(app, "login", {"login": login, "password": PASSWORD})
    # Then it is the wrong-credentials problem, and the failure is audited under the name cut to 64
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    event = AuditEvent.objects.get(action="login.failed")
    assert (event.subject_type, event.subject_id, event.outcome) == ("login", "0" * 64, "wrong_password")
