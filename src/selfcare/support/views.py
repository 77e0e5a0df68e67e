"""Help pages: the help number and FAQ (public), and the subscriber's own support requests.

Every request page is its requester's own: another subscriber's request answers 404, exactly like a
request that does not exist.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from selfcare.identity.services import actor_of
from selfcare.kit.errors import BusinessError
from selfcare.kit.phone import format_international
from selfcare.lines import queries as lines_queries
from selfcare.support import queries, services
from selfcare.support.errors import RequestNotFound
from selfcare.support.forms import SupportRequestForm


def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "support/help.html", {"faq": queries.list_faq()})


@never_cache
@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    return render(request, "support/requests.html", {"requests": queries.list_requests_for(request.user)})


def _numbers(request: HttpRequest) -> list[str]:
    msisdn = getattr(request.user, "msisdn", None) or ""
    return lines_queries.list_account_numbers(msisdn) if msisdn else []


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    numbers = _numbers(request)
    form = SupportRequestForm(request.POST if request.method == "POST" else None, numbers=numbers)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_request(
                request.user,
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
                line_msisdn=form.cleaned_data["line"],
                actor=actor_of(request.user),
            )
        except BusinessError as exc:
            form.add_error(None, exc.render_message())
            status = exc.status if exc.status == 429 else 200
        else:
            messages.success(request, _("Your request is sent. We will answer here and let you know by SMS."))
            return redirect("support:request", public_id=created.public_id)
    return render(
        request, "support/request_new.html", {"form": form, "has_number": bool(numbers)}, status=status
    )


def _own(request: HttpRequest, public_id: UUID) -> Any:
    try:
        return queries.get_request_for(request.user, public_id)
    except RequestNotFound:
        raise Http404 from None


@never_cache
@login_required
def request_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    found = _own(request, public_id)
    line = format_international(found.line_msisdn) if found.line_msisdn else ""
    return render(request, "support/request.html", {"support_request": found, "line_number": line})


@login_required
@require_POST
def request_close(request: HttpRequest, public_id: UUID) -> HttpResponse:
    found = _own(request, public_id)
    services.close_request(found, actor=actor_of(request.user))
    messages.success(request, _("The request is closed."))
    return redirect("support:request", public_id=found.public_id)
