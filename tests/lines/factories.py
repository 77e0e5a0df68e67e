"""Companies for the quota and credit-limit tests (lines of a corporate account, admins to notify)."""

from __future__ import annotations

from selfcare.companies.models import Company, Membership, Role
from selfcare.identity.models import User
from selfcare.kit import clock
from selfcare.lines.models import AccountKind
from tests.factories import make_account, make_customer, make_region


def make_company(*, admins: int = 1, credit_limit_minor: int = 100_000) -> Company:
    customer = make_customer(name="Romashka LLC", kind="organization")
    account = make_account(
        customer=customer, kind=AccountKind.POSTPAID, credit_limit_minor=credit_limit_minor
    )
    company = Company.objects.create(
        customer=customer,
        account=account,
        region=make_region(),
        name="Romashka LLC",
        tax_id="7707083893",
        legal_address="Moscow, Tverskaya 1",
        contact_name="Anna Admin",
        contact_phone="+79005550000",
        contact_email="anna@example.com",
        created_at=clock.now(),
    )
    for index in range(admins):
        user = User.objects.create(
            username=f"admin-{company.pk}-{index}",
            msisdn=f"+7900555{company.pk % 100:02d}{index:02d}",
            language="en",
        )
        Membership.objects.create(company=company, user=user, role=Role.ADMIN, created_at=clock.now())
    viewer = User.objects.create(username=f"viewer-{company.pk}", msisdn=f"+7900666{company.pk % 10_000:04d}")
    Membership.objects.create(company=company, user=viewer, role=Role.VIEWER, created_at=clock.now())
    return company


def add_employee(company: Company, line: object, *, name: str) -> Membership:
    """A person with the employee role on one of the company's lines."""
    user = User.objects.create(username=f"employee-{company.pk}-{name}", first_name=name)
    return Membership.objects.create(
        company=company, user=user, role=Role.EMPLOYEE, line=line, created_at=clock.now()
    )
