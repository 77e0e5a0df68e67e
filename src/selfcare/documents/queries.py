"""Reads of company documents for the pages and the API: who may see which company's documents, the
lists, one document. The figures a document is drawn from are read by figures.py."""

from __future__ import annotations

from typing import Any

from selfcare.companies import queries as companies_queries
from selfcare.documents.errors import CompanyNotFound, DocumentNotFound
from selfcare.documents.models import Document

# Who may see, order and download a company's documents (docs/documents.md).
DOCUMENT_ROLES = ("admin", "accountant")


def get_company_for(user: Any, company_id: int) -> Any:
    """The company, if the user is its admin or accountant; CompanyNotFound otherwise."""
    role = companies_queries.get_role(user, company_id)
    if role not in DOCUMENT_ROLES:
        raise CompanyNotFound()
    company = companies_queries.get_company(company_id)
    if company is None:  # pragma: no cover - a membership names an existing company
        raise CompanyNotFound()
    return company


def list_user_companies(user: Any) -> list[Any]:
    """The companies whose documents the user may see."""
    companies = []
    for company_id in companies_queries.list_user_company_ids(user, roles=DOCUMENT_ROLES):
        company = companies_queries.get_company(company_id)
        if company is not None:
            companies.append(company)
    return companies


def list_documents(company: Any) -> list[Document]:
    """The company's documents, newest period first."""
    return list(
        Document.objects.filter(company_id=company.pk).order_by("-period_end", "kind", "-created_at", "-pk")
    )


def get_document_for(user: Any, public_id: Any) -> Document:
    """A document the user may download (admin or accountant of its company); DocumentNotFound
    otherwise, whether it does not exist or belongs to a company the user may not see."""
    document = Document.objects.filter(public_id=public_id).first()
    if document is None or companies_queries.get_role(user, document.company_id) not in DOCUMENT_ROLES:
        raise DocumentNotFound()
    return document
