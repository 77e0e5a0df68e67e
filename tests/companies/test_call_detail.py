"""A company admin orders the call detail of any company line (issue 8, through statements): the SMS
code and the ready SMS go to the admin, the file is the admin's alone; no other role, company or
person can order it or download it, and a refusal creates nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from selfcare.identity.models import AuditEvent, OneTimeCode, User
from selfcare.identity.throttles import get_limiter
from selfcare.lines.models import Line
from selfcare.notifications.services import list_recent_console_messages
from selfcare.statements.models import StatementOrder
from selfcare.usage import services as usage
from tests.companies.cabinet_world import World, bearer, world_fixture  # noqa: F401 - the `world` fixture
from tests.companies.conftest import CommittingClient
from tests.companies.factories import add_line
from tests.scenarios.conftest import at
from tests.statements.conftest import last_code
from tests.usage.factories import MB, make_bundle_tariff, make_numbering
from tests.usage.factories import usage as record

pytestmark = pytest.mark.django_db
OFF_NET = "+79161234567"
ORDER = {
    "period_start": "2026-03-01",
    "period_end": "2026-03-20",
    "categories": ["calls", "sms", "data", "other"],
    "format": "csv",
}


@pytest.fixture(autouse=True)
def statements_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SELFCARE_STATEMENTS_DIR = tmp_path / "statements"
    settings.SELFCARE_PUBLIC_URL = "http://testserver"
    return tmp_path / "statements"


@pytest.fixture
def line(world: World, story: Any) -> Line:
    """A company line with three events in March (and one after the period)."""
    with story("2026-03-01T09:00:00"):
        tariff = make_bundle_tariff(make_numbering(), voice_s=300, sms=5, data_bytes=50 * MB)
        found = add_line(world.company, tariff=tariff, holder_name="Anna Kuznetsova")
        usage.grant_buckets(found)
    with story("2026-03-02T21:00:00"):
        usage.rate_batch(
            [
                record(found.msisdn, "voice_out", at("2026-03-02T10:00:00"), record_id="c1", duration_s=70,
                       counterparty=OFF_NET),
                record(found.msisdn, "sms_out", at("2026-03-02T12:00:00"), record_id="s1",
                       counterparty=OFF_NET),
                record(found.msisdn, "data", at("2026-03-02T13:00:00"), record_id="d1", volume_bytes=2 * MB),
            ]
        )  # fmt: skip
    with story("2026-03-21T10:00:00"):
        usage.rate_batch([record(found.msisdn, "sms_out", at("2026-03-21T09:00:00"), record_id="s9",
                                 counterparty=OFF_NET)])  # fmt: skip
    return found


@pytest.fixture
def story() -> Any:
    from tests.scenarios.conftest import Story

    return Story()


def page_url(world: World, line: Line) -> str:
    return f"/business/{world.company.pk}/lines/{line.pk}/call-detail/"


def web(user: User | None) -> CommittingClient:
    client = CommittingClient(REMOTE_ADDR="192.0.2.41", HTTP_USER_AGENT="pytest")
    if user is not None:
        client.force_login(user)
    return client


def sms_to(msisdn: str) -> list[str]:
    return [m.text for m in list_recent_console_messages(100) if m.msisdn == msisdn]


def order_as_admin(
    world: World, line: Line, story: Any, **fields: Any
) -> tuple[CommittingClient, StatementOrder]:
    admin = world.users["admin"]
    assert admin is not None
    client = web(admin)
    with story("2026-03-20T18:00:00"):
        get_limiter().reset()
        sent = client.post(f"{page_url(world, line)}code/")
        assert sent.status_code == 302
        response = client.post(
            page_url(world, line), {**ORDER, "code": last_code(admin.msisdn or ""), "token": "t-1", **fields}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    order = StatementOrder.objects.get(user=admin)
    assert response["Location"] == f"/statements/{order.public_id}/"
    return client, order


def test_an_admin_orders_a_lines_call_detail_and_downloads_it(world, line, story):
    admin = world.users["admin"]
    # Given the line page shows the admin the way to order it
    with story("2026-03-20T18:00:00"):
        page = web(admin).get(f"/business/{world.company.pk}/lines/{line.pk}/")
    assert 'data-testid="order-call-detail"' in page.content.decode()
    # When the admin asks for the code and orders with it
    client, order = order_as_admin(world, line, story)
    # Then the order is the admin's, of that line, made at once (huey runs immediately in tests)
    assert (order.user_id, order.line_id, order.msisdn, order.status, order.format) == (
        admin.pk,
        line.pk,
        line.msisdn,
        "ready",
        "csv",
    )
    # the code and the ready SMS went to the admin's phone, nothing to the line's holder
    assert len(sms_to(admin.msisdn)) == 2
    assert sms_to(line.msisdn) == []
    # the order is audited with the line it is of
    audit = AuditEvent.objects.get(action="statement.order")
    assert (audit.actor, audit.outcome, audit.after["line_id"]) == (f"user:{admin.pk}", "ok", line.pk)
    # and the admin sees it among their orders, with the line's number
    with story("2026-03-20T18:05:00"):
        listing = client.get("/statements/")
        detail = client.get(f"/statements/{order.public_id}/")
    assert listing.status_code == 200
    assert [o.public_id for o in listing.context["orders"]] == [order.public_id]
    assert line.msisdn in listing.content.decode()
    assert detail.status_code == 200
    # When the admin downloads it
    with story("2026-03-20T18:05:00"):
        response = client.get(detail.context["link"].path)
    # Then the CSV holds that line's events of the period, and no money (a company account)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = {r["type"]: r["description"] for r in rows if r["section"] == "statement"}
    assert header["number"] == line.msisdn
    events = [(r["type"], r["number"], r["duration_s"]) for r in rows if r["section"] == "event"]
    assert events == [("voice_out", OFF_NET, "70"), ("sms_out", OFF_NET, "0"), ("data", "", "0")]
    assert [r for r in rows if r["section"] == "money"] == []


def test_the_ready_email_goes_to_the_admins_address(world, line, story):
    admin = world.users["admin"]
    User.objects.filter(pk=admin.pk).update(email="admin@acme.example")
    mail.outbox.clear()
    _client, order = order_as_admin(world, line, story, by_email="on")
    assert (order.by_email, order.status) == (True, "ready")
    assert [m.to for m in mail.outbox] == [["admin@acme.example"]]


def test_an_admin_without_an_email_cannot_ask_for_one(world, line, story):
    admin = world.users["admin"]
    client = web(admin)
    with story("2026-03-20T18:00:00"):
        client.post(f"{page_url(world, line)}code/")
        response = client.post(
            page_url(world, line),
            {**ORDER, "by_email": "on", "code": last_code(admin.msisdn), "token": "t-1"},
        )
    assert response.status_code == 200
    assert "There is no e-mail address for statements" in response.content.decode()
    assert StatementOrder.objects.count() == 0


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("accountant", 403),
        ("viewer", 403),
        ("employee", 403),
        ("other_admin", 404),
        ("subscriber", 404),
        ("staff", 404),
        ("holder", 404),
        ("anonymous", 302),
    ],
)
def test_nobody_but_an_admin_orders_a_lines_call_detail(world, line, story, actor, status):
    if actor == "holder":
        # The line's own holder as a subscriber user: not a member of the company.
        user: User | None = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn)
    else:
        user = world.users[actor]
    client = web(user)
    target = world.employee_line if actor == "employee" else line  # an employee's own line too
    codes_before = OneTimeCode.objects.count()
    with story("2026-03-20T18:00:00"):
        page = client.get(page_url(world, target))
        code = client.post(f"{page_url(world, target)}code/")
        placed = client.post(page_url(world, target), {**ORDER, "code": "123456", "token": "t-1"})
    assert (page.status_code, code.status_code, placed.status_code) == (status, status, status)
    assert StatementOrder.objects.count() == 0
    assert OneTimeCode.objects.count() == codes_before
    assert AuditEvent.objects.filter(action__startswith="statement.").count() == 0


@pytest.mark.parametrize("role", ["accountant", "viewer"])
def test_the_line_page_offers_call_detail_to_admins_only(world, line, story, role):
    with story("2026-03-20T18:00:00"):
        page = web(world.users[role]).get(f"/business/{world.company.pk}/lines/{line.pk}/")
    assert page.status_code == 200
    assert 'data-testid="order-call-detail"' not in page.content.decode()


def test_nobody_else_downloads_the_admins_file(world, line, story):
    _client, order = order_as_admin(world, line, story)
    admin_client = web(world.users["admin"])
    with story("2026-03-20T18:05:00"):
        path = admin_client.get(f"/statements/{order.public_id}/").context["link"].path
    holder = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn)
    for someone in (world.users["accountant"], world.users["other_admin"], holder):
        with story("2026-03-20T18:06:00"):
            # the order's page is not theirs (404) and the admin's link is refused (403)
            assert web(someone).get(f"/statements/{order.public_id}/").status_code == 404
            response = web(someone).get(path)
        assert response.status_code == 403
        assert not hasattr(response, "streaming_content")
    refused = AuditEvent.objects.filter(action="statement.download").exclude(outcome="ok")
    assert list(refused.order_by("id").values_list("actor", "outcome")) == [
        (f"user:{world.users['accountant'].pk}", "not_owner"),
        (f"user:{world.users['other_admin'].pk}", "not_owner"),
        (f"user:{holder.pk}", "not_owner"),
    ]


# --- API -------------------------------------------------------------------------------------------------


def api_order(world: World, line: Line, user: User | None, *, code: str, key: str = "k-1") -> Any:
    return Client().post(
        f"/api/v1/companies/{world.company.pk}/lines/{line.pk}/statements",
        data={**ORDER, "code": code},
        content_type="application/json",
        headers={**bearer(user), "Idempotency-Key": key},
    )


def test_an_admin_orders_through_the_api_and_reads_it_through_statements(world, line, story):
    admin = world.users["admin"]
    headers = bearer(admin)
    client = CommittingClient()
    with story("2026-03-20T18:00:00"):
        sent = client.post(
            f"/api/v1/companies/{world.company.pk}/lines/{line.pk}/statements/code", headers=headers
        )
        assert sent.status_code == 202
        response = client.post(
            f"/api/v1/companies/{world.company.pk}/lines/{line.pk}/statements",
            data={**ORDER, "code": last_code(admin.msisdn)},
            content_type="application/json",
            headers={**headers, "Idempotency-Key": "k-1"},
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["line_id"], body["msisdn"], body["format"], body["status"]) == (
        line.pk,
        line.msisdn,
        "csv",
        "queued",  # read inside the request, before the job ran after its commit
    )
    with story("2026-03-20T18:05:00"):
        got = client.get(f"/api/v1/statements/{body['id']}", headers=headers)
        assert got.status_code == 200
        assert got.json()["status"] == "ready"
        url = got.json()["download"]["url"].removeprefix("http://testserver")
        downloaded = client.get(url, headers=headers)
        # another company member's bearer token reads nothing of it
        stranger = bearer(world.users["accountant"])
        assert client.get(f"/api/v1/statements/{body['id']}", headers=stranger).status_code == 404
        assert client.get(url, headers=stranger).status_code == 403
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content).startswith(b"\xef\xbb\xbfsection,date_time")


@pytest.mark.parametrize(
    ("actor", "status"),
    [("accountant", 403), ("viewer", 403), ("employee", 403), ("other_admin", 404), ("subscriber", 404),
     ("anonymous", 401)],
)  # fmt: skip
def test_the_api_refuses_everyone_but_an_admin(world, line, story, actor, status):
    user = world.users[actor]
    codes_before = OneTimeCode.objects.count()
    with story("2026-03-20T18:00:00"):
        code = Client().post(
            f"/api/v1/companies/{world.company.pk}/lines/{line.pk}/statements/code", headers=bearer(user)
        )
        placed = api_order(world, line, user, code="123456")
    assert (code.status_code, placed.status_code) == (status, status)
    assert placed["Content-Type"].startswith("application/problem+json")
    assert StatementOrder.objects.count() == 0
    assert OneTimeCode.objects.count() == codes_before


def test_an_admin_cannot_order_another_companys_line_through_the_api(world, story):
    admin = world.users["admin"]
    with story("2026-03-20T18:00:00"):
        response = api_order(world, world.other_line, admin, code="123456")
    assert response.status_code == 404
    assert StatementOrder.objects.count() == 0
