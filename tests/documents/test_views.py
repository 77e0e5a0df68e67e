"""Business pages of documents: only the company's admin and accountant see, order and download; the
viewer, the employee, another company's admin and strangers get nothing, and nothing changes."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import TestCase

from selfcare.documents import services
from selfcare.documents.models import Document
from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from tests.documents.conftest import add_person, at, make_company, web_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(firm):
    with clock.frozen(at("2026-04-01T06:40:00")), TestCase.captureOnCommitCallbacks(execute=True):
        services.close_month()
    return Document.objects.get(kind="invoice")


@pytest.fixture
def stranger_admin(zones):
    with clock.frozen(at("2026-02-01T09:00:00")):
        other = make_company(name="Vasilek LLC", tax_id="7707083893", email="a@vasilek.example")
        return add_person(other, "admin")


@pytest.mark.parametrize("role", ["admin", "accountant"])
def test_admin_and_accountant_download_the_file_as_an_attachment_not_cached(
    firm, issued, documents_dir, role
):
    # When the company's admin or accountant downloads March's invoice
    with clock.frozen(at("2026-04-02T10:00:00")):
        response = web_for(firm.people[role]).get(f"/business/documents/download/{issued.public_id}/")

    # Then they get the PDF itself, as an attachment nobody caches
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-2026-00001.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == (documents_dir / issued.file_name).read_bytes()
    assert (
        AuditEvent.objects.filter(action="document.download", subject_id=str(issued.public_id)).count() == 1
    )


@pytest.mark.parametrize("who", ["viewer", "employee", "stranger_admin"])
def test_others_are_told_there_is_no_such_document(firm, issued, stranger_admin, who):
    user = stranger_admin if who == "stranger_admin" else firm.people[who]
    audit_before = AuditEvent.objects.count()

    response = web_for(user).get(f"/business/documents/download/{issued.public_id}/")

    assert response.status_code == 404
    assert b"%PDF" not in response.content
    assert AuditEvent.objects.count() == audit_before


def test_anonymous_is_sent_to_sign_in(issued):
    response = web_for(None).get(f"/business/documents/download/{issued.public_id}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/") or "login" in response["Location"]
    assert b"%PDF" not in response.content


def test_the_company_page_lists_the_documents_for_the_admin(firm, issued):
    client = web_for(firm.people["admin"])

    # The documents index of a person in one company goes straight to it
    index = client.get("/business/documents/")
    assert index.status_code == 302
    assert index["Location"] == f"/business/documents/{firm.company.pk}/"
    page = client.get(index["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="document-row"') == 2
    assert "INV-2026-00001" in html
    assert "ACT-2026-00001" in html
    assert f"/business/documents/download/{issued.public_id}/" in html


@pytest.mark.parametrize("who", ["viewer", "employee", "stranger_admin"])
def test_others_do_not_see_the_company_page(firm, issued, stranger_admin, who):
    user = stranger_admin if who == "stranger_admin" else firm.people[who]
    response = web_for(user).get(f"/business/documents/{firm.company.pk}/")
    assert response.status_code == 404


def test_the_accountant_orders_a_reconciliation_statement_from_the_page(firm):
    accountant = firm.people["accountant"]
    with clock.frozen(at("2026-04-02T10:00:00")):
        response = web_for(accountant).post(
            f"/business/documents/{firm.company.pk}/reconciliation/",
            {"start": "2026-03-01", "end": "2026-03-31"},
        )

    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.kind, document.period_start, document.period_end, document.status) == (
        "reconciliation",
        date(2026, 3, 1),
        date(2026, 3, 31),
        "ready",
    )
    assert document.ordered_by == f"user:{accountant.pk}"
    assert document.figures["closing_minor"] == 144_233


@pytest.mark.parametrize("who", ["viewer", "employee", "stranger_admin", "anonymous"])
def test_others_cannot_order_a_reconciliation_statement(firm, stranger_admin, who):
    user = None if who == "anonymous" else stranger_admin if who == "stranger_admin" else firm.people[who]
    with clock.frozen(at("2026-04-02T10:00:00")):
        response = web_for(user).post(
            f"/business/documents/{firm.company.pk}/reconciliation/",
            {"start": "2026-03-01", "end": "2026-03-31"},
        )
    assert response.status_code == (302 if who == "anonymous" else 404)
    assert Document.objects.count() == 0


def test_a_period_in_the_future_is_refused_on_the_page(firm):
    with clock.frozen(at("2026-04-02T10:00:00")):
        response = web_for(firm.people["admin"]).post(
            f"/business/documents/{firm.company.pk}/reconciliation/",
            {"start": "2026-04-01", "end": "2026-04-30"},
        )
    assert response.status_code == 200
    assert "Choose days up to 2026-04-02" in response.content.decode()
    assert Document.objects.count() == 0


def test_htmx_asks_for_the_list_alone(firm, issued):
    response = web_for(firm.people["accountant"]).get(
        f"/business/documents/{firm.company.pk}/?fragment=list", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="documents-list">')
    assert html.count('data-testid="document-row"') == 2
    assert "<form" not in html
