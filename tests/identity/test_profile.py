"""The profile: e-mail for statements, language, SMS kinds, and the subscriber's own block, through the
pages and /api/v1/profile/. Every change is audited; a refused one changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from selfcare.identity.models import AuditEvent, User
from selfcare.lines.models import Customer, CustomerKind, Line, LineStatus
from selfcare.lines.services import set_line_status
from selfcare.notifications.models import OutboundSms, SmsPreference
from tests.factories import make_account, make_customer, make_line
from tests.identity.conftest import CommittingClient, sms_texts
from tests.identity.flows import register

pytestmark = pytest.mark.django_db

ALL_KINDS = ["blocking", "low_balance", "payments"]


def signed_in(web: CommittingClient, line: Line) -> User:
    register(web, line.msisdn)
    return User.objects.get(msisdn=line.msisdn)


def customer_of(line: Line) -> Customer:
    return Customer.objects.get(accounts__lines=line)


def actions_since(first_id: int) -> list[tuple[str, str, Any, Any]]:
    return list(
        AuditEvent.objects.filter(pk__gt=first_id)
        .exclude(action="sms.queue")
        .order_by("id")
        .values_list("action", "subject_type", "before", "after")
    )


def last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- personal data -------------------------------------------------------------------------------------


def test_the_profile_shows_the_current_data_and_every_sms_kind_on(web, line):
    # Given a subscriber whose customer record has an e-mail
    Customer.objects.filter(accounts__lines=line).update(email="ivan@example.com")
    signed_in(web, line)

    # When they open the profile
    page = web.get("/profile/").content.decode()

    # Then it shows the e-mail, the language and every optional SMS kind switched on, and a block button
    assert 'value="ivan@example.com"' in page
    assert '<option value="en" selected>' in page
    assert page.count('type="checkbox" name="sms_kinds"') == 3
    assert page.count("checked") == 3
    assert 'data-testid="line-status">Active<' in page
    assert 'href="/profile/block/"' in page


def test_saving_the_profile_changes_each_domain_and_audits_it(web, line):
    # Given a signed-in subscriber
    user = signed_in(web, line)
    first = last_audit_id()

    # When they set an e-mail, Russian, and keep only the payments SMS
    response = web.post(
        "/profile/details/",
        {"email": " ivan@example.com ", "language": "ru", "sms_kinds": ["payments"]},
    )

    # Then the e-mail and language are stored with the customer, the user and the SMS preferences
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    customer = customer_of(line)
    assert (customer.email, customer.language) == ("ivan@example.com", "ru")
    assert User.objects.get(pk=user.pk).language == "ru"
    preference = SmsPreference.objects.get(msisdn=line.msisdn)
    assert (preference.language, preference.muted_kinds) == ("ru", ["blocking", "low_balance"])
    # and each change has its audit row, before and after, with no SMS code asked for
    assert actions_since(first) == [
        ("profile.language", "user", {"language": "en"}, {"language": "ru"}),
        (
            "customer.contact",
            "customer",
            {"email": "", "language": "en"},
            {"email": "ivan@example.com", "language": "ru"},
        ),
        (
            "sms.preferences",
            "msisdn",
            {"language": "", "muted_kinds": []},
            {"language": "ru", "muted_kinds": ["blocking", "low_balance"]},
        ),
    ]
    assert OutboundSms.objects.filter(template__startswith="otp.").count() == 1  # the registration only
    # and the pages now speak Russian (the language cookie follows the choice)
    assert response.cookies["django_language"].value == "ru"
    assert "Профиль" in web.get("/profile/").content.decode()


def test_an_invalid_email_is_refused_and_nothing_changes(web, line):
    # Given a signed-in subscriber with an e-mail
    Customer.objects.filter(accounts__lines=line).update(email="old@example.com")
    signed_in(web, line)
    first = last_audit_id()

    # When they type an address that is not one, with other changes
    response = web.post("/profile/details/", {"email": "ivan@", "language": "fa", "sms_kinds": []})

    # Then the page says why, and nothing changed anywhere
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    customer = customer_of(line)
    assert (customer.email, customer.language) == ("old@example.com", "en")
    assert User.objects.get(msisdn=line.msisdn).language == "en"
    assert not SmsPreference.objects.exists()
    assert actions_since(first) == []


def test_an_unknown_language_is_refused_by_the_service(line):
    # Given a subscriber
    from selfcare.identity import services
    from selfcare.identity.errors import UnknownLanguage
    from tests.identity.conftest import CLIENT

    user = User.objects.create(username=line.msisdn, msisdn=line.msisdn, language="en")
    first = last_audit_id()

    # When the API or a crafted form asks for a language we do not offer
    with pytest.raises(UnknownLanguage):
        services.update_profile(user, client=CLIENT, email="a@example.com", language="de")

    # Then nothing changed
    assert customer_of(line).email == ""
    assert actions_since(first) == []


def test_a_company_line_cannot_change_the_companys_email(web):
    # Given an employee's line on a company account with the company's statements address
    company = make_customer(name="Romashka LLC", kind=CustomerKind.ORGANIZATION)
    Customer.objects.filter(pk=company.pk).update(email="accounts@romashka.example")
    line = make_line(account=make_account(customer=company))
    signed_in(web, line)

    # When the employee opens the profile and posts an e-mail anyway
    page = web.get("/profile/").content.decode()
    web.post("/profile/details/", {"email": "me@example.com", "language": "en", "sms_kinds": ALL_KINDS})

    # Then there is no e-mail field, and the company's address is unchanged
    assert 'name="email"' not in page
    assert "your company can change it" in page
    assert Customer.objects.get(pk=company.pk).email == "accounts@romashka.example"


# --- SMS preferences are honoured by the senders ---------------------------------------------------


def test_low_balance_sms_is_not_sent_when_switched_off_but_the_debt_block_notice_is(web, frozen_clock):
    # Given a subscriber who switched every optional SMS off
    from tests.billing.helpers import daily_tariff, line_with_money

    paying = line_with_money(daily_tariff(3_000), 5_000)
    signed_in(web, paying)
    web.post("/profile/details/", {"email": "", "language": "en", "sms_kinds": []})

    # When the daily fee takes the balance below the low-balance threshold, and the next day's cannot be paid
    from datetime import date

    from selfcare.billing import services as billing

    billing.charge_fees(on=date(2026, 3, 2))
    billing.charge_fees(on=date(2026, 3, 3))

    # Then no low-balance SMS was sent (an audit row says why), but the mandatory block notice was
    templates = list(OutboundSms.objects.filter(msisdn=paying.msisdn).values_list("template", flat=True))
    assert templates == ["otp.registration", "billing.blocked_for_debt"]
    assert (
        AuditEvent.objects.filter(
            action="sms.suppress", subject_id=paying.msisdn, outcome="opted_out"
        ).count()
        == 1
    )


# --- the subscriber's own block ------------------------------------------------------------------


def test_blocking_needs_the_confirm_step_and_then_blocks_audits_and_sends_an_sms(web, line):
    # Given a signed-in subscriber
    signed_in(web, line)

    # When they open the block page and submit it without ticking the confirmation
    confirm_page = web.get("/profile/block/")
    unconfirmed = web.post("/profile/block/", {})

    # Then the page explains what happens, and nothing is blocked yet
    assert confirm_page.status_code == 200
    assert "Unblocking does not lift a block for debt." in confirm_page.content.decode()
    assert unconfirmed.status_code == 200
    assert "Tick the box to confirm the block." in unconfirmed.content.decode()
    assert Line.objects.get(pk=line.pk).status == LineStatus.ACTIVE

    # When they confirm
    done = web.post("/profile/block/", {"confirm": "on"})

    # Then the line is blocked by the subscriber, audited as theirs, and the SMS went out
    assert done["Location"] == "/profile/"
    assert Line.objects.get(pk=line.pk).status == LineStatus.BLOCKED_BY_SUBSCRIBER
    user = User.objects.get(msisdn=line.msisdn)
    assert (
        AuditEvent.objects.filter(
            action="line.block.subscriber", actor=f"user:{user.pk}", subject_id=str(line.pk)
        ).count()
        == 1
    )
    assert any("blocked at your request" in text for text in sms_texts(line.msisdn))
    page = web.get("/profile/").content.decode()
    assert 'data-testid="line-status">Blocked at your request<' in page
    assert 'data-testid="unblock-line"' in page


def test_unblocking_from_the_profile(web, line):
    # Given a subscriber who blocked their number
    signed_in(web, line)
    web.post("/profile/block/", {"confirm": "on"})

    # When they unblock it
    response = web.post("/profile/unblock/")

    # Then it works again and they are told so
    assert response["Location"] == "/profile/"
    assert Line.objects.get(pk=line.pk).status == LineStatus.ACTIVE
    assert "Your number is unblocked and works again." in web.get("/profile/").content.decode()


def test_unblocking_a_line_blocked_only_for_debt_is_refused_from_the_profile(web, line):
    # Given a subscriber whose line is blocked for debt
    signed_in(web, line)
    set_line_status(line, status=LineStatus.BLOCKED_FOR_DEBT, actor="system:billing")
    first = last_audit_id()

    # When they post to the unblock address
    web.post("/profile/unblock/")

    # Then the debt block stays, nothing was audited, and the page says why
    assert Line.objects.get(pk=line.pk).status == LineStatus.BLOCKED_FOR_DEBT
    assert actions_since(first) == []
    assert "This line is not blocked at your request." in web.get("/profile/").content.decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/profile/"),
        ("post", "/profile/details/"),
        ("get", "/profile/block/"),
        ("post", "/profile/unblock/"),
    ],
)
def test_profile_pages_need_a_signed_in_subscriber(web, line, method, path):
    # When someone who is not signed in opens a profile address
    response = getattr(web, method)(path)

    # Then they are sent to the login page and the line is untouched
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert Line.objects.get(pk=line.pk).status == LineStatus.ACTIVE


def test_the_block_form_needs_the_csrf_token(line):
    # Given a signed-in subscriber, in a browser that enforces CSRF
    browser = CommittingClient(enforce_csrf_checks=True, REMOTE_ADDR="192.0.2.10")
    user = User.objects.create(username=line.msisdn, msisdn=line.msisdn, language="en")
    browser.force_login(user)

    # When another site posts to the block page
    response = browser.post("/profile/block/", {"confirm": "on"})

    # Then it is refused and nothing is blocked
    assert response.status_code == 403
    assert Line.objects.get(pk=line.pk).status == LineStatus.ACTIVE


# --- /api/v1/profile/ ---------------------------------------------------------------------------------


@pytest.fixture
def app_token(line) -> str:
    from selfcare.identity import services
    from tests.identity.conftest import CLIENT

    user = User.objects.create(username=line.msisdn, msisdn=line.msisdn, language="en")
    return services.issue_api_tokens(user, device_id="install-1", client=CLIENT, method="test").access_token


def api(method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    client = CommittingClient()
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(f"/api/v1/profile/{path}", **kwargs)


def test_api_reads_and_patches_the_profile(line, app_token):
    # When the app reads the profile, then changes the language and the SMS kinds only
    before = api("get", "", app_token)
    patched = api("patch", "", app_token, {"language": "fa", "sms_enabled": ["low_balance"]})

    # Then it sees the defaults first, then its change, with the e-mail untouched
    assert before.status_code == 200
    assert before.json() == {
        "msisdn": line.msisdn,
        "email": "",
        "email_editable": True,
        "language": "en",
        "sms_enabled": ALL_KINDS,
        "line_status": "active",
        "blocked_by_subscriber": False,
    }
    assert patched.status_code == 200
    assert patched.json()["language"] == "fa"
    assert patched.json()["sms_enabled"] == ["low_balance"]
    assert patched.json()["email"] == ""


def test_api_refuses_a_bad_email_as_problem_json(line, app_token):
    # When the app sends an address that is not one
    response = api("patch", "", app_token, {"email": "not-an-address"})

    # Then it is a 422 problem and nothing changed
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_email"
    assert customer_of(line).email == ""


def test_api_blocks_and_unblocks_and_refuses_a_second_unblock(line, app_token):
    # When the app blocks, unblocks, and unblocks again
    blocked = api("post", "block", app_token)
    unblocked = api("post", "unblock", app_token)
    again = api("post", "unblock", app_token)

    # Then the statuses follow, and the second unblock is a 409 problem
    assert (blocked.status_code, blocked.json()["line_status"]) == (200, "blocked_subscriber")
    assert blocked.json()["blocked_by_subscriber"] is True
    assert (unblocked.status_code, unblocked.json()["line_status"]) == (200, "active")
    assert again.status_code == 409
    assert again.json()["code"] == "line_not_blocked_by_subscriber"
    assert [t for t in OutboundSms.objects.filter(msisdn=line.msisdn).values_list("template", flat=True)] == [
        "lines.blocked_by_subscriber",
        "lines.unblocked_by_subscriber",
    ]


def test_api_needs_a_bearer_token(line):
    # When the app calls without a token
    response = CommittingClient().get("/api/v1/profile/")

    # Then it is a 401 problem
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
