"""Writes of company documents: the month close (invoice and act of each company), reconciliation
statements on demand, drawing their PDFs in the background, and telling people they are ready.

Numbers are per kind and calendar year and gap-free: the year's counter row is locked
(`select_for_update` on PostgreSQL; SQLite's IMMEDIATE transaction is the lock) and advanced in the
same transaction that creates the document, so a number is either used by a committed document or
never given. Issuing is idempotent: a company has one invoice and one act per month (a unique
constraint), and the check for an existing one runs under the same lock, so two month-close runs at
once issue each document once. Figures are fixed at issue; the PDF is drawn from them afterwards.

E-mails carry a link to the cabinet, never the file (docs/documents.md).
"""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from selfcare.companies import queries as companies_queries
from selfcare.documents import figures as document_figures
from selfcare.documents.errors import DocumentNotFound, InvalidPeriod, MonthNotClosed
from selfcare.documents.models import Document, Kind, NumberCounter, Status
from selfcare.documents.renderers import render_document
from selfcare.identity import services as identity
from selfcare.kit import clock

log = structlog.get_logger(__name__)

SYSTEM_ACTOR = "system:documents"
NUMBER_PREFIX = {Kind.INVOICE: "INV", Kind.ACT: "ACT", Kind.RECONCILIATION: "REC"}


def documents_dir() -> Path:
    return Path(settings.SELFCARE_DOCUMENTS_DIR)


def local_today() -> date:
    return clock.local_today(settings.TIME_ZONE)


def _audit(actor: str, action: str, document: Document, **fields: Any) -> None:
    identity.record_audit(actor, action, subject_type="document", subject_id=document.public_id, **fields)


def _language(company: Any) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    language = (company.customer.language or "").split("-")[0]
    return language if language in codes else settings.LANGUAGE_CODE


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def previous_month(today: date | None = None) -> date:
    today = today or local_today()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _lock_counter(kind: str, year: int) -> NumberCounter:
    """The year's counter of this kind, locked until the end of the transaction."""
    try:
        with transaction.atomic():
            NumberCounter.objects.get_or_create(kind=kind, year=year)
    except IntegrityError:  # pragma: no cover - created by a concurrent issue meanwhile (PostgreSQL)
        pass
    return NumberCounter.objects.select_for_update().get(kind=kind, year=year)


def _issue(
    company: Any,
    *,
    kind: str,
    start: date,
    end: date,
    year: int,
    figures: Any,
    actor: str,
    user: Any = None,
) -> tuple[Document, bool]:
    """Number and create one document (in the caller's transaction); returns it and whether it is new.
    `figures` is called under the counter's lock, after the check for an existing document."""
    counter = _lock_counter(kind, year)
    if kind in (Kind.INVOICE, Kind.ACT):
        existing = Document.objects.filter(
            company_id=company.pk, kind=kind, period_start=start, period_end=end
        ).first()
        if existing is not None:
            return existing, False
    values = figures()
    counter.last += 1
    counter.save(update_fields=["last"])
    document = Document.objects.create(
        public_id=uuid.uuid4(),
        company_id=company.pk,
        kind=kind,
        year=year,
        sequence=counter.last,
        number=f"{NUMBER_PREFIX[Kind(kind)]}-{year}-{counter.last:05d}",
        period_start=start,
        period_end=end,
        language=_language(company),
        currency=company.account.currency,
        total_minor=int(values.get("total_minor", 0)),
        vat_minor=int(values.get("vat_minor", 0)),
        vat_rate_percent=int(values.get("vat_rate_percent", 0)),
        figures=values,
        ordered_by=actor,
        ordered_by_user=user,
        created_at=clock.now(),
    )
    _audit(
        actor,
        f"document.issue.{kind}",
        document,
        after={
            "company": company.pk,
            "number": document.number,
            "period": [start.isoformat(), end.isoformat()],
            "total_minor": document.total_minor,
            "vat_minor": document.vat_minor,
        },
    )
    document_id = document.pk
    transaction.on_commit(lambda: _queue_generation(document_id), robust=True)
    return document, True


def issue_month_documents(company: Any, *, month: date, actor: str) -> list[Document]:
    """Issue the invoice and the act of `month` for the company (idempotent: a second call for the same
    month issues nothing and returns the documents issued first). The month must be over."""
    return [document for document, _new in _issue_month(company, month=month, actor=actor)]


def _issue_month(company: Any, *, month: date, actor: str) -> list[tuple[Document, bool]]:
    start, end = month_bounds(month)
    if end >= local_today():
        raise MonthNotClosed(month=f"{start:%Y-%m}")
    vat_rate = settings.SELFCARE_VAT_RATE_PERCENT
    issued = []
    with transaction.atomic():
        for kind in (Kind.INVOICE, Kind.ACT):
            issued.append(
                _issue(
                    company,
                    kind=kind,
                    start=start,
                    end=end,
                    year=end.year,
                    figures=lambda: document_figures.month_figures(
                        company, start=start, end=end, vat_rate_percent=vat_rate
                    ),
                    actor=actor,
                )
            )
    return issued


