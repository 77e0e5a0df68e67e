"""/api/v1/documents/: the company's documents for the mobile app and integrations (bearer tokens)."""

from __future__ import annotations

import pytest
from django.test import TestCase

from selfcare.documents import services
from selfcare.documents.models import Document
from selfcare.identity.services import Client, issue_api_tokens
from selfcare.kit import clock
from tests.documents.conftest import CommittingClient, add_person, at, make_company

pytestmark = pytest.mark.django_db


def bearer(user) -> dict[str, str]:
    tokens = issue_api_tokens(user, device_id="d1", client=Client(), method="test")
    return {"Authorization": f"Bearer {tokens.access_token}"}


@pytest.fixture
def closed(firm):
    with clock.frozen(at("2026-04-01T06:40:00")), TestCase.captureOnCommitCallbacks(execute=True):
        services.close_month()


def test_the_accountant_lists_orders_and_downloads_with_a_token(firm, closed, documents_dir):
    client = CommittingClient()
    with clock.frozen(at("2026-04-02T10:00:00")):
        headers = bearer(firm.people["accountant"])
        listed = client.get(f"/api/v1/documents/?company_id={firm.company.pk}", headers=headers)
        assert listed.status_code == 200
        body = listed.json()
        assert [(d["kind"], d["number"], d["total_minor"], d["vat_minor"], d["status"]) for d in body] == [
            ("act", "ACT-2026-00001", 175_767, 29_295, "ready"),
            ("invoice", "INV-2026-00001", 175_767, 29_295, "ready"),
        ]

        ordered = client.post(
            "/api/v1/documents/reconciliation",
            {"company_id": firm.company.pk, "start": "2026-03-01", "end": "2026-03-31"},
            content_type="application/json",
            headers=headers,
        )
        assert ordered.status_code == 201
        assert (ordered.json()["kind"], ordered.json()["number"], ordered.json()["status"]) == (
            "reconciliation",
            "REC-2026-00001",
            "queued",  # drawn in the background, after the order is committed
        )

        link = client.get(f"/api/v1/documents/{ordered.json()['id']}/download", headers=headers)
        assert link.status_code == 200
        url = link.json()["url"]
        assert url == f"http://testserver/business/documents/download/{ordered.json()['id']}/"
        download = client.get(url.removeprefix("http://testserver"), headers=headers)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("who", ["viewer", "employee", "stranger_admin"])
def test_others_get_404_and_nothing_is_ordered(firm, closed, zones, who):
    if who == "stranger_admin":
        with clock.frozen(at("2026-02-01T09:00:00")):
            user = add_person(make_company(name="Vasilek LLC", email="a@v.example"), "admin")
    else:
        user = firm.people[who]
    invoice = Document.objects.get(kind="invoice")
    client = CommittingClient()
    with clock.frozen(at("2026-04-02T10:00:00")):
        headers = bearer(user)
        listed = client.get(f"/api/v1/documents/?company_id={firm.company.pk}", headers=headers)
        ordered = client.post(
            "/api/v1/documents/reconciliation",
            {"company_id": firm.company.pk, "start": "2026-03-01", "end": "2026-03-31"},
            content_type="application/json",
            headers=headers,
        )
        link = client.get(f"/api/v1/documents/{invoice.public_id}/download", headers=headers)
    assert [listed.status_code, ordered.status_code, link.status_code] == [404, 404, 404]
    assert listed.json()["code"] == "company_not_found"
    assert link.json()["code"] == "document_not_found"
    assert Document.objects.count() == 2


def test_without_a_token_the_api_answers_401(firm, closed):
    response = CommittingClient().get(f"/api/v1/documents/?company_id={firm.company.pk}")
    assert response.status_code == 401


def test_the_documents_endpoints_are_in_the_openapi_document():
    paths = CommittingClient().get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/documents/",
        "/api/v1/documents/reconciliation",
        "/api/v1/documents/{document_id}/download",
    } <= set(paths)
