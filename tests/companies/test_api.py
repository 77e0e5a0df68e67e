"""/api/v1/companies/: every route against every kind of caller, problem+json errors, and the figures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from selfcare.companies.models import Invitation, Membership
from tests.companies.cabinet_world import ACTORS, World, bearer, world_fixture  # noqa: F401 - the `world` fixture

pytestmark = pytest.mark.django_db


def _expect(**by_actor: int) -> dict[str, int]:
    return {"other_admin": 404, "anonymous": 401, "subscriber": 404, "staff": 404, **by_actor}


ROUTES: list[tuple[str, str, Any, dict[str, Any] | None, dict[str, int]]] = [
    (
        "summary",
        "get",
        lambda w: f"/api/v1/companies/{w.company.pk}",
        None,
        _expect(admin=200, accountant=200, viewer=200, employee=403),
    ),
    (
        "lines",
        "get",
        lambda w: f"/api/v1/companies/{w.company.pk}/lines",
        None,
        _expect(admin=200, accountant=200, viewer=200, employee=403),
    ),
    (
        "employee's own line",
        "get",
        lambda w: f"/api/v1/companies/{w.company.pk}/lines/{w.employee_line.pk}",
        None,
        _expect(admin=200, accountant=200, viewer=200, employee=200),
    ),
    (
        "another line of the company",
        "get",
        lambda w: f"/api/v1/companies/{w.company.pk}/lines/{w.second_line.pk}",
        None,
        _expect(admin=200, accountant=200, viewer=200, employee=404),
    ),
    (
        "another company's line",
        "get",
        lambda w: f"/api/v1/companies/{w.company.pk}/lines/{w.other_line.pk}",
        None,
        _expect(admin=404, accountant=404, viewer=404, employee=404),
    ),
    (
        "members",
        "get",
        lambda w: f"/api/v1/companies/{w.company.pk}/members",
        None,
        _expect(admin=200, accountant=403, viewer=403, employee=403),
    ),
    (
        "invite",
        "post",
        lambda w: f"/api/v1/companies/{w.company.pk}/invitations",
        {"name": "Nina", "phone": "+79165554433", "role": "viewer"},
        _expect(admin=201, accountant=403, viewer=403, employee=403),
    ),
    (
        "change role",
        "patch",
        lambda w: f"/api/v1/companies/{w.company.pk}/members/{w.viewer_membership.pk}",
        {"role": "accountant"},
        _expect(admin=200, accountant=403, viewer=403, employee=403),
    ),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("route", ROUTES, ids=[route[0] for route in ROUTES])
def test_every_api_route_checks_role_and_ownership(world: World, route: Any, actor: str) -> None:
    # given a caller of one kind (a bearer token, or none)
    _name, method, path, body, expected = route
    before = world.state()
    # when they call the route
    kwargs: dict[str, Any] = {"headers": bearer(world.users[actor])}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = getattr(Client(), method)(path(world), **kwargs)
    # then the answer is the table's, errors are problem+json, and a refused write changes nothing
    assert response.status_code == expected[actor]
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
    if method != "get":
        if response.status_code >= 400:
            assert world.state() == before
        else:
            assert world.state() != before


def test_the_summary_and_lines_say_what_the_company_has(world: World) -> None:
    auth = bearer(world.users["accountant"])
    summary = Client().get(f"/api/v1/companies/{world.company.pk}", headers=auth).json()
    assert summary["name"] == "Acme LLC"
    assert summary["role"] == "accountant"
    assert (summary["account_kind"], summary["balance_minor"], summary["credit_limit_minor"]) == (
        "postpaid",
        0,
        100_000,
    )
    assert (summary["available_minor"], summary["owed_minor"], summary["spent_month_minor"]) == (
        100_000,
        0,
        0,
    )
    assert summary["lines_by_status"] == {"active": 2}
    lines = (
        Client()
        .get(f"/api/v1/companies/{world.company.pk}/lines", {"search": "Boris", "per_page": 1}, headers=auth)
        .json()
    )
    assert (lines["count"], lines["pages"], lines["per_page"]) == (1, 1, 1)
    assert [item["id"] for item in lines["items"]] == [world.second_line.pk]
    assert lines["items"][0]["holder_name"] == "Boris Sidorov"


def test_the_last_admin_keeps_the_role_through_the_api(world: World) -> None:
    admin = Membership.objects.get(company=world.company, role="admin")
    before = world.state()
    response = Client().patch(
        f"/api/v1/companies/{world.company.pk}/members/{admin.pk}",
        data=json.dumps({"role": "viewer"}),
        content_type="application/json",
        headers=bearer(world.users["admin"]),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "last_admin"
    assert world.state() == before


def test_an_invitation_with_an_unknown_role_is_refused(world: World) -> None:
    response = Client().post(
        f"/api/v1/companies/{world.company.pk}/invitations",
        data=json.dumps({"name": "X", "phone": "+79165554433", "role": "owner"}),
        content_type="application/json",
        headers=bearer(world.users["admin"]),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_role"
    assert not Invitation.objects.exists()


def test_the_company_routes_are_in_the_openapi_document(db: Any) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/companies/{company_id}",
        "/api/v1/companies/{company_id}/lines",
        "/api/v1/companies/{company_id}/lines/{line_id}",
        "/api/v1/companies/{company_id}/members",
        "/api/v1/companies/{company_id}/invitations",
        "/api/v1/companies/{company_id}/members/{member_id}",
    } <= set(paths)
    assert "patch" in paths["/api/v1/companies/{company_id}/members/{member_id}"]
