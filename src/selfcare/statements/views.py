"""Subscriber pages of call detail: ordering (with an SMS code), the orders and their progress, the
signed download, and the online view of the last 30 days (docs/statements.md).

Every page is the signed-in subscriber's own: an order is looked up within the user's orders, so
anyone else's is a 404. The download link is checked by the service (signature, owner, expiry,
retention); each refusal answers 403 or 410 and is audited there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from selfcare.identity.http import client_of
from selfcare.identity.services import authenticate_access_token
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError, NotFound
from selfcare.kit.i18n import pick_translation
from selfcare.kit.money import format_money
from selfcare.kit.phone import format_international
from selfcare.statements import queries, services
from selfcare.statements.document import kind_name, local_midnight
from selfcare.statements.errors import OrderNotFound
from selfcare.statements.forms import EventFilterForm, OrderForm
from selfcare.statements.models import StatementOrder
from selfcare.statements.renderers import CONTENT_TYPES
from selfcare.statements.renderers.base import duration_text, volume_text
from selfcare.web.errors import render_business_error

EVENTS_PAGE_SIZE = 50


def _line(request: HttpRequest) -> Any:
    try:
        return services.own_line(request.user)
    except NotFound:
        raise Http404 from None


def _money(amount_minor: int) -> str:
    return format_money(amount_minor, settings.SELFCARE_CURRENCY, translation.get_language() or "en")


def _order_context(request: HttpRequest, order: StatementOrder) -> dict[str, Any]:
    link = None
    if order.status == "ready":
        link = services.issue_download_link(order, user=request.user)
    return {"order": order, "link": link, "fee": _money(order.fee_minor) if order.fee_minor else ""}


@never_cache
@login_required
def order(request: HttpRequest) -> HttpResponse:
    try:
        line = services.own_line(request.user)
    except NotFound:
        # A company admin without a line of their own: their orders of company lines, no form.
        if request.method == "POST":
            raise Http404 from None
        line = None
    today = services.local_today()
    initial = {
        "period_start": today.replace(day=1),
        "period_end": today,
        "format": "pdf",
        "categories": ["calls", "sms", "data", "other"],
    }
    form = OrderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            placed = services.order_statement(
                request.user,
                period_start=data["period_start"],
                period_end=data["period_end"],
                categories=data["categories"],
                fmt=data["format"],
                by_email=data["by_email"],
                code=data["code"],
                idempotency_key=data["token"],
                client=client_of(request),
            )
        except BusinessError as error:
            fragment = render_business_error(request, error)
            if fragment is not None:
                return fragment
        else:
            messages.success(request, _("Your order is placed. We will send an SMS when it is ready."))
            return redirect("statements:detail", public_id=placed.public_id)
    return render(
        request,
        "statements/order.html",
        {
            "form": form,
            "orders": queries.list_orders(request.user),
            "earliest": services.earliest_day(today),
            "today": today,
            "has_line": line is not None,
            "email": services.email_for(line) if line is not None else "",
            "fee": _money(settings.SELFCARE_STATEMENT_FEE_MINOR)
            if settings.SELFCARE_STATEMENT_FEE_MINOR
            else "",
            "retention_days": settings.SELFCARE_STATEMENT_RETENTION_DAYS,
        },
    )


@never_cache
@login_required
@require_POST
def send_code(request: HttpRequest) -> HttpResponse:
    _line(request)
    try:
        services.request_order_code(request.user, client=client_of(request))
    except BusinessError as error:
        fragment = render_business_error(request, error)
        if fragment is not None:
            return fragment
        return redirect("statements:order")
    if getattr(request, "htmx", False):
        return render(request, "statements/order.html#code-sent", {})
    messages.info(request, _("A code is on its way by SMS. It is valid for 5 minutes."))
    return redirect("statements:order")


@never_cache
@login_required
def detail(request: HttpRequest, public_id: str) -> HttpResponse:
    # The owner's order whatever line it is of (a company admin orders company lines'): no own line needed.
    try:
        found = queries.get_order(request.user, public_id)
    except OrderNotFound:
        raise Http404 from None
    context = _order_context(request, found)
    if getattr(request, "htmx", False):
        return render(request, "statements/detail.html#status", context)
    return render(request, "statements/detail.html", context)


def _requester(request: HttpRequest) -> Any:
    """The signed-in user of the page, or of the mobile app's bearer token (the app downloads too)."""
    if request.user.is_authenticated:
        return request.user
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return authenticate_access_token(header[7:].strip())
    return None


@never_cache
def download(request: HttpRequest, token: str) -> HttpResponseBase:
    user = _requester(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    try:
        found, path = services.open_download(token, user=user, client=client_of(request))
    except BusinessError as error:
        refusal = render(request, "statements/refused.html", {"error": error}, status=error.status)
        refusal["Cache-Control"] = "no-store"
        return refusal
    name = f"call-detail-{found.msisdn.lstrip('+')}-{found.period_start:%Y%m%d}-{found.period_end:%Y%m%d}"
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{name}.{found.format}",
        content_type=CONTENT_TYPES[found.format],
    )
    # Personal data: no cache anywhere keeps a copy.
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _event_row(record: Any, language: str) -> dict[str, Any]:
    bucket_name = ""
    bucket = record.bucket
    if bucket is not None and record.charged_units > record.priced_units:
        origin = bucket.service_assignment.service if bucket.service_assignment_id else bucket.tariff
        bucket_name = pick_translation(origin.name, language) if origin is not None else ""
    measure = ""
    if record.kind.startswith("voice"):
        measure = duration_text(record.duration_s)
    elif record.kind == "data":
        measure = volume_text(record.volume_bytes)
    number = record.counterparty
    return {
        "id": record.pk,
        "at": record.started_at,
        "kind": record.kind,
        "type": kind_name(record.kind),
        "number": format_international(number) if number.startswith("+") else number,
        "measure": measure,
        "zone": pick_translation(record.roaming_zone.name, language) if record.roaming_zone else "",
        "bucket": bucket_name,
        "price_minor": record.price_minor,
        "price": _money(record.price_minor),
    }


@never_cache
@login_required
def events(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    today = services.local_today()
    days = queries.ONLINE_DAYS
    form = EventFilterForm(request.GET or None, today=today, days=days)
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    tz = ZoneInfo(settings.TIME_ZONE)
    earliest = today - timedelta(days=days - 1)
    since_day = cleaned.get("since") or earliest
    until_day = cleaned.get("until") or today
    found = queries.list_events(
        line,
        since=local_midnight(since_day, tz),
        until=min(local_midnight(until_day + timedelta(days=1), tz), clock.now()),
        category=cleaned.get("category", ""),
        number_digits=cleaned.get("number", ""),
    )
    page = Paginator(found, EVENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    language = translation.get_language() or settings.LANGUAGE_CODE
    rows = [_event_row(record, language) for record in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "statements/events.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "earliest": earliest,
            "today": today,
        },
    )
