"""No account enumeration: a number we serve (or an existing account) and one we do not get the same
status, headers, cookies and body, on every page and API endpoint that takes a number.

Per-request randomness (CSRF token masks, session ids, the request id, the Expires second) is blanked
before comparing, and so is the number itself where the page echoes what was typed; everything else,
including which headers and cookies are present, must match byte for byte.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from selfcare.kit.phone import format_international
from selfcare.notifications.models import OutboundSms
from tests.factories import make_line
from tests.identity.conftest import PASSWORD, CommittingClient, unserved_msisdn
from tests.identity.flows import register

pytestmark = pytest.mark.django_db

_RANDOM = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken" value="CSRF"'),
    (re.compile(r"&quot;X-CSRFToken&quot;: &quot;[^&]+&quot;"), "X-CSRFToken: CSRF"),
    (re.compile(r'"X-CSRFToken": "[^"]+"'), "X-CSRFToken: CSRF"),
]
# Per request (the id), or the wall-clock second the answer was made (Expires from never_cache).
_VARYING_HEADERS = {"X-Request-ID", "Content-Length", "Expires"}


def fingerprint(response: Any, msisdn: str) -> dict[str, Any]:
    body = response.content.decode()
    for number in (format_international(msisdn), msisdn):
        body = body.replace(number, "NUMBER")
    for pattern, replacement in _RANDOM:
        body = pattern.sub(replacement, body)
    headers = {k: ("…" if k in _VARYING_HEADERS else v) for k, v in response.headers.items()}
    cookies = {
        name: {key: morsel[key] for key in morsel if key != "expires" and morsel[key]}
        for name, morsel in response.cookies.items()
    }
    return {"status": response.status_code, "headers": headers, "cookies": cookies, "body": body}


def browser(ip: str) -> CommittingClient:
    return CommittingClient(REMOTE_ADDR=ip, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux) Firefox/130.0")


def journey(msisdn: str, ip: str, steps: list[tuple[str, str, dict[str, str]]]) -> list[dict[str, Any]]:
    client = browser(ip)
    client.get("/login/")  # a visitor who already has the CSRF cookie, like anyone who opened the form
    results = []
    for method, path, data in steps:
        filled = {k: v.replace("{number}", msisdn) for k, v in data.items()}
        response = client.post(path, filled) if method == "POST" else client.get(path)
        results.append(fingerprint(response, msisdn))
    return results


CODE_FLOW = [
    ("GET", "{start}", {}),
    ("POST", "{start}", {"number": "{number}"}),
    ("GET", "{code}", {}),
    (
        "POST",
        "{code}",
        {"code": "000000", "password1": "a long passphrase", "password2": "a long passphrase"},
    ),
    ("POST", "{code}", {"resend": "1"}),
    ("POST", "{start}", {"number": "{number}"}),  # asked again at once: the cooldown answers
]


def code_flow(start: str, code: str) -> list[tuple[str, str, dict[str, str]]]:
    return [(m, p.format(start=start, code=code), d) for m, p, d in CODE_FLOW]


def test_registration_pages_answer_the_same_for_a_served_and_an_unserved_number():
    # Given an active line and a number we do not serve
    served, unserved = make_line().msisdn, unserved_msisdn()
    steps = code_flow("/register/", "/register/code/")

    # When both go through the registration pages (code asked, wrong code, resend, ask again)
    for_served = journey(served, "198.51.100.1", steps)
    for_unserved = journey(unserved, "198.51.100.2", steps)

    # Then every answer is identical, although only the served number got an SMS
    assert for_served == for_unserved
    assert list(OutboundSms.objects.values_list("msisdn", flat=True)) == [served]


@pytest.mark.parametrize(
    ("start", "code"), [("/reset/", "/reset/code/"), ("/login/code/", "/login/code/verify/")]
)
def test_reset_and_code_sign_in_answer_the_same_for_an_account_and_no_account(start, code):
    # Given a registered subscriber, an active line without an account, and a number we do not serve
    account_number = make_line().msisdn
    register(browser("198.51.100.3"), account_number)
    no_account, unserved = make_line().msisdn, unserved_msisdn()
    steps = code_flow(start, code)

    # When all three go through the pages
    results = [
        journey(n, f"198.51.100.{10 + i}", steps)
        for i, n in enumerate([account_number, no_account, unserved])
    ]

    # Then the answers are identical
    assert results[0] == results[1] == results[2]
    assert OutboundSms.objects.exclude(template="otp.registration").count() == 1


def test_login_answers_the_same_for_a_wrong_password_and_an_unknown_number(frozen_clock):
    # Given a registered subscriber and a number we do not serve
    account_number = make_line().msisdn
    register(browser("198.51.100.4"), account_number)
    unserved = unserved_msisdn()
    steps = [("POST", "/login/", {"login": "{number}", "password": "wrong password 1"})] * 7

    # When both are tried with wrong passwords until the delays start
    for_account = journey(account_number, "198.51.100.20", steps)
    for_unknown = journey(unserved, "198.51.100.21", steps)

    # Then every answer is identical, delays included
    assert for_account == for_unknown
    assert [r["status"] for r in for_account] == [401] * 5 + [429] * 2


def api(client: CommittingClient, path: str, body: dict[str, str], msisdn: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/auth/{path}", json.dumps(body), content_type="application/json")
    return fingerprint(response, msisdn)


@pytest.mark.parametrize("path", ["register/start", "otp/start", "reset/start"])
def test_api_code_requests_answer_the_same(path, frozen_clock):
    # Given a subscriber who registered a minute ago, and a number we do not serve
    account_number = make_line().msisdn
    register(browser("198.51.100.5"), account_number)
    frozen_clock.advance(timedelta(seconds=61))
    unserved = unserved_msisdn()

    # When codes are asked twice for each through the API, and a wrong code is tried
    def calls(msisdn: str, ip: str) -> list[dict[str, Any]]:
        client = browser(ip)
        confirm = {
            "register/start": "register/confirm",
            "otp/start": "otp/confirm",
            "reset/start": "reset/confirm",
        }
        return [
            api(client, path, {"msisdn": msisdn}, msisdn),
            api(client, path, {"msisdn": msisdn}, msisdn),
            api(
                client, confirm[path], {"msisdn": msisdn, "code": "000000", "password": PASSWORD * 2}, msisdn
            ),
        ]

    # Then the answers are identical
    assert calls(account_number, "198.51.100.30") == calls(unserved, "198.51.100.31")


def test_api_login_answers_the_same_for_a_wrong_password_and_an_unknown_number(frozen_clock):
    account_number = make_line().msisdn
    register(browser("198.51.100.6"), account_number)
    unserved = unserved_msisdn()
    results = []
    for msisdn, ip in ((account_number, "198.51.100.40"), (unserved, "198.51.100.41")):
        client = browser(ip)
        results.append(
            [api(client, "login", {"login": msisdn, "password": "wrong one!"}, msisdn) for _ in range(7)]
        )
    assert results[0] == results[1]
    assert [r["status"] for r in results[0]] == [401] * 5 + [429] * 2
