"""The back office lists documents read-only; staff may only draw a document's file again."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import TestCase

from selfcare.documents import services
from selfcare.documents.models import Document
from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from tests.documents.conftest import CommittingClient, at

pytestmark = pytest.mark.django_db


def test_staff_list_documents_read_only_and_reissue_a_file(firm, documents_dir):
    # Given March's documents, the invoice's file lost, and a superuser
    with clock.frozen(at("2026-04-01T06:40:00")), TestCase.captureOnCommitCallbacks(execute=True):
        services.close_month()
    invoice = Document.objects.get(kind="invoice")
    (documents_dir / invoice.file_name).unlink()
    staff = get_user_model().objects.create_superuser("root", password="x" * 12)
    client = CommittingClient()
    client.force_login(staff)

    # When they open the list and the invoice
    listing = client.get("/backoffice/documents/document/")
    record = client.get(f"/backoffice/documents/document/{invoice.pk}/change/")

    # Then the numbers are there and nothing can be added, changed or deleted
    assert (listing.status_code, record.status_code) == (200, 200)
    assert "INV-2026-00001" in listing.content.decode()
    assert "ACT-2026-00001" in listing.content.decode()
    assert client.get("/backoffice/documents/document/add/").status_code == 403
    assert client.post(f"/backoffice/documents/document/{invoice.pk}/delete/").status_code == 403
    assert Document.objects.count() == 2

    # When they re-issue the invoice
    response = client.post(
        "/backoffice/documents/document/",
        {"action": "reissue", "_selected_action": [invoice.pk]},
    )

    # Then its file is drawn again under the same number, and the action is audited
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.number, invoice.status) == ("INV-2026-00001", "ready")
    assert (documents_dir / invoice.file_name).is_file()
    assert AuditEvent.objects.filter(action="document.reissue", actor=f"staff:{staff.pk}").count() == 1
