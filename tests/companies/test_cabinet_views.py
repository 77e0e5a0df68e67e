"""The corporate pages: every route against every kind of visitor, the home page's figures, the lines
list (filters, sorting, a bounded number of queries with 10,000 lines) and managing people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from selfcare.billing import services as billing
from selfcare.companies.models import Invitation, Membership, Role
from selfcare.kit import clock
from selfcare.notifications.models import OutboundSms
from tests.companies.cabinet_world import ACTORS, World, web_client, world_fixture  # noqa: F401 - the `world` fixture
from tests.companies.factories import add_line, bulk_lines, make_company, make_member, memberships
from tests.factories import make_tariff

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the sign-in page
ALL = dict.fromkeys(ACTORS)


def _expect(**by_actor: Any) -> dict[str, Any]:
    return {**ALL, "other_admin": 404, "anonymous": LOGIN, "subscriber": 404, "staff": 404, **by_actor}


# (name, method, path(world) -> str, data, expected by actor). 302 for a write means it was done.
ROUTES: list[tuple[str, str, Any, dict[str, str], dict[str, Any]]] = [
    (
        "home",
        "get",
        lambda w: f"/business/{w.company.pk}/",
        {},
        _expect(admin=200, accountant=200, viewer=200, employee=302),
    ),
    (
        "lines",
        "get",
        lambda w: f"/business/{w.company.pk}/lines/",
        {},
        _expect(admin=200, accountant=200, viewer=200, employee=403),
    ),
    (
        "employee's own line",
        "get",
        lambda w: f"/business/{w.company.pk}/lines/{w.employee_line.pk}/",
        {},
        _expect(admin=200, accountant=200, viewer=200, employee=200),
    ),
    (
        "another line of the company",
        "get",
        lambda w: f"/business/{w.company.pk}/lines/{w.second_line.pk}/",
        {},
        _expect(admin=200, accountant=200, viewer=200, employee=404),
    ),
    (
        "another company's line",
        "get",
        lambda w: f"/business/{w.company.pk}/lines/{w.other_line.pk}/",
        {},
        _expect(admin=404, accountant=404, viewer=404, employee=404),
    ),
    (
        "members",
        "get",
        lambda w: f"/business/{w.company.pk}/members/",
        {},
        _expect(admin=200, accountant=403, viewer=403, employee=403),
    ),
    (
        "invite",
        "post",
        lambda w: f"/business/{w.company.pk}/members/",
        {"name": "Nina", "phone": "+7 916 555-44-33", "email": "", "role": "viewer", "line": ""},
        _expect(admin=302, accountant=403, viewer=403, employee=403),
    ),
    (
        "change role",
        "post",
        lambda w: f"/business/{w.company.pk}/members/{w.viewer_membership.pk}/role/",
        {"role": "accountant"},
        _expect(admin=302, accountant=403, viewer=403, employee=403),
    ),
    (
        "remove member",
        "post",
        lambda w: f"/business/{w.company.pk}/members/{w.viewer_membership.pk}/remove/",
        {},
        _expect(admin=302, accountant=403, viewer=403, employee=403),
    ),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("route", ROUTES, ids=[route[0] for route in ROUTES])
def test_every_page_checks_role_and_ownership(world: World, route: Any, actor: str) -> None:
    # given a visitor of one kind and a route of the company
    _name, method, path, data, expected = route
    client = web_client(world.users[actor])
    before = world.state()
    # when they ask for it
    response = getattr(client, method)(path(world), data)
    # then they get what the table says, and a refused write changes nothing
    wanted = expected[actor]
    if wanted == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(settings.LOGIN_URL)
    else:
        assert response.status_code == wanted
    if method == "post" and wanted != 302:
        assert world.state() == before
    if method == "post" and wanted == 302 and actor == "admin":
        assert world.state() != before


def test_another_company_member_cannot_act_on_our_member_through_their_own_company(world: World) -> None:
    # given the other company's admin, naming our viewer under their own company
    client = web_client(world.users["other_admin"])
    before = world.state()
    # when they try to change and remove our member
    changed = client.post(
        f"/business/{world.other.pk}/members/{world.viewer_membership.pk}/role/", {"role": "admin"}
    )
    removed = client.post(f"/business/{world.other.pk}/members/{world.viewer_membership.pk}/remove/")
    # then it is not found and nothing changed
    assert (changed.status_code, removed.status_code) == (404, 404)
    assert world.state() == before


def test_an_employee_lands_on_their_own_line(world: World) -> None:
    client = web_client(world.users["employee"])
    response = client.get(f"/business/{world.company.pk}/")
    assert response["Location"] == f"/business/{world.company.pk}/lines/{world.employee_line.pk}/"


def test_the_home_page_shows_the_companys_money_and_spending(db: Any) -> None:
    # given a company on credit (1,000.00) with two lines charged their monthly fees on the 1st
    with clock.frozen(datetime.fromisoformat("2026-03-01T09:00:00+03:00")):
        big = make_tariff(fee_minor=30_000)
        small = make_tariff(fee_minor=10_000)
        company = make_company(credit_limit_minor=100_000)
        first = add_line(company, tariff=big, holder_name="Anna Big")
        second = add_line(company, tariff=small, holder_name="Boris Small")
        admin = make_member(company, Role.ADMIN)
        billing.charge_fees()
        # when the admin opens the company home
        page = web_client(admin).get(f"/business/{company.pk}/")
    # then the balance is what the fees took, and the rest follows from it
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="balance" data-amount="-40000"' in html
    assert 'data-testid="credit-limit" data-amount="100000"' in html
    assert 'data-testid="available" data-amount="60000"' in html
    assert 'data-testid="owed" data-amount="40000"' in html
    assert 'data-testid="spent-month" data-amount="40000"' in html
    assert 'data-category="subscription" data-amount="40000"' in html
    assert 'data-category="calls" data-amount="0"' in html
    assert html.index(f'data-line="{first.pk}" data-amount="30000"') < html.index(
        f'data-line="{second.pk}" data-amount="10000"'
    )
    assert page.context["summary"].lines_total == 2


def test_the_lines_list_searches_filters_and_sorts(db: Any) -> None:
    # given a company with three lines on two tariffs, one blocked
    with clock.frozen(datetime.fromisoformat("2026-03-01T09:00:00+03:00")):
        cheap = make_tariff(fee_minor=5_000, name={"en": "Cheap"})
        dear = make_tariff(fee_minor=20_000, name={"en": "Dear"})
        company = make_company()
        anna = add_line(company, tariff=cheap, holder_name="Anna", msisdn="+79005550101")
        boris = add_line(company, tariff=dear, holder_name="Boris", msisdn="+79005550102")
        vera = add_line(company, tariff=cheap, holder_name="Vera", msisdn="+79005550103")
        vera.__class__.objects.filter(pk=vera.pk).update(status="blocked_subscriber")
        billing.charge_fees()
        client = web_client(make_member(company, Role.VIEWER))
        path = f"/business/{company.pk}/lines/"

        def shown(**query: Any) -> list[int]:
            return [row.line.pk for row in client.get(path, query).context["page"].rows]

        # then each filter and sort gives exactly these lines
        assert shown() == [anna.pk, boris.pk, vera.pk]
        assert shown(q="bor") == [boris.pk]
        assert shown(q="555-01-03") == [vera.pk]
        assert shown(tariff=cheap.pk) == [anna.pk, vera.pk]
        assert shown(status="blocked_subscriber") == [vera.pk]
        assert shown(sort="name") == [anna.pk, boris.pk, vera.pk]
        assert shown(sort="spend") == [boris.pk, anna.pk, vera.pk]


def _lines_page_queries(client: Any, path: str, query: dict[str, str]) -> int:
    client.get(path, query)  # the session's first request records it
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("query", [{"sort": "name", "q": "Bulk", "page": "2"}, {"sort": "spend"}])
def test_the_lines_page_runs_as_many_queries_for_10000_lines_as_for_10(
    db: Any, query: dict[str, str]
) -> None:
    # given two companies, with 10 and with 10,000 lines
    tariff = make_tariff()
    small, big = make_company(), make_company()
    bulk_lines(small, 10, tariff=tariff)
    bulk_lines(big, 10_000, tariff=tariff)
    small_client = web_client(make_member(small, Role.ADMIN))
    big_client = web_client(make_member(big, Role.ADMIN))
    # when their admins open the lines page
    small_count = _lines_page_queries(small_client, f"/business/{small.pk}/lines/", query)
    big_count = _lines_page_queries(big_client, f"/business/{big.pk}/lines/", query)
    # then the number of queries does not grow with the number of lines
    assert big_count == small_count
    assert big_count <= 12


def test_an_admin_invites_a_person_who_gets_an_sms_with_the_link(world: World) -> None:
    client = web_client(world.users["admin"])
    response = client.post(
        f"/business/{world.company.pk}/members/",
        {
            "name": "Nina",
            "phone": "8 916 555-44-33",
            "email": "nina@example.com",
            "role": "accountant",
            "line": "",
        },
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(phone="+79165554433")
    assert (invitation.role, invitation.company_id, invitation.line_id) == (
        "accountant",
        world.company.pk,
        None,
    )
    sms = OutboundSms.objects.get(msisdn="+79165554433")
    assert sms.template == "companies.invitation"
    assert f"{settings.SELFCARE_PUBLIC_URL}/business/invitations/" in sms.text
    assert "Acme LLC" in sms.text


def test_an_employee_invitation_needs_a_line_of_the_company(world: World) -> None:
    client = web_client(world.users["admin"])
    before = world.state()
    response = client.post(
        f"/business/{world.company.pk}/members/",
        {"name": "Ivan", "phone": "+79165554434", "role": "employee", "line": world.other_line.msisdn},
    )
    assert response.status_code == 400
    assert world.state() == before
    ok = client.post(
        f"/business/{world.company.pk}/members/",
        {"name": "Ivan", "phone": "+79165554434", "role": "employee", "line": world.second_line.msisdn},
    )
    assert ok.status_code == 302
    assert Invitation.objects.get(phone="+79165554434").line_id == world.second_line.pk


def test_the_last_admin_can_be_neither_removed_nor_demoted(world: World) -> None:
    admin = Membership.objects.get(company=world.company, role=Role.ADMIN)
    client = web_client(world.users["admin"])
    before = memberships(world.company)
    client.post(f"/business/{world.company.pk}/members/{admin.pk}/remove/")
    client.post(f"/business/{world.company.pk}/members/{admin.pk}/role/", {"role": "viewer"})
    assert memberships(world.company) == before
    # with a second admin the first may step down
    client.post(f"/business/{world.company.pk}/members/{world.viewer_membership.pk}/role/", {"role": "admin"})
    client.post(f"/business/{world.company.pk}/members/{admin.pk}/role/", {"role": "viewer"})
    assert Membership.objects.get(pk=admin.pk).role == "viewer"


def test_a_company_user_without_a_line_lands_on_the_company_after_sign_in(world: World) -> None:
    # given a company admin signed in (sign-in lands on /home/, as for subscribers)
    client = web_client(world.users["admin"])
    # when they open the page sign-in lands on
    landing = client.get("/home/")
    # then they are sent to the corporate cabinet, and from there to their company
    assert landing.status_code == 302
    assert landing["Location"] == "/business/cabinet/"
    assert client.get("/business/cabinet/")["Location"] == f"/business/{world.company.pk}/"
    # and a plain subscriber's sign-in is unchanged
    assert web_client(world.users["subscriber"]).get("/home/").status_code == 200


def test_a_subscriber_who_is_also_a_member_sees_a_link_to_the_company(world: World) -> None:
    subscriber = world.users["subscriber"]
    assert subscriber is not None
    Membership.objects.create(
        company=world.company, user=subscriber, role=Role.VIEWER, created_at=clock.now()
    )
    page = web_client(subscriber).get("/home/")
    assert page.status_code == 200
    assert f'href="/business/{world.company.pk}/" data-testid="company-cabinet-link"' in page.content.decode()


def test_a_wrong_page_number_leaves_the_other_filters_in_force(world: World) -> None:
    client = web_client(world.users["viewer"])
    page = client.get(f"/business/{world.company.pk}/lines/", {"q": "Boris", "page": "x"}).context["page"]
    assert [row.line.pk for row in page.rows] == [world.second_line.pk]


def test_the_company_home_without_a_company_is_the_landing(world: World) -> None:
    # reverse("companies:home") with no company (after an invitation is accepted) leads to the landing
    assert reverse("companies:home") == "/business/cabinet/"
    assert (
        reverse("companies:home", kwargs={"company_id": world.company.pk}) == f"/business/{world.company.pk}/"
    )
