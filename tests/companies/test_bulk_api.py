"""/api/v1/companies/{id}/bulk: preview, submit, history and report, for every kind of caller.

The clock is frozen (frozen_clock). The company (cabinet world) is postpaid with a credit limit of
1,000.00; its lines are the employee's and Boris Sidorov's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, TestCase

from selfcare.companies.models import BulkItem, BulkRequest
from selfcare.ledger.queries import get_balance_minor
from selfcare.lines.models import Line
from tests.companies.cabinet_world import ACTORS, World, bearer, world_fixture  # noqa: F401 - the `world` fixture
from tests.factories import make_service

pytestmark = pytest.mark.django_db


def post(path: str, body: dict[str, Any], user: Any) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().post(
            path, data=json.dumps(body), content_type="application/json", headers=bearer(user)
        )


def test_the_admin_previews_submits_and_reads_the_report(world: World, frozen_clock: Any) -> None:
    option = make_service(code="roaming", connect_fee_minor=700)
    admin = world.users["admin"]
    base = f"/api/v1/companies/{world.company.pk}/bulk"
    body = {
        "action": "connect_service",
        "service_id": option.pk,
        "line_ids": [world.employee_line.pk],
        "msisdns": [world.second_line.msisdn.replace("+7", "8"), world.other_line.msisdn],
    }
    balance_before = get_balance_minor(world.company.account.ledger_account_id)

    preview = post(f"{base}/preview", body, admin)
    submitted = post(base, body, admin)
    request_id = submitted.json()["id"]
    history = Client().get(base, headers=bearer(admin))
    report = Client().get(f"{base}/{request_id}", headers=bearer(admin))

    assert preview.status_code == 200
    data = preview.json()
    assert (data["allowed_count"], data["refused_count"], data["total_cost_minor"], data["covered"]) == (
        2,
        0,
        1_400,
        True,
    )
    assert data["missing"] == [world.other_line.msisdn]
    assert [(x["line_id"], x["cost_minor"]) for x in data["lines"]] == [
        (world.employee_line.pk, 700),
        (world.second_line.pk, 700),
    ]
    assert submitted.status_code == 201
    assert (submitted.json()["status"], submitted.json()["total"]) == ("queued", 2)
    assert [r["id"] for r in history.json()] == [request_id]
    got = report.json()
    assert (got["status"], got["succeeded"], got["failed"], got["charged_minor"]) == ("done", 2, 0, 1_400)
    assert [(i["line_id"], i["status"], i["charged_minor"]) for i in got["items"]] == [
        (world.employee_line.pk, "succeeded", 700),
        (world.second_line.pk, "succeeded", 700),
    ]
    assert get_balance_minor(world.company.account.ledger_account_id) == balance_before - 1_400


@pytest.mark.parametrize("actor", ACTORS)
def test_only_admins_may_use_the_bulk_api(world: World, frozen_clock: Any, actor: str) -> None:
    expected = {"admin": 201, "accountant": 403, "viewer": 403, "employee": 403, "anonymous": 401}.get(
        actor, 404
    )
    base = f"/api/v1/companies/{world.company.pk}/bulk"
    user = world.users[actor]

    submitted = post(base, {"action": "block", "line_ids": [world.second_line.pk]}, user)
    preview = post(f"{base}/preview", {"action": "block", "line_ids": [world.second_line.pk]}, user)
    history = Client().get(base, headers=bearer(user))

    assert submitted.status_code == expected
    assert [preview.status_code, history.status_code] == [200 if actor == "admin" else expected] * 2
    if actor != "admin":
        assert submitted["Content-Type"] == "application/problem+json"
        assert BulkRequest.objects.count() == 0
        assert Line.objects.get(pk=world.second_line.pk).status == "active"


def test_another_companys_request_and_lines_are_not_found(world: World, frozen_clock: Any) -> None:
    theirs = post(
        f"/api/v1/companies/{world.other.pk}/bulk",
        {"action": "block", "line_ids": [world.other_line.pk]},
        world.users["other_admin"],
    ).json()["id"]
    admin = world.users["admin"]

    report = Client().get(f"/api/v1/companies/{world.company.pk}/bulk/{theirs}", headers=bearer(admin))
    forged = post(
        f"/api/v1/companies/{world.company.pk}/bulk",
        {"action": "unblock", "line_ids": [world.other_line.pk]},
        admin,
    )
    nothing = post(f"/api/v1/companies/{world.company.pk}/bulk", {"action": "block"}, admin)

    assert report.status_code == 404
    assert (forged.status_code, forged.json()["code"]) == (422, "bulk_request_invalid")
    assert (nothing.status_code, nothing.json()["code"]) == (422, "bulk_nothing_to_do")
    assert BulkRequest.objects.count() == 1
    assert BulkItem.objects.count() == 1
    assert Line.objects.get(pk=world.other_line.pk).status == "blocked_subscriber"
