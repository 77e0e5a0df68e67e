"""/api/v1/changes/ and /api/v1/black-list/: the same changes for the mobile app, the caller's own line
only, Idempotency-Key on what costs money, refusals as problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from selfcare.billing.models import ProductChange
from selfcare.catalog.models import FeePeriod, Tariff
from selfcare.identity.models import User
from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.services import issue_api_tokens
from selfcare.ledger.models import Transaction
from selfcare.lines.models import BlackListEntry, Line, ServiceAssignment
from tests.billing.helpers import balance_of
from tests.billing.test_changes import black_list_service, service, tariff
from tests.factories import fund, make_line

pytestmark = pytest.mark.django_db

APP = ServiceClient(ip="192.0.2.20", user_agent="app", language="en")
PROBLEM = "application/problem+json"


def subscriber(*, balance_minor: int = 50_000, on: Tariff | None = None) -> tuple[dict[str, str], Line]:
    line = make_line(tariff=on or tariff())
    user = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn, language="en")
    if balance_minor:
        fund(line.account.ledger_account, balance_minor)
    pair = issue_api_tokens(user, device_id="install-1", client=APP, method="test")
    return {"Authorization": f"Bearer {pair.access_token}"}, line


def post(client: Client, path: str, auth: dict[str, str], key: str | None = None, body: Any = None) -> Any:
    headers = dict(auth)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, body or {}, content_type="application/json", headers=headers)


def test_every_route_needs_a_subscriber_token(client: Client):
    for method, path in [
        ("get", "/api/v1/changes/tariffs"),
        ("get", "/api/v1/changes/services"),
        ("get", "/api/v1/changes/history"),
        ("post", "/api/v1/changes/tariffs/1"),
        ("get", "/api/v1/black-list/"),
        ("delete", "/api/v1/black-list/1"),
    ]:
        response = getattr(client, method)(path)
        assert (response.status_code, response["Content-Type"]) == (401, PROBLEM), path


def test_tariffs_are_listed_to_compare_and_a_change_is_previewed_and_applied_once(
    client: Client, frozen_clock
):
    # Given a subscriber with 500.00, an open tariff of 310.00 a month and a closed one
    auth, line = subscriber()
    new = tariff(31_000, name={"en": "Max"})
    tariff(is_open=False)

    # When the app lists tariffs, then it gets the current one and the open one, not the closed one
    listed = client.get("/api/v1/changes/tariffs", headers=auth).json()
    assert [(t["id"], t["is_current"], t["can_choose"]) for t in listed] == [
        (line.tariff_id, True, False),
        (new.pk, False, True),
    ]
    assert (listed[1]["name"], listed[1]["fee_minor"], listed[1]["fee_period"]) == ("Max", 31_000, "monthly")

    # When it previews the change, then nothing is charged yet
    preview = client.get(f"/api/v1/changes/tariffs/{new.pk}/preview", headers=auth).json()
    assert (preview["allowed"], preview["fee_today_minor"], preview["balance_after_minor"]) == (
        True,
        30_000,
        20_000,
    )
    assert balance_of(line) == 50_000

    # When it applies it twice with one Idempotency-Key, then it is applied and charged once
    answers = [post(client, f"/api/v1/changes/tariffs/{new.pk}", auth, key="app-1") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert {k: v for k, v in answers[0].json().items() if k != "notes"} == {
        k: v for k, v in preview.items() if k != "notes"
    }
    assert balance_of(line) == 20_000
    assert Line.objects.get(pk=line.pk).tariff_id == new.pk

    # and the history shows it with its money
    history = client.get("/api/v1/changes/history", headers=auth).json()
    assert [(c["action"], c["product_name"], c["total_minor"]) for c in history["changes"]] == [
        ("tariff", "Max", 30_000)
    ]
    assert [t["tariff_id"] for t in history["tariffs"]] == [new.pk, line.tariff_id]


def test_a_refused_change_is_problem_json_and_changes_nothing(client: Client, frozen_clock):
    auth, line = subscriber(balance_minor=1_000)
    expensive = tariff(31_000)
    closed = tariff(is_open=False)

    short = post(client, f"/api/v1/changes/tariffs/{expensive.pk}", auth, key="a")
    shut = post(client, f"/api/v1/changes/tariffs/{closed.pk}", auth, key="b")
    no_key = post(client, f"/api/v1/changes/tariffs/{expensive.pk}", auth)
    bad_key = post(client, f"/api/v1/changes/tariffs/{expensive.pk}", auth, key="no spaces allowed")
    unknown = post(client, "/api/v1/changes/tariffs/999999", auth, key="c")

    assert (short.status_code, short["Content-Type"], short.json()["code"]) == (
        402,
        PROBLEM,
        "insufficient_balance",
    )
    assert short.json()["title"] == "There is not enough money on the balance: you need RUB290.00 more."
    assert (shut.status_code, shut.json()["code"]) == (409, "tariff_closed")
    assert (no_key.status_code, bad_key.status_code, unknown.status_code) == (422, 422, 404)
    assert bad_key.json()["code"] == "invalid_idempotency_key"
    assert balance_of(line) == 1_000
    assert Line.objects.get(pk=line.pk).tariff_id == line.tariff_id
    assert ProductChange.objects.count() == 0


def test_services_are_listed_with_compatibility_and_connected_and_disconnected(client: Client, frozen_clock):
    auth, line = subscriber()
    option = service(name={"en": "Data+"}, connect_fee_minor=3_000, fee_minor=1_000, period=FeePeriod.DAILY)
    other_tariff_only = service(allowed_tariffs=[tariff()])

    listed = {s["id"]: s for s in client.get("/api/v1/changes/services", headers=auth).json()}
    assert (listed[option.pk]["action"], listed[option.pk]["allowed"]) == ("connect", True)
    assert (listed[other_tariff_only.pk]["allowed"], listed[other_tariff_only.pk]["refusal_code"]) == (
        False,
        "service_not_for_tariff",
    )

    preview = client.get(f"/api/v1/changes/services/{option.pk}/connect/preview", headers=auth).json()
    assert (preview["fee_today_minor"], preview["change_fee_minor"], preview["total_minor"]) == (
        1_000,
        3_000,
        4_000,
    )
    connected = post(client, f"/api/v1/changes/services/{option.pk}/connect", auth, key="c1")
    assert (connected.status_code, connected.json()["total_minor"]) == (200, 4_000)
    assert balance_of(line) == 46_000
    refused = post(client, f"/api/v1/changes/services/{other_tariff_only.pk}/connect", auth, key="c2")
    assert (refused.status_code, refused.json()["code"]) == (409, "service_not_for_tariff")

    listed = {s["id"]: s for s in client.get("/api/v1/changes/services", headers=auth).json()}
    assert (listed[option.pk]["connected"], listed[option.pk]["action"]) == (True, "disconnect")

    assert client.get(f"/api/v1/changes/services/{option.pk}/disconnect/preview", headers=auth).json()[
        "allowed"
    ]
    disconnected = post(client, f"/api/v1/changes/services/{option.pk}/disconnect", auth, key="d1")
    assert (disconnected.status_code, disconnected.json()["total_minor"]) == (200, 0)
    assert not ServiceAssignment.objects.filter(line=line, disconnected_at__isnull=True).exists()
    assert balance_of(line) == 46_000


def test_black_list_through_the_api(client: Client, frozen_clock):
    # Given a subscriber with 100.00 and the Black list (5.00 + 1.50 a day, 10.00 a number)
    auth, line = subscriber(balance_minor=10_000)
    black_list_service()
    other_auth, _other = subscriber()

    # When the app previews and adds a number typed the local way, with a note, twice with one key
    preview = client.get("/api/v1/black-list/preview", {"number": "8 916 123-45-67"}, headers=auth).json()
    assert (preview["total_minor"], preview["allowed"]) == (1_650, True)
    added = [
        post(
            client,
            "/api/v1/black-list/",
            auth,
            key="bl-1",
            body={"number": "8 916 123-45-67", "note": "spam"},
        )
        for _ in range(2)
    ]

    # Then it is added once, charged once, and listed
    assert [a.status_code for a in added] == [201, 201]
    assert added[0].json() == added[1].json()
    assert (added[0].json()["msisdn"], added[0].json()["note"]) == ("+79161234567", "spam")
    assert balance_of(line) == 8_350
    black_list = client.get("/api/v1/black-list/", headers=auth).json()
    assert (black_list["is_on"], black_list["capacity"], black_list["entry_fee_minor"]) == (True, 200, 1_000)
    assert [e["msisdn"] for e in black_list["entries"]] == ["+79161234567"]

    # When the same number is added again, then it is refused as problem+json
    again = post(client, "/api/v1/black-list/", auth, key="bl-2", body={"number": "+79161234567"})
    assert (again.status_code, again["Content-Type"], again.json()["code"]) == (
        409,
        PROBLEM,
        "black_list_duplicate",
    )

    # When another subscriber tries to remove it, then it is not found; the owner removes it
    entry_id = added[0].json()["id"]
    assert client.delete(f"/api/v1/black-list/{entry_id}", headers=other_auth).status_code == 404
    assert client.delete(f"/api/v1/black-list/{entry_id}", headers=auth).status_code == 204
    assert BlackListEntry.objects.count() == 0
    assert Transaction.objects.filter(kind="black_list_entry_fee").count() == 1


def test_the_routes_are_in_the_openapi_document(client: Client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {p for p in paths if p.startswith(("/api/v1/changes/", "/api/v1/black-list/"))} == {
        "/api/v1/changes/tariffs",
        "/api/v1/changes/tariffs/{tariff_id}/preview",
        "/api/v1/changes/tariffs/{tariff_id}",
        "/api/v1/changes/services",
        "/api/v1/changes/services/{service_id}/connect/preview",
        "/api/v1/changes/services/{service_id}/connect",
        "/api/v1/changes/services/{service_id}/disconnect/preview",
        "/api/v1/changes/services/{service_id}/disconnect",
        "/api/v1/changes/history",
        "/api/v1/black-list/",
        "/api/v1/black-list/preview",
        "/api/v1/black-list/{entry_id}",
    }
    assert "/api/v1/network/call-screening" in paths


def test_an_archived_service_can_still_be_disconnected_but_not_connected(client: Client, frozen_clock):
    auth, line = subscriber()
    old = service(name={"en": "Old option"})
    other = service()
    post(client, f"/api/v1/changes/services/{old.pk}/connect", auth, key="c")
    type(old).objects.filter(pk__in=[old.pk, other.pk]).update(is_active=False)

    refused = post(client, f"/api/v1/changes/services/{other.pk}/connect", auth, key="x")
    assert (refused.status_code, refused.json()["code"]) == (409, "service_closed")
    gone = post(client, f"/api/v1/changes/services/{old.pk}/disconnect", auth, key="d")
    assert gone.status_code == 200
    assert not ServiceAssignment.objects.filter(line=line, disconnected_at__isnull=True).exists()
