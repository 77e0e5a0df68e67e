"""After every identity flow has run, neither the database (every table, every column) nor the logs
hold a one-time code or a password in the clear.

Self-contained on purpose: the suite runs under xdist, so "after the other tests" would depend on how
they were spread over workers. This test runs each flow itself (web and API), collecting every code it
received and every password it used, then searches the dump and everything logged at DEBUG and up.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from selfcare.identity.models import AuditEvent
from selfcare.notifications.models import OutboundSms
from tests.factories import make_line
from tests.identity.conftest import CommittingClient, last_code, unserved_msisdn

pytestmark = pytest.mark.django_db

PASSWORDS = {
    "registration": "first secret passphrase ÄÖÜ",
    "reset": "second secret passphrase ЖЩ",
    "change": "third secret passphrase گذرواژه",
    "api": "fourth secret passphrase 4444",
    "api_reset": "fifth secret passphrase 5555",
    "wrong": "a wrong guess of a password",
}


def dump_database() -> str:
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            lines.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return "\n".join(lines)


def found(secret: str, text: str) -> bool:
    # Codes are digits: only a whole token counts, not six digits inside a hex hash or a base64 salt.
    if secret.isdigit():
        return re.search(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])", text) is not None
    return secret in text


def api(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/auth/{path}", json.dumps(body), content_type="application/json")


def test_no_code_or_password_in_the_database_or_the_logs(caplog, frozen_clock):
    caplog.set_level(logging.DEBUG)
    codes: list[str] = []

    def code_for(msisdn: str) -> str:
        code = last_code(msisdn)
        codes.append(code)
        return code

    def later() -> None:
        frozen_clock.advance(timedelta(minutes=11))

    # Given lines for the web and the app
    web_line, app_line = make_line(), make_line()
    web = CommittingClient(REMOTE_ADDR="192.0.2.1", HTTP_USER_AGENT="Firefox")
    other = CommittingClient(REMOTE_ADDR="192.0.2.2", HTTP_USER_AGENT="Chrome")
    app = CommittingClient(REMOTE_ADDR="192.0.2.3", HTTP_USER_AGENT="App")

    # When every web flow runs: registration, failed and successful logins, a new device, code sign-in,
    # reset, password change, and requests for a number we do not serve
    web.post("/register/", {"number": web_line.msisdn})
    pw = PASSWORDS["registration"]
    web.post("/register/code/", {"code": code_for(web_line.msisdn), "password1": pw, "password2": pw})
    web.post("/logout/")
    web.post("/login/", {"login": web_line.msisdn, "password": PASSWORDS["wrong"]})
    web.post("/login/", {"login": unserved_msisdn(), "password": PASSWORDS["wrong"]})
    web.post("/login/", {"login": web_line.msisdn, "password": pw})
    other.post("/login/", {"login": web_line.msisdn, "password": pw})
    confirmed = other.post("/login/confirm/", {"code": code_for(web_line.msisdn)})
    later()
    other.post("/logout/")
    other.post("/login/code/", {"number": web_line.msisdn})
    other.post("/login/code/verify/", {"code": code_for(web_line.msisdn)})
    later()
    web.post("/reset/", {"number": web_line.msisdn})
    pw = PASSWORDS["reset"]
    web.post("/reset/code/", {"code": code_for(web_line.msisdn), "password1": pw, "password2": pw})
    new = PASSWORDS["change"]
    web.post("/security/password/", {"current_password": pw, "password1": new, "password2": new})
    web.post("/register/", {"number": unserved_msisdn()})
    web.post("/register/code/", {"code": "123456", "password1": new, "password2": new})

    # and every API flow: registration, login, refresh, code sign-in, reset, logout
    api(app, "register/start", {"msisdn": app_line.msisdn})
    api(
        app,
        "register/confirm",
        {"msisdn": app_line.msisdn, "code": code_for(app_line.msisdn), "password": PASSWORDS["api"]},
    )
    tokens = api(
        app, "login", {"login": app_line.msisdn, "password": PASSWORDS["api"], "device_id": "d1"}
    ).json()
    challenge = tokens["challenge"]
    tokens = api(
        app, "login/confirm", {"challenge": challenge, "code": code_for(app_line.msisdn), "device_id": "d1"}
    )
    refreshed = api(app, "refresh", {"refresh_token": tokens.json()["refresh_token"]}).json()
    later()
    api(app, "otp/start", {"msisdn": app_line.msisdn})
    api(app, "otp/confirm", {"msisdn": app_line.msisdn, "code": code_for(app_line.msisdn)})
    later()
    api(app, "reset/start", {"msisdn": app_line.msisdn})
    api(
        app,
        "reset/confirm",
        {"msisdn": app_line.msisdn, "code": code_for(app_line.msisdn), "password": PASSWORDS["api_reset"]},
    )
    app.post(
        "/api/v1/auth/logout",
        json.dumps({"refresh_token": refreshed["refresh_token"]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {refreshed['access_token']}",
    )

    # Then the flows really ran (8 codes were sent, read and accepted) ...
    assert confirmed["Location"] == "/home/"
    assert AuditEvent.objects.filter(action="otp.check", outcome="ok").count() == 8
    assert len(codes) == 8
    assert OutboundSms.objects.filter(template__startswith="otp.").count() == 8
    # ... and neither the database nor the logs hold any of the codes or passwords
    database = dump_database()
    logs = caplog.text + "\n".join(f"{record.msg!r} {record.args!r}" for record in caplog.records)
    assert len(database) > 10_000
    leaks = [
        (where, secret)
        for secret in [
            *codes,
            *PASSWORDS.values(),
            tokens.json()["refresh_token"],
            refreshed["refresh_token"],
        ]
        for where, text in (("database", database), ("logs", logs))
        if found(secret, text)
    ]
    assert leaks == []
