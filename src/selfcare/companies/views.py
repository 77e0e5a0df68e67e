"""Public business pages: the application form, its status page, and the invitation acceptance.

The application form works without JavaScript: "More rows" posts the form back and it comes again
with more empty number rows, keeping what was typed. Errors about numbers sit on their own row, and a
number/PUK pair that does not match gets the same words whatever was wrong with it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login as django_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from selfcare.companies import queries, services
from selfcare.companies.errors import NumbersRefused
from selfcare.companies.forms import (
    INITIAL_ROWS,
    ROWS_STEP,
    ApplicationForm,
    ExistingPasswordForm,
    NewPasswordForm,
    number_formset,
)
from selfcare.identity import services as identity
from selfcare.identity.errors import TooManyRequests
from selfcare.identity.http import client_of
from selfcare.kit.errors import BusinessError
from selfcare.kit.phone import format_international

DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600


def _status_for(exc: BusinessError) -> int:
    return 429 if isinstance(exc, TooManyRequests) else 200


def _typed_rows(data: Any) -> list[dict[str, str]]:
    try:
        total = int(data.get("numbers-TOTAL_FORMS", "0"))
    except ValueError:
        total = 0
    total = max(0, min(total, queries.max_numbers()))
    return [
        {"number": data.get(f"numbers-{i}-number", ""), "puk": data.get(f"numbers-{i}-puk", "")}
        for i in range(total)
    ]


@never_cache
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST" and "more_rows" in request.POST:
        # Unbound, filled with what was typed: asking for rows is not a submission, so no errors yet.
        typed = _typed_rows(request.POST)
        form = ApplicationForm(
            initial={name: request.POST.get(name, "") for name in ApplicationForm.base_fields}
        )
        room = queries.max_numbers() - len(typed)
        formset = number_formset(initial=typed, extra=max(0, min(ROWS_STEP, room)))
    elif request.method == "POST":
        form = ApplicationForm(request.POST)
        formset = number_formset(request.POST)
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                application = services.submit_application(
                    region_id=data["region"],
                    company_name=data["company_name"],
                    tax_id=data["tax_id"],
                    legal_address=data["legal_address"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    contact_email=data["contact_email"],
                    numbers=formset.pairs(),
                    client=client_of(request),
                )
            except NumbersRefused as exc:
                for row in formset.forms:
                    problem = exc.problems.get(row.cleaned_data.get("number", ""))
                    if problem is not None:
                        row.add_error("number", problem.render_message())
                form.add_error(None, exc.render_message())
            except BusinessError as exc:
                form.add_error(None, exc.render_message())
                status = _status_for(exc)
            else:
                return redirect(
                    "companies:application-status",
                    tracking=application.tracking_number,
                    token=services.status_token(application.tracking_number),
                )
    else:
        form = ApplicationForm()
        formset = number_formset(extra=INITIAL_ROWS)
    context = {
        "form": form,
        "formset": formset,
        "max_numbers": queries.max_numbers(),
        "can_add_rows": formset.total_form_count() < queries.max_numbers(),
    }
    return render(request, "companies/apply.html", context, status=status)


@never_cache
@require_GET
def application_status(request: HttpRequest, tracking: str, token: str) -> HttpResponse:
    application = queries.get_application_for_status(tracking, token)
    if application is None:
        raise Http404
    context = {
        "application": application,
        "numbers": [format_international(n) for n in queries.list_application_numbers(application)],
    }
    response = render(request, "companies/application_status.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


def _log_in(request: HttpRequest, user: Any) -> HttpResponseRedirect:
    """Open a web session for `user` the way identity's sign-in does (session row, device cookie)."""
    device_id = request.COOKIES.get(settings.SELFCARE_DEVICE_COOKIE_NAME) or identity.new_device_id()
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    identity.start_web_session(
        user,
        session_key=request.session.session_key or "",
        device_id=device_id,
        client=client_of(request),
        method="invitation",
    )
    response = HttpResponseRedirect(reverse("companies:home"))
    response.set_cookie(
        settings.SELFCARE_DEVICE_COOKIE_NAME,
        device_id,
        max_age=DEVICE_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = queries.get_invitation(token)
    if found is None:
        return render(request, "companies/invitation_invalid.html", status=404)
    if found.state != "open":
        return render(request, "companies/invitation_closed.html", {"found": found}, status=410)
    phone = found.invitation.phone
    form_class = ExistingPasswordForm if found.has_account else NewPasswordForm
    form = form_class(request.POST or None, msisdn=phone)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.accept_invitation(
                token, password=form.password(), client=client_of(request)
            )
        except ValidationError as exc:
            form.add_error("password1", exc)
        except BusinessError as exc:
            form.add_error(None, exc.render_message())
            status = _status_for(exc)
        else:
            return _log_in(request, membership.user)
    context = {"found": found, "form": form, "number": format_international(phone)}
    return render(request, "companies/invitation.html", context, status=status)


# --- placeholder until the company home (another branch) is merged -----------------------------------------


@require_GET
def home_placeholder(request: HttpRequest) -> HttpResponse:
    """Where an accepted invitation lands: replaced by the company home view when it is merged."""
    return render(request, "companies/home_placeholder.html")
