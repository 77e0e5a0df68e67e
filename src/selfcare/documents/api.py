"""/api/v1/documents/: a company's invoices, acts and reconciliation statements (bearer tokens of the
company's admin or accountant; anyone else gets 404 for the company or document)."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from selfcare.api.problems import Problem
from selfcare.api.subscriber import RowId
from selfcare.documents import queries, services
from selfcare.documents.errors import DocumentNotReady
from selfcare.documents.models import Document
from selfcare.documents.schemas import DocumentLinkOut, DocumentOut, ReconciliationIn
from selfcare.identity.auth import SubscriberBearer
from selfcare.identity.services import actor_of

router = Router(tags=["documents"], auth=SubscriberBearer())
_ERRORS: dict[int, type[Problem]] = {401: Problem, 404: Problem, 409: Problem, 422: Problem}


def _url(document: Document) -> str:
    return f"{settings.SELFCARE_PUBLIC_URL}{reverse('documents:download', args=[document.public_id])}"


def _out(document: Document) -> DocumentOut:
    return DocumentOut(
        id=document.public_id,
        company_id=document.company_id,
        kind=document.kind,
        number=document.number,
        period_start=document.period_start,
        period_end=document.period_end,
        language=document.language,
        currency=document.currency,
        total_minor=document.total_minor,
        vat_minor=document.vat_minor,
        vat_rate_percent=document.vat_rate_percent,
        status=document.status,
        created_at=document.created_at,
        download_url=_url(document) if document.status == "ready" else None,
    )


@router.get("/", response={200: list[DocumentOut], **_ERRORS}, summary="A company's documents")
def list_documents(request: HttpRequest, company_id: RowId) -> list[DocumentOut]:
    company = queries.get_company_for(request.user, company_id)
    return [_out(document) for document in queries.list_documents(company)]


@router.post(
    "/reconciliation", response={201: DocumentOut, **_ERRORS}, summary="Order a reconciliation statement"
)
def order_reconciliation(request: HttpRequest, body: ReconciliationIn) -> Status[DocumentOut]:
    company = queries.get_company_for(request.user, body.company_id)
    document = services.order_reconciliation(
        company, start=body.start, end=body.end, actor=actor_of(request.user), user=request.user
    )
    document.refresh_from_db()
    return Status(201, _out(document))


@router.get(
    "/{document_id}/download", response={200: DocumentLinkOut, **_ERRORS}, summary="Where to download it"
)
def download_link(request: HttpRequest, document_id: UUID) -> DocumentLinkOut:
    document = queries.get_document_for(request.user, document_id)
    if document.status != "ready":
        raise DocumentNotReady()
    return DocumentLinkOut(url=_url(document))
