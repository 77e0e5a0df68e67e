"""The one place that says which company and role a user has, and what each role may do."""

from __future__ import annotations

from typing import Any

import pytest

from selfcare.companies import queries, services
from selfcare.companies.errors import LastAdmin, PersonAlreadyMember
from selfcare.companies.models import Role
from selfcare.companies.queries import Permission, role_allows
from tests.companies.cabinet_world import World, world_fixture  # noqa: F401 - the `world` fixture
from tests.companies.factories import make_company, make_member, memberships
from tests.concurrency import run_in_threads

pytestmark = pytest.mark.django_db

# The role matrix of docs/companies.md, written out.
MATRIX = {
    Permission.VIEW_COMPANY: {"admin", "accountant", "viewer"},
    Permission.VIEW_MONEY: {"admin", "accountant", "viewer"},
    Permission.MANAGE_MONEY: {"admin", "accountant"},
    Permission.VIEW_LINES: {"admin", "accountant", "viewer"},
    Permission.MANAGE_LINES: {"admin"},
    Permission.VIEW_MEMBERS: {"admin"},
    Permission.MANAGE_MEMBERS: {"admin"},
    Permission.ORDER_CALL_DETAIL: {"admin"},
}


@pytest.mark.parametrize("permission", list(Permission))
def test_the_role_matrix(permission: Permission) -> None:
    allowed = {role for role in Role.values if role_allows(role, permission)}
    assert allowed == MATRIX[permission]


def test_get_membership_answers_for_members_only(world: World) -> None:
    company = world.company.pk
    assert queries.get_membership(world.users["admin"], company).role == "admin"  # type: ignore[union-attr]
    assert queries.get_membership(world.users["employee"], company).line_id == world.employee_line.pk  # type: ignore[union-attr]
    assert queries.get_membership(world.users["other_admin"], company) is None
    assert queries.get_membership(world.users["subscriber"], company) is None
    assert queries.get_membership(None, company) is None


def test_lines_are_seen_within_the_company_and_by_an_employee_only_their_own(world: World) -> None:
    viewer = queries.get_access(world.users["viewer"], world.company.pk)
    employee = queries.get_access(world.users["employee"], world.company.pk)
    assert viewer is not None
    assert employee is not None
    assert queries.get_company_line(viewer, world.second_line.pk).pk == world.second_line.pk
    assert queries.get_company_line(viewer, world.other_line.pk) is None
    assert queries.get_company_line(employee, world.employee_line.pk).pk == world.employee_line.pk
    assert queries.get_company_line(employee, world.second_line.pk) is None


def test_removing_the_last_admin_is_refused_and_changes_nothing(world: World) -> None:
    admin = next(m for m in queries.list_members(world.company) if m.role == "admin")
    before = memberships(world.company)
    with pytest.raises(LastAdmin):
        services.remove_member(company=world.company, membership_id=admin.pk, actor="test")
    assert memberships(world.company) == before


def test_a_member_is_not_invited_again(world: World) -> None:
    viewer: Any = world.users["viewer"]
    with pytest.raises(PersonAlreadyMember):
        services.invite_member(
            company=world.company, name="V", phone=viewer.msisdn, role="viewer", actor="test"
        )


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin() -> None:
    # given a company with exactly two admins
    company = make_company()
    first, second = make_member(company, Role.ADMIN), make_member(company, Role.ADMIN)
    ids = {m.user_id: m.pk for m in queries.list_members(company)}
    targets = [ids[second.pk], ids[first.pk]]

    # when each demotes the other at the same moment
    def work(index: int) -> object:
        return services.change_member_role(
            company=company, membership_id=targets[index], role="viewer", actor=f"user:{index}"
        )

    results = run_in_threads(2, work, exceptions_as_results=True)

    # then one demotion went through and the other was refused: one admin is left
    assert sorted(type(result).__name__ for result in results) == ["LastAdmin", "Membership"]
    assert queries.count_admins(company.pk) == 1
