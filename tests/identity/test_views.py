"""Every subscriber flow end to end through the pages (test client), with the SMS read from the console
gateway the way a person trying the demo reads it from /dev/sms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from selfcare.identity.models import AuditEvent, Device, User, UserSession
from selfcare.lines.services import set_line_status
from selfcare.notifications.models import OutboundSms
from tests.identity.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    CommittingClient,
    last_code,
    national,
    sms_texts,
    unserved_msisdn,
)
from tests.identity.flows import log_in, register

pytestmark = pytest.mark.django_db


def test_registration_from_a_national_number_ends_on_the_home_page(web, line, production_hasher):
    # Given an active line, typed the way people write it at home
    typed = national(line.msisdn)

    # When the subscriber asks for a code, enters it and chooses a password
    started = web.post("/register/", {"number": typed})
    code_page = web.get("/register/code/")
    code = last_code(line.msisdn)
    done = web.post("/register/code/", {"code": code, "password1": PASSWORD, "password2": PASSWORD})

    # Then one registration SMS went to the line, and they are signed in on their home page
    assert started.status_code == 302
    assert started["Location"] == "/register/code/"
    assert "+7 900" in code_page.content.decode()
    assert list(OutboundSms.objects.values_list("msisdn", "template")) == [(line.msisdn, "otp.registration")]
    assert done.status_code == 302
    assert done["Location"] == "/home/"
    home = web.get("/home/")
    assert home.status_code == 200
    assert f'data-testid="home-number">{format_number(line.msisdn)}<' in home.content.decode()
    user = User.objects.get(msisdn=line.msisdn)
    assert user.username == line.msisdn
    assert user.password.startswith("argon2$argon2id$")
    assert UserSession.objects.filter(user=user, ended_at__isnull=True).count() == 1
    assert Device.objects.filter(user=user).count() == 1
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", "outcome"))
    assert ("otp.send", "ok") in actions
    assert ("otp.check", "ok") in actions
    assert ("registration", "ok") in actions
    assert ("login", "ok") in actions


def format_number(msisdn: str) -> str:
    from selfcare.kit.phone import format_international

    return format_international(msisdn)


def test_registration_of_a_number_we_do_not_serve_sends_nothing_and_never_succeeds(web):
    # Given a valid number that is not one of our lines
    msisdn = unserved_msisdn()

    # When someone asks for a registration code and tries a code
    started = web.post("/register/", {"number": msisdn})
    attempt = web.post("/register/code/", {"code": "123456", "password1": PASSWORD, "password2": PASSWORD})

    # Then the flow goes on exactly as for a served number, but no SMS and no account exist
    assert started.status_code == 302
    assert started["Location"] == "/register/code/"
    assert attempt.status_code == 200
    assert "The code is wrong or has expired" in attempt.content.decode()
    assert OutboundSms.objects.count() == 0
    assert User.objects.count() == 0
    assert AuditEvent.objects.filter(action="otp.request", outcome="not_eligible").count() == 1


def test_a_blocked_line_cannot_register(web, line):
    # Given a line blocked by its subscriber
    set_line_status(line, status="blocked_subscriber", actor="test")

    # When a registration code is asked for it
    web.post("/register/", {"number": line.msisdn})

    # Then no SMS is sent
    assert OutboundSms.objects.count() == 0


def test_password_login_from_the_same_browser_needs_no_sms(web, line):
    # Given a subscriber registered in this browser, then logged out
    register(web, line.msisdn)
    assert web.post("/logout/").status_code == 302
    sms_before = OutboundSms.objects.count()

    # When they log in with number and password
    response = log_in(web, national(line.msisdn))

    # Then they land on the home page, with no confirmation or new-sign-in SMS
    assert response.status_code == 302
    assert response["Location"] == "/home/"
    assert web.get("/home/").status_code == 200
    assert OutboundSms.objects.count() == sms_before


def test_password_login_from_a_new_device_asks_for_an_sms_code_and_reports_the_sign_in(web, line):
    # Given a registered subscriber
    register(web, line.msisdn)
    other = CommittingClient(
        REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Mozilla/5.0 (Android 14) Chrome/129"
    )

    # When they log in from another browser with the right password
    first = log_in(other, line.msisdn)

    # Then a confirmation code is sent and asked for before the session opens
    assert first.status_code == 302
    assert first["Location"] == "/login/confirm/"
    assert other.get("/home/").status_code == 302
    code = last_code(line.msisdn)
    wrong = other.post("/login/confirm/", {"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 200
    confirmed = other.post("/login/confirm/", {"code": code})
    assert confirmed["Location"] == "/home/"
    assert other.get("/home/").status_code == 200
    templates = list(OutboundSms.objects.order_by("pk").values_list("template", flat=True))
    assert templates == ["otp.registration", "otp.confirm", "security.new_sign_in"]
    assert "Chrome, Android" in sms_texts(line.msisdn)[0]
    assert Device.objects.filter(user__msisdn=line.msisdn).count() == 2


def test_without_the_new_device_setting_a_password_is_enough(web, line, settings):
    # Given the operator switched new-device confirmation off
    settings.SELFCARE_NEW_DEVICE_CONFIRMATION = False
    register(web, line.msisdn)
    other = CommittingClient(REMOTE_ADDR="198.51.100.7")

    # When the subscriber logs in from another browser
    response = log_in(other, line.msisdn)

    # Then they are in at once, and told about the new sign-in
    assert response["Location"] == "/home/"
    assert list(OutboundSms.objects.order_by("pk").values_list("template", flat=True)) == [
        "otp.registration",
        "security.new_sign_in",
    ]


def test_wrong_password_and_unknown_number_get_the_same_refusal(web, line):
    # Given a registered subscriber
    register(web, line.msisdn)
    web.post("/logout/")

    # When a wrong password and an unknown number are tried
    wrong = log_in(web, line.msisdn, "not the password at all")
    unknown = log_in(web, unserved_msisdn(), "not the password at all")

    # Then both are refused with the same words and nobody is signed in
    assert wrong.status_code == unknown.status_code == 401
    assert "The number, alias or password is wrong." in wrong.content.decode()
    assert "The number, alias or password is wrong." in unknown.content.decode()
    assert web.get("/home/").status_code == 302
    assert AuditEvent.objects.filter(action="login.failed").count() == 2


def test_login_by_sms_code(web, line):
    # Given a registered subscriber in a fresh browser
    register(web, line.msisdn)
    fresh = CommittingClient(REMOTE_ADDR="198.51.100.8")

    # When they ask for a sign-in code and enter it
    started = fresh.post("/login/code/", {"number": national(line.msisdn)})
    code = last_code(line.msisdn)
    done = fresh.post("/login/code/verify/", {"code": code})

    # Then they are signed in (the code proves the SIM; no second step) and told about the new sign-in
    assert started["Location"] == "/login/code/verify/"
    assert done["Location"] == "/home/"
    assert fresh.get("/home/").status_code == 200
    templates = list(OutboundSms.objects.order_by("pk").values_list("template", flat=True))
    assert templates == ["otp.registration", "otp.login", "security.new_sign_in"]


def test_login_code_is_not_sent_to_a_line_without_an_account(web, line):
    # Given an active line whose subscriber never registered
    # When a sign-in code is asked for it
    response = web.post("/login/code/", {"number": line.msisdn})

    # Then the page moves on as usual but nothing is sent
    assert response["Location"] == "/login/code/verify/"
    assert OutboundSms.objects.count() == 0


def test_password_reset_by_sms_code_ends_every_other_session(web, line):
    # Given a subscriber signed in in two browsers
    register(web, line.msisdn)
    other = CommittingClient(REMOTE_ADDR="198.51.100.9")
    log_in(other, line.msisdn)
    other.post("/login/confirm/", {"code": last_code(line.msisdn)})
    assert other.get("/home/").status_code == 200
    resetter = CommittingClient(REMOTE_ADDR="198.51.100.10")

    # When the password is reset from a third browser
    resetter.post("/reset/", {"number": line.msisdn})
    done = resetter.post(
        "/reset/code/",
        {"code": last_code(line.msisdn), "password1": OTHER_PASSWORD, "password2": OTHER_PASSWORD},
    )

    # Then the third browser is in, the other two are out, and only the new password works
    assert done["Location"] == "/home/"
    assert resetter.get("/home/").status_code == 200
    assert web.get("/home/").status_code == 302
    assert other.get("/home/").status_code == 302
    assert log_in(Client(), line.msisdn, PASSWORD).status_code == 401
    assert log_in(web, line.msisdn, OTHER_PASSWORD)["Location"] == "/home/"
    assert "security.password_changed" in OutboundSms.objects.values_list("template", flat=True)


def test_reset_code_for_an_unregistered_number_is_never_sent(web, line):
    # Given an active line without an account, and a number we do not serve
    # When a reset is asked for both
    web.post("/reset/", {"number": line.msisdn})
    web.post("/reset/", {"number": unserved_msisdn()})

    # Then nothing is sent
    assert OutboundSms.objects.count() == 0


def test_password_change_needs_the_current_password_and_ends_the_other_sessions(web, line):
    # Given a subscriber signed in in two browsers
    register(web, line.msisdn)
    other = CommittingClient(REMOTE_ADDR="198.51.100.11")
    log_in(other, line.msisdn)
    other.post("/login/confirm/", {"code": last_code(line.msisdn)})

    # When they try a wrong current password, then the right one
    wrong = web.post(
        "/security/password/",
        {"current_password": "nope nope nope", "password1": OTHER_PASSWORD, "password2": OTHER_PASSWORD},
    )
    right = web.post(
        "/security/password/",
        {"current_password": PASSWORD, "password1": OTHER_PASSWORD, "password2": OTHER_PASSWORD},
    )

    # Then only the second changes it; this browser stays in, the other is out
    assert "The current password is wrong." in wrong.content.decode()
    assert "Your password has been changed." in right.content.decode()
    assert web.get("/home/").status_code == 200
    assert other.get("/home/").status_code == 302
    assert User.objects.get(msisdn=line.msisdn).check_password(OTHER_PASSWORD)
    outcomes = list(AuditEvent.objects.filter(action="password.change").values_list("outcome", flat=True))
    assert sorted(outcomes) == ["ok", "wrong_current"]


def test_security_page_lists_sessions_and_ends_one_or_all(web, line, frozen_clock):
    # Given a subscriber with three browser sessions (a minute apart: codes have a resend cooldown)
    register(web, line.msisdn)
    others = []
    for n in range(2):
        frozen_clock.advance(timedelta(seconds=61))
        browser = CommittingClient(REMOTE_ADDR=f"198.51.100.{20 + n}")
        log_in(browser, line.msisdn)
        browser.post("/login/confirm/", {"code": last_code(line.msisdn)})
        others.append(browser)
    user = User.objects.get(msisdn=line.msisdn)

    # When they open the Security page, end one session, then all the others
    page = web.get("/security/").content.decode()
    first_other = UserSession.objects.filter(user=user, ip="198.51.100.20").get()
    web.post(f"/security/sessions/{first_other.pk}/end/")
    after_one = [b.get("/home/").status_code for b in others]
    web.post("/security/sessions/end-others/")
    after_all = [b.get("/home/").status_code for b in others]

    # Then the page showed three sessions and two devices, and the ends took effect
    assert page.count('data-testid="session-row"') == 3
    assert page.count('data-testid="device-row"') == 3
    assert "Registration" in page
    assert after_one == [302, 200]
    assert after_all == [302, 302]
    assert web.get("/home/").status_code == 200
    assert UserSession.objects.filter(user=user, ended_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="session.end").count() == 2


def test_alias_from_the_profile_works_as_a_login_name(web, line):
    # Given a registered subscriber who sets an alias
    register(web, line.msisdn)
    web.post("/profile/", {"alias": "Ivan.Petrov"})
    web.post("/logout/")

    # When they log in with the alias
    response = log_in(web, "ivan.petrov")

    # Then they are in, and the number still works too
    assert response["Location"] == "/home/"
    web.post("/logout/")
    assert log_in(web, line.msisdn)["Location"] == "/home/"


def test_alias_that_looks_like_a_number_is_refused(web, line):
    # Given a registered subscriber
    register(web, line.msisdn)

    # When they try an alias that starts with a digit
    response = web.post("/profile/", {"alias": "79001234567"})

    # Then it is refused and the login name stays the number
    assert "This alias cannot be used." in response.content.decode()
    assert User.objects.get(msisdn=line.msisdn).username == line.msisdn


def test_logout_ends_the_session_for_good(web, line):
    # Given a signed-in subscriber whose session cookie someone copied
    register(web, line.msisdn)
    stolen = Client()
    stolen.cookies = web.cookies.__class__(web.cookies)

    # When they log out
    web.post("/logout/")

    # Then the copied cookie opens nothing
    assert stolen.get("/home/").status_code == 302
    assert AuditEvent.objects.filter(action="session.end", after__reason="logout").count() == 1


def test_idle_timeout_after_30_minutes(web, line, frozen_clock):
    # Given a subscriber signed in at 09:00
    register(web, line.msisdn)

    # When they come back after 29 minutes, then after 31 minutes of silence
    frozen_clock.advance(timedelta(minutes=29))
    still_in = web.get("/home/").status_code
    frozen_clock.advance(timedelta(minutes=31))
    after_idle = web.get("/home/")

    # Then the first visit works and the second is sent to log in again
    assert still_in == 200
    assert after_idle.status_code == 302
    assert after_idle["Location"].startswith("/login/")
    assert "Your session has ended" in web.get("/login/").content.decode()
    assert UserSession.objects.get().end_reason == "idle_timeout"


def test_absolute_timeout_after_12_hours_even_when_active(web, line, frozen_clock):
    # Given a subscriber signed in at 09:00 who is active every 20 minutes
    register(web, line.msisdn)
    statuses = []
    for _ in range(35):  # 11 h 40 min
        frozen_clock.advance(timedelta(minutes=20))
        statuses.append(web.get("/home/").status_code)

    # When 12 hours have passed since the sign-in
    frozen_clock.advance(timedelta(minutes=20))
    final = web.get("/home/")

    # Then every visit before worked and this one is refused
    assert set(statuses) == {200}
    assert final.status_code == 302
    assert UserSession.objects.get().end_reason == "absolute_timeout"


def test_every_form_needs_a_csrf_token(line):
    # Given a browser that sends no CSRF token
    strict = Client(enforce_csrf_checks=True)

    # When it posts to each form
    statuses = [
        strict.post(path, {"number": line.msisdn}).status_code
        for path in ("/register/", "/login/", "/login/code/", "/reset/", "/logout/")
    ]

    # Then every post is refused and no SMS goes out
    assert statuses == [403] * 5
    assert OutboundSms.objects.count() == 0


def test_cookies_are_http_only_and_same_site(web, line):
    # Given a registration
    response = register(web, line.msisdn)

    # Then the session and device cookies cannot be read by scripts and stay on this site
    session = response.cookies["sessionid"]
    device = response.cookies["selfcare_device"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert device["httponly"] is True
    assert device["samesite"] == "Lax"


def test_login_failures_bring_growing_delays_but_never_a_lockout(web, line, frozen_clock, settings):
    # Given a registered subscriber and an attacker guessing from another address
    register(web, line.msisdn)
    web.post("/logout/")
    attacker = CommittingClient(REMOTE_ADDR="203.0.113.66")

    # When the attacker fails 5 times, then tries again at once, then after 2 s and after 3 more failures
    five = [log_in(attacker, line.msisdn, f"guess {n}").status_code for n in range(5)]
    sixth = log_in(web, line.msisdn)  # even the right password waits
    frozen_clock.advance(timedelta(seconds=2))
    seventh = log_in(attacker, line.msisdn, "guess 6")
    immediately = log_in(attacker, line.msisdn, "guess 7")
    frozen_clock.advance(timedelta(seconds=3))
    too_soon = log_in(attacker, line.msisdn, "guess 8")
    frozen_clock.advance(timedelta(seconds=1))
    owner = log_in(web, line.msisdn)

    # Then the 6th try waits 2 s, the next 4 s, and the owner gets in once the wait is over
    assert five == [401] * 5
    assert sixth.status_code == 429
    assert "try again in 2 seconds" in sixth.content.decode()
    assert seventh.status_code == 401
    assert immediately.status_code == 429
    assert "try again in 4 seconds" in immediately.content.decode()
    assert too_soon.status_code == 429
    assert owner["Location"] == "/home/"
