"""The public business pages: the application form, its status page and the invitation page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfcare.companies import services
from selfcare.companies.models import Application, Invitation, Membership
from selfcare.identity.models import User, UserSession
from selfcare.kit import clock
from selfcare.notifications.models import OutboundSms
from tests.companies.conftest import INN, PASSWORD
from tests.companies.factories import submit
from tests.factories import unique_msisdn

pytestmark = pytest.mark.django_db


def _form(region, rows, **overrides):
    data = {
        "region": str(region.pk),
        "company_name": "Romashka LLC",
        "tax_id": INN,
        "legal_address": "Moscow, Tverskaya 1",
        "contact_name": "Anna Smirnova",
        "contact_phone": "8 916 123-45-67",
        "contact_email": "anna@romashka.example",
        "accept_terms": "on",
        "numbers-TOTAL_FORMS": str(len(rows)),
        "numbers-INITIAL_FORMS": "0",
        "numbers-MIN_NUM_FORMS": "0",
        "numbers-MAX_NUM_FORMS": "50",
    }
    for index, (number, puk) in enumerate(rows):
        data[f"numbers-{index}-number"] = number
        data[f"numbers-{index}-puk"] = puk
    data.update(overrides)
    return data


def test_the_business_page_links_to_the_form_and_the_form_lists_regions(web, region):
    assert 'href="/business/apply/"' in web.get("/business/").content.decode()

    page = web.get("/business/apply/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Moscow" in html
    assert html.count('name="numbers-') == 3 * 2 + 4  # three rows of two fields and the management form
    assert "<script>" not in html


def test_more_rows_keeps_what_was_typed_and_shows_no_errors(web, region, three_lines):
    line, puk = three_lines[0]

    page = web.post(
        "/business/apply/", _form(region, [(line.msisdn, puk)], more_rows="1", company_name="Typed")
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Typed"' in html
    assert f'value="{line.msisdn}"' in html
    assert 'name="numbers-3-number"' in html
    assert 'name="numbers-4-number"' not in html
    assert "field-error" not in html
    assert Application.objects.count() == 0


def test_submitting_the_form_shows_the_status_page(web, region, three_lines):
    rows = [(" ".join([line.msisdn[:2], line.msisdn[2:]]), puk) for line, puk in three_lines] + [("", "")]

    response = web.post("/business/apply/", _form(region, rows))

    application = Application.objects.get()
    token = services.status_token(application.tracking_number)
    assert response.status_code == 302
    assert response["Location"] == f"/business/applications/{application.tracking_number}/{token}/"
    assert application.contact_phone == "+79161234567"
    assert application.numbers.count() == 3
    status = web.get(response["Location"])
    assert status.status_code == 200
    assert application.tracking_number in status.content.decode()
    assert OutboundSms.objects.filter(template="companies.application_received").count() == 1


def test_a_wrong_pair_is_shown_on_its_row_with_the_generic_words(web, region, three_lines):
    line, _puk = three_lines[0]

    response = web.post(
        "/business/apply/", _form(region, [(line.msisdn, "99999999"), (unique_msisdn(), "1")])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("This number and PUK code do not match.") == 2
    assert Application.objects.count() == 0


def test_a_wrong_inn_and_missing_terms_are_form_errors(web, region, three_lines):
    line, puk = three_lines[0]
    data = _form(region, [(line.msisdn, puk)], tax_id="7707083894")
    del data["accept_terms"]

    html = web.post("/business/apply/", data).content.decode()

    assert "This is not a valid tax id." in html
    assert "Tick the box to accept the terms." in html
    assert Application.objects.count() == 0


def test_no_number_and_a_duplicate_number_are_refused(web, region, three_lines):
    line, puk = three_lines[0]

    empty = web.post("/business/apply/", _form(region, [("", "")])).content.decode()
    twice = web.post(
        "/business/apply/", _form(region, [(line.msisdn, puk), (line.msisdn, puk)])
    ).content.decode()

    assert "Add at least one number with its PUK code." in empty
    assert "This number is listed twice." in twice
    assert Application.objects.count() == 0


def test_the_rate_limit_answers_429(web, region, settings):
    settings.SELFCARE_BUSINESS_APPLICATIONS_PER_IP_DAY = 1
    web.post("/business/apply/", _form(region, [(unique_msisdn(), "1")]))

    response = web.post("/business/apply/", _form(region, [(unique_msisdn(), "1")]))

    assert response.status_code == 429
    assert "Too many requests." in response.content.decode()


def test_the_status_page_needs_its_token(web, region, three_lines):
    application = submit(region, three_lines)
    token = services.status_token(application.tracking_number)

    assert web.get(f"/business/applications/{application.tracking_number}/{token}/").status_code == 200
    assert web.get(f"/business/applications/{application.tracking_number}/{'0' * 32}/").status_code == 404
    assert web.get(f"/business/applications/B-2026-00000000/{token}/").status_code == 404


def test_the_status_page_shows_the_rejection_reason(web, region, three_lines):
    application = submit(region, three_lines)
    services.reject_application(application, reason="Wrong company details.", actor="staff:1")

    html = web.get(services.status_url(application).removeprefix("http://127.0.0.1:8000")).content.decode()

    assert "Wrong company details." in html
    assert "Rejected" in html


@pytest.fixture
def invitation(region, three_lines):
    application = submit(region, three_lines)
    company = services.approve_application(
        application, account_kind="prepaid", credit_limit_minor=0, actor="s"
    )
    phone = unique_msisdn()
    return services.create_invitation(company, role="admin", name="Anna", phone=phone, actor="s")


def test_accepting_the_invitation_sets_the_password_and_signs_in(web, invitation):
    row, token = invitation
    url = f"/business/invitations/{token}/"

    page = web.get(url)
    weak = web.post(url, {"password1": "short", "password2": "short"})
    response = web.post(url, {"password1": PASSWORD, "password2": PASSWORD})

    assert page.status_code == 200
    assert "Romashka LLC" in page.content.decode()
    assert weak.status_code == 200
    assert Membership.objects.count() == 1
    assert response.status_code == 302
    assert response["Location"] == "/business/cabinet/"  # the start page: the first company's home
    user = User.objects.get(msisdn=row.phone)
    assert web.session["_auth_user_id"] == str(user.pk)
    assert UserSession.objects.filter(user=user, ended_at__isnull=True).count() == 1
    assert Invitation.objects.get(pk=row.pk).accepted_at is not None
    # The link is spent: it says so, and cannot be used again
    again = web.get(url)
    assert again.status_code == 410
    assert "already been accepted" in again.content.decode()


def test_an_expired_invitation_page_says_so(web, invitation):
    row, token = invitation

    with clock.frozen(row.expires_at + timedelta(seconds=1)):
        page = web.get(f"/business/invitations/{token}/")
        post = web.post(f"/business/invitations/{token}/", {"password1": PASSWORD, "password2": PASSWORD})

    assert page.status_code == 410
    assert "This invitation has expired" in page.content.decode()
    assert post.status_code == 410
    assert Membership.objects.count() == 0


def test_an_unknown_invitation_is_404(web, db):
    assert web.get("/business/invitations/nothing-here/").status_code == 404
