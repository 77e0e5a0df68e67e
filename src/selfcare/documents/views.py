"""Business pages of company documents (/business/documents/): the list, ordering a reconciliation
statement, and the download. Only the company's admin and accountant see any of it; anyone else is
told there is no such company or document (404), which reveals nothing about it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from selfcare.documents import queries, services
from selfcare.documents.errors import CompanyNotFound, DocumentNotFound
from selfcare.documents.forms import ReconciliationForm
from selfcare.identity import services as identity
from selfcare.identity.services import authenticate_access_token
from selfcare.kit.errors import BusinessError
from selfcare.web.errors import render_business_error


def _company(request: HttpRequest, company_id: int) -> Any:
    try:
        return queries.get_company_for(request.user, company_id)
    except CompanyNotFound:
        raise Http404 from None


@never_cache
@login_required
def index(request: HttpRequest) -> HttpResponse:
    companies = queries.list_user_companies(request.user)
    if len(companies) == 1:
        return redirect("documents:company", company_id=companies[0].pk)
    return render(request, "documents/index.html", {"companies": companies})


def _page(request: HttpRequest, company: Any, form: ReconciliationForm) -> HttpResponse:
    context = {"company": company, "documents": queries.list_documents(company), "form": form}
    if getattr(request, "htmx", False) and request.GET.get("fragment") == "list":
        return render(request, "documents/company.html#documents", context)
    return render(request, "documents/company.html", context)


@never_cache
@login_required
def company(request: HttpRequest, company_id: int) -> HttpResponse:
    found = _company(request, company_id)
    today = services.local_today()
    form = ReconciliationForm(initial={"start": today.replace(month=1, day=1), "end": today})
    return _page(request, found, form)


@never_cache
@login_required
@require_POST
def order_reconciliation(request: HttpRequest, company_id: int) -> HttpResponse:
    found = _company(request, company_id)
    form = ReconciliationForm(request.POST)
    if form.is_valid():
        try:
            services.order_reconciliation(
                found,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                actor=identity.actor_of(request.user),
                user=request.user,
            )
        except BusinessError as error:
            fragment = render_business_error(request, error)
            if fragment is not None:
                return fragment
        else:
            messages.success(request, _("The reconciliation statement is being prepared. It appears below."))
            return redirect("documents:company", company_id=found.pk)
    return _page(request, found, form)


def _requester(request: HttpRequest) -> Any:
    """The signed-in user of the page, or of the mobile app's bearer token."""
    if request.user.is_authenticated:
        return request.user
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return authenticate_access_token(header[7:].strip())
    return None


@never_cache
def download(request: HttpRequest, public_id: str) -> HttpResponseBase:
    user = _requester(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    try:
        document = queries.get_document_for(user, public_id)
    except DocumentNotFound:
        raise Http404 from None
    try:
        path = services.open_download(document, user=user)
    except DocumentNotFound:
        raise Http404 from None
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{document.number}.pdf",
        content_type="application/pdf",
    )
    # A company's accounts: no shared cache keeps a copy.
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
