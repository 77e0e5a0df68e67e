"""Staff decide business applications in the back office, through the services."""

from __future__ import annotations

import pytest

from selfcare.companies.models import Application, Company, Invitation
from selfcare.identity.models import User
from tests.companies.conftest import CommittingClient
from tests.companies.factories import submit

pytestmark = pytest.mark.django_db


def test_staff_list_and_filter_applications(backoffice, region, three_lines):
    application = submit(region, three_lines)

    listing = backoffice.get("/backoffice/companies/application/?status__exact=submitted")
    empty = backoffice.get("/backoffice/companies/application/?status__exact=approved")

    assert application.tracking_number in listing.content.decode()
    assert application.tracking_number not in empty.content.decode()
    change = backoffice.get(f"/backoffice/companies/application/{application.pk}/change/").content.decode()
    assert f"/backoffice/companies/application/{application.pk}/review/" in change


def test_staff_approve_with_a_credit_limit(backoffice, staff, region, three_lines):
    application = submit(region, three_lines)
    url = f"/backoffice/companies/application/{application.pk}/review/"

    page = backoffice.get(url)
    response = backoffice.post(
        url, {"decision": "approve", "account_kind": "postpaid", "credit_limit": "50 000"}
    )

    assert page.status_code == 200
    assert response.status_code == 302
    company = Company.objects.get()
    assert (company.account.kind, company.account.credit_limit_minor) == ("postpaid", 5_000_000)
    stored = Application.objects.get(pk=application.pk)
    assert (stored.status, stored.reviewed_by) == ("approved", f"staff:{staff.pk}")
    assert Invitation.objects.filter(company=company, role="admin").count() == 1


def test_staff_reject_with_a_reason_and_cannot_decide_twice(backoffice, region, three_lines):
    application = submit(region, three_lines)
    url = f"/backoffice/companies/application/{application.pk}/review/"

    no_reason = backoffice.post(url, {"decision": "reject", "reason": ""})
    backoffice.post(url, {"decision": "reject", "reason": "Not a company."})
    again = backoffice.post(url, {"decision": "approve", "account_kind": "prepaid"}, follow=True)

    assert no_reason.status_code == 200
    assert "Write the reason for the rejection" in no_reason.content.decode()
    stored = Application.objects.get(pk=application.pk)
    assert (stored.status, stored.rejection_reason) == ("rejected", "Not a company.")
    assert "This application has already been decided." in again.content.decode()
    assert Company.objects.count() == 0


def test_staff_without_the_change_permission_cannot_review(region, three_lines):
    application = submit(region, three_lines)
    viewer = User.objects.create_user("viewer", password="x" * 16, is_staff=True)
    client = CommittingClient(REMOTE_ADDR="192.0.2.31")
    client.force_login(viewer)

    response = client.post(
        f"/backoffice/companies/application/{application.pk}/review/",
        {"decision": "approve", "account_kind": "prepaid"},
    )

    assert response.status_code == 403
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_subscribers_do_not_reach_the_review(region, three_lines):
    application = submit(region, three_lines)
    client = CommittingClient()
    client.force_login(User.objects.create_user("+79001112233", msisdn="+79001112233", password="x" * 16))

    response = client.post(
        f"/backoffice/companies/application/{application.pk}/review/", {"decision": "reject", "reason": "x"}
    )

    assert response.status_code == 302
    assert "/backoffice/login/" in response["Location"]
    assert Application.objects.get(pk=application.pk).status == "submitted"
