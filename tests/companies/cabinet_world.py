"""The world of the corporate cabinet tests: two companies, a member of each role, a subscriber and
staff; clients signed in as each (pages) or with their bearer token (API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from selfcare.companies.models import Company, Invitation, Membership, Role
from selfcare.identity.models import User
from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.services import issue_api_tokens
from selfcare.lines.models import Line
from tests.companies.factories import add_line, make_company, make_member
from tests.factories import make_account, make_customer, make_line

APP = ServiceClient(ip="192.0.2.30", user_agent="app", language="en")
ACTORS = ("admin", "accountant", "viewer", "employee", "other_admin", "anonymous", "subscriber", "staff")


@dataclass
class World:
    company: Company
    other: Company
    users: dict[str, User | None]
    employee_line: Line
    second_line: Line
    other_line: Line
    viewer_membership: Membership

    def state(self) -> tuple[Any, ...]:
        """Everything a denied write must leave as it was."""
        return (
            list(
                Membership.objects.order_by("id").values_list(
                    "id", "company_id", "user_id", "role", "line_id"
                )
            ),
            list(Invitation.objects.order_by("id").values_list("id", "company_id", "role", "phone")),
        )


@pytest.fixture(name="world")
def world_fixture(db: Any) -> World:
    company = make_company(name="Acme LLC")
    second_line = add_line(company, holder_name="Boris Sidorov")
    other = make_company(name="Other Corp")
    other_line = add_line(other, holder_name="Someone Else")
    users: dict[str, User | None] = {role: make_member(company, role) for role in Role.values}
    users["other_admin"] = make_member(other, Role.ADMIN)
    users["anonymous"] = None
    line = make_line(account=make_account(customer=make_customer()))
    users["subscriber"] = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn)
    # Operator staff act in the back office; the corporate pages are the members' only.
    users["staff"] = User.objects.create_user(username="operator", is_staff=True, is_superuser=True)
    employee = Membership.objects.get(company=company, role=Role.EMPLOYEE)
    return World(
        company=company,
        other=other,
        users=users,
        employee_line=employee.line,  # type: ignore[arg-type]
        second_line=second_line,
        other_line=other_line,
        viewer_membership=Membership.objects.get(company=company, role=Role.VIEWER),
    )


def web_client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def bearer(user: User | None) -> dict[str, str]:
    if user is None:
        return {}
    pair = issue_api_tokens(user, device_id="install-1", client=APP, method="test")
    return {"Authorization": f"Bearer {pair.access_token}"}
