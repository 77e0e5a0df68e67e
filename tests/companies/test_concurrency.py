"""Two staff members deciding one application at once, and two applications racing for one number."""

from __future__ import annotations

import pytest

from selfcare.companies import services
from selfcare.companies.errors import ApplicationNotPending, NumbersRefused
from selfcare.companies.models import Application, ApplicationNumber, Company, Invitation
from selfcare.identity.services import Client as ServiceClient
from selfcare.lines.models import Account, Line
from tests.companies.conftest import make_puk_line
from tests.companies.factories import submit
from tests.concurrency import run_in_threads
from tests.factories import make_region

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_staff_approving_at_once_make_one_company():
    # Given a submitted application with two lines
    region = make_region()
    pairs = [(make_puk_line("12345678"), "12345678"), (make_puk_line("23456789"), "23456789")]
    application = submit(region, pairs)
    accounts_before = Account.objects.count()

    # When two staff members approve it at the same moment
    results = run_in_threads(
        2,
        lambda i: services.approve_application(
            application, account_kind="postpaid", credit_limit_minor=100_000 * (i + 1), actor=f"staff:{i}"
        ),
        exceptions_as_results=True,
    )

    # Then one wins, the other is told it is decided, and exactly one company exists
    assert sorted(type(result).__name__ for result in results) == ["ApplicationNotPending", "Company"]
    assert [r for r in results if isinstance(r, ApplicationNotPending)]
    company = Company.objects.get()
    assert Account.objects.count() == accounts_before + 1
    assert Invitation.objects.count() == 1
    assert set(Line.objects.filter(account=company.account_id).values_list("pk", flat=True)) == {
        line.pk for line, _puk in pairs
    }
    assert Application.objects.get(pk=application.pk).company_id == company.pk


def test_two_applications_for_one_number_at_once_take_it_once():
    region = make_region()
    line = make_puk_line("12345678")

    results = run_in_threads(
        2,
        lambda i: submit(region, [(line, "12345678")], client=ServiceClient(ip=f"198.51.100.{i}")),
        exceptions_as_results=True,
    )

    assert sorted(type(result).__name__ for result in results) == ["Application", "NumbersRefused"]
    assert [r for r in results if isinstance(r, NumbersRefused)]
    assert ApplicationNumber.objects.filter(line=line).count() == 1