def close_month(*, month: date | None = None, actor: str = SYSTEM_ACTOR) -> int:
    """The month-close job: the invoice and act of the last closed month (or `month`) for every company;
    returns how many documents were issued now. A company that fails is logged and the others go on."""
    month = month or previous_month()
    issued = 0
    for company in companies_queries.list_companies():
        try:
            issued += sum(new for _document, new in _issue_month(company, month=month, actor=actor))
        except Exception as error:
            log.error("documents.month_close_failed", company=company.pk, error=repr(error))
    return issued


def order_reconciliation(company: Any, *, start: date, end: date, actor: str, user: Any = None) -> Document:
    """A reconciliation statement of [start, end] (local days up to today), figures read now from the
    ledger; its PDF is drawn in the background and its orderer gets an e-mail when it is ready."""
    today = local_today()
    if not (start <= end <= today):
        raise InvalidPeriod(latest=today.isoformat())
    now = clock.now()
    with transaction.atomic():
        document, _new = _issue(
            company,
            kind=Kind.RECONCILIATION,
            start=start,
            end=end,
            year=now.astimezone(document_figures.operator_tz()).year,
            figures=lambda: document_figures.reconciliation_figures(company, start=start, end=end, until=now),
            actor=actor,
            user=user,
        )
    return document


def _queue_generation(document_id: int) -> None:
    from selfcare.documents import tasks

    tasks.generate_document_later(document_id)


def generate_document(document_id: int) -> Document:
    """Draw the document's PDF from its figures (the background job; safe to run again: the file is
    written aside and moved into place, so a second run replaces it with the same document)."""
    document = Document.objects.get(pk=document_id)
    directory = documents_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = directory / f"{document.public_id}.pdf"
    partial = directory / f"{document.public_id}.{uuid.uuid4().hex}.part"
    try:
        render_document(document, partial)
        os.replace(partial, final)
        os.chmod(final, 0o600)
    except Exception as error:
        partial.unlink(missing_ok=True)
        log.error("documents.failed", document=document.pk, error=repr(error))
        with transaction.atomic():
            Document.objects.filter(pk=document.pk).update(status=Status.FAILED, failure=repr(error)[:200])
            _audit(SYSTEM_ACTOR, "document.generate", document, outcome="failed")
        raise
    was_ready = document.status == Status.READY
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).update(
            status=Status.READY,
            file_name=final.name,
            size_bytes=final.stat().st_size,
            ready_at=clock.now(),
            failure="",
        )
        _audit(SYSTEM_ACTOR, "document.generate", document, after={"size_bytes": final.stat().st_size})
        document.refresh_from_db()
        address = "" if was_ready else email_for(document)
        if address:
            transaction.on_commit(lambda: _send_ready_email(document_id, address), robust=True)
    return document


def reissue_document(document: Document, *, actor: str) -> None:
    """Draw the file again from the stored figures (same number, same content); staff use it when a
    file failed or was lost."""
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).exclude(status=Status.READY).update(status=Status.QUEUED)
        _audit(actor, "document.reissue", document)
        document_id = document.pk
        transaction.on_commit(lambda: _queue_generation(document_id), robust=True)


def open_download(document: Document, *, user: Any) -> Path:
    """The file of a document the user may have (the caller checked the role with
    queries.get_document_for); audited. DocumentNotFound while it is not drawn yet."""
    path = documents_dir() / document.file_name if document.file_name else None
    if document.status != Status.READY or path is None or not path.is_file():
        raise DocumentNotFound()
    _audit(identity.actor_of(user), "document.download", document, after={"size_bytes": document.size_bytes})
    return path


def email_for(document: Document) -> str:
    """Who is told a document is ready: the person who ordered it (their e-mail), else the company's
    contact e-mail. Only ever a link to the cabinet, which asks them to sign in."""
    user = document.ordered_by_user
    if user is not None and user.email:
        return str(user.email)
    company = companies_queries.get_company(document.company_id)
    return company.contact_email if company is not None else ""


def documents_url(document: Document) -> str:
    path = reverse("documents:company", args=[document.company_id])
    return f"{settings.SELFCARE_PUBLIC_URL}{path}"


def _send_ready_email(document_id: int, address: str) -> None:
    document = Document.objects.get(pk=document_id)
    operator = settings.SELFCARE_OPERATOR_NAME
    with translation.override(document.language):
        subject = _("%(operator)s: %(document)s %(number)s is ready") % {
            "operator": operator,
            "document": document.get_kind_display(),
            "number": document.number,
        }
        body = _(
            "%(document)s %(number)s for %(start)s to %(end)s is ready.\n\n"
            "The file is not attached. Sign in to your business account to download it:\n%(link)s\n\n"
            "%(operator)s"
        ) % {
            "document": document.get_kind_display(),
            "number": document.number,
            "start": document.period_start.isoformat(),
            "end": document.period_end.isoformat(),
            "link": documents_url(document),
            "operator": operator,
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    _audit(SYSTEM_ACTOR, "document.email", document, after={"sent": True})
