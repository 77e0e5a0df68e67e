"""/api/v1/statements/: the same flow for the mobile app, with bearer tokens."""

from __future__ import annotations

import pytest

from selfcare.identity.services import Client, issue_api_tokens
from selfcare.statements.models import StatementOrder
from tests.statements.conftest import CommittingClient, last_code, make_subscriber

pytestmark = pytest.mark.django_db


def bearer(user) -> dict[str, str]:
    tokens = issue_api_tokens(user, device_id="d1", client=Client(), method="test")
    return {"Authorization": f"Bearer {tokens.access_token}"}


def test_order_poll_and_download_with_a_bearer_token(frozen_clock):
    user, _line = make_subscriber()
    client = CommittingClient()
    auth = bearer(user)
    assert client.post("/api/v1/statements/code", headers=auth).status_code == 202
    body = {
        "period_start": "2026-03-01",
        "period_end": "2026-03-02",
        "categories": ["calls", "data"],
        "format": "xlsx",
        "code": last_code(user.msisdn),
    }
    created = client.post(
        "/api/v1/statements/",
        body,
        content_type="application/json",
        headers={**auth, "Idempotency-Key": "a-1"},
    )
    assert created.status_code == 201, created.content
    # The answer comes before the job runs (after the commit); polling the order then finds it ready
    assert (created.json()["status"], created.json()["download"]) == ("queued", None)
    order = client.get(f"/api/v1/statements/{created.json()['id']}", headers=auth).json()
    assert (order["status"], order["format"], order["categories"]) == ("ready", "xlsx", ["calls", "data"])
    # The order's link downloads the file with the same token
    link = order["download"]["url"].removeprefix("http://testserver")
    response = client.get(link, headers=auth)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert b"".join(response.streaming_content)
    # The list and the single order agree; the same key gives the same order
    assert [o["id"] for o in client.get("/api/v1/statements/", headers=auth).json()] == [order["id"]]
    assert client.get(f"/api/v1/statements/{order['id']}", headers=auth).json()["status"] == "ready"
    again = client.post(
        "/api/v1/statements/",
        body,
        content_type="application/json",
        headers={**auth, "Idempotency-Key": "a-1"},
    )
    assert again.json()["id"] == order["id"]
    assert StatementOrder.objects.count() == 1


def test_errors_are_problem_json_and_others_orders_are_not_found(frozen_clock):
    user, _line = make_subscriber()
    stranger, _other = make_subscriber()
    client = CommittingClient()
    body = {
        "period_start": "2026-03-01",
        "period_end": "2026-03-02",
        "categories": ["calls"],
        "format": "csv",
        "code": "000000",
    }
    wrong = client.post(
        "/api/v1/statements/", body, content_type="application/json",
        headers={**bearer(user), "Idempotency-Key": "a-2"},
    )  # fmt: skip
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "invalid_code"
    assert client.get("/api/v1/statements/", headers=bearer(stranger)).json() == []
    unknown = client.get("/api/v1/statements/8e2b2f5e-1111-4b4b-9c9c-000000000000", headers=bearer(user))
    assert unknown.status_code == 404
    assert client.get("/api/v1/statements/").status_code == 401
