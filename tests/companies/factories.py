"""Companies for the tests: applications as the public form makes them (through the service, lines
proven by PUK), and companies with lines and members made directly."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from selfcare.catalog.models import Region, Tariff
from selfcare.companies import services
from selfcare.companies.models import Application, Company, Membership, Role
from selfcare.identity.models import User
from selfcare.kit import clock
from selfcare.lines.models import Line
from tests.companies.conftest import CLIENT, INN
from tests.factories import (
    make_account,
    make_customer,
    make_line,
    make_region,
    make_tariff,
    next_number,
    unique_iccid,
    unique_msisdn,
)

CONTACT_PHONE = "+79161234567"
CONTACT_EMAIL = "anna@romashka.example"


def submit(region: Region, pairs: list[tuple[Line, str]], **overrides: Any) -> Application:
    fields: dict[str, Any] = {
        "region_id": region.pk,
        "company_name": "Romashka LLC",
        "tax_id": INN,
        "legal_address": "Moscow, Tverskaya 1",
        "contact_name": "Anna Smirnova",
        "contact_phone": CONTACT_PHONE,
        "contact_email": CONTACT_EMAIL,
        "numbers": [(line.msisdn, puk) for line, puk in pairs],
        "client": CLIENT,
        **overrides,
    }
    return services.submit_application(**fields)


def make_company(
    *,
    name: str = "Acme LLC",
    kind: str = "postpaid",
    credit_limit_minor: int = 100_000,
    lines: int = 0,
    tariff: Tariff | None = None,
) -> Company:
    """A company on a postpaid account (credit limit 1,000.00 by default) with `lines` lines."""
    customer = make_customer(name=name, kind="organization")
    account = make_account(
        customer=customer, kind=kind, credit_limit_minor=credit_limit_minor if kind == "postpaid" else 0
    )
    company = Company.objects.create(
        customer=customer,
        account=account,
        region=make_region(),
        name=name,
        tax_id=f"77{next_number():08d}",
        legal_address="Moscow, Tverskaya 1",
        contact_name="Olga Ivanova",
        contact_phone=unique_msisdn(),
        contact_email="olga@example.com",
        created_at=clock.now(),
    )
    tariff = tariff or make_tariff()
    for index in range(lines):
        add_line(company, tariff=tariff, holder_name=f"Employee {index + 1}")
    return company


def add_line(
    company: Company, *, tariff: Tariff | None = None, holder_name: str = "", msisdn: str | None = None
) -> Line:
    line = make_line(account=company.account, tariff=tariff or make_tariff(), msisdn=msisdn)
    if holder_name:
        Line.objects.filter(pk=line.pk).update(holder_name=holder_name)
        line.holder_name = holder_name
    return line


def bulk_lines(company: Company, count: int, *, tariff: Tariff) -> None:
    """`count` lines on the company's account in one INSERT (no history rows: for read-path tests)."""
    now = timezone.now()
    base = next_number() * 100_000
    Line.objects.bulk_create(
        [
            Line(
                msisdn=f"+7901{(base + i) % 10_000_000:07d}",
                iccid=unique_iccid(),
                account_id=company.account_id,
                tariff=tariff,
                status="active",
                status_changed_at=now,
                activated_at=now,
                holder_name=f"Bulk {i:05d}",
            )
            for i in range(count)
        ],
        batch_size=2000,
    )


def make_member(company: Company, role: str, *, line: Line | None = None, name: str = "") -> User:
    """A company user (phone + password, no line of their own) with a membership in `company`."""
    msisdn = unique_msisdn()
    user = User.objects.create_user(username=msisdn, msisdn=msisdn, first_name=name or role.title())
    if role == Role.EMPLOYEE and line is None:
        line = add_line(company, holder_name=name or "Employee")
    Membership.objects.create(company=company, user=user, role=role, line=line, created_at=clock.now())
    return user


def memberships(company: Company) -> list[tuple[int, str, Any]]:
    return list(
        Membership.objects.filter(company=company).order_by("id").values_list("user_id", "role", "line_id")
    )
