"""The subscriber's pages: home, spending, history of money movements, and the changes of tariff,
services and black list with a preview before each (docs/cabinet.md).

Every page is the signed-in subscriber's own: the line comes from the user's number, and whatever a
URL names (a transaction, a usage record, a black-list entry) is looked up within that line or its
account, so anyone else's is a 404, indistinguishable from one that does not exist.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from selfcare.billing import changes
from selfcare.billing import queries as billing_queries
from selfcare.cabinet import charts, formatting, queries
from selfcare.cabinet.forms import BlackListConfirmForm, BlackListForm, ConfirmForm, HistoryFilterForm
from selfcare.catalog import queries as catalog_queries
from selfcare.companies import queries as companies_queries
from selfcare.identity.services import actor_of
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError, NotFound
from selfcare.lines import queries as lines_queries
from selfcare.web.errors import render_business_error

# The home page polls for fresh figures this often, and stops after LIVE_FOR_S so that an open tab
# does not keep a session alive past its idle timeout (the page then offers to refresh).
LIVE_EVERY_S = 15
LIVE_FOR_S = 10 * 60
HISTORY_PAGE_SIZE = 25
RECORDS_PAGE_SIZE = 50


def _line(request: HttpRequest) -> Any:
    line = queries.get_subscriber_line(request.user)
    if line is None:
        raise Http404
    return line


def _url_if_mounted(name: str) -> str | None:
    """The URL of another feature's page, or None while that feature is not installed: the home page
    offers only buttons that lead somewhere."""
    return _mounted_url(name, get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF))


@functools.cache
def _mounted_url(name: str, prefix: str, urlconf: str | None) -> str | None:
    # Fixed for a process's URL configuration: reversed once (the home page is polled).
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# The company a subscriber also acts for (0: none), read once per session so that the home page's
# query budget stays as it was; the home then links to the corporate cabinet.
COMPANY_SESSION_KEY = "cabinet_company_id"


def _company_id(request: HttpRequest) -> int:
    if COMPANY_SESSION_KEY not in request.session:
        request.session[COMPANY_SESSION_KEY] = companies_queries.first_company_id(request.user) or 0
    return int(request.session[COMPANY_SESSION_KEY])


@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    # The line as a card read in one plain SQL statement: the page runs on every visit and every poll.
    line = queries.get_home_line(request.user)
    if line is None:
        # A company user without a line of their own lands on the corporate cabinet.
        if companies_queries.first_company_id(request.user) is not None:
            return redirect("companies:start")
        raise Http404
    now_s = int(clock.now().timestamp())
    try:
        live_since = int(request.GET.get("live_since", now_s))
    except ValueError:
        live_since = now_s
    live_since = min(max(live_since, now_s - LIVE_FOR_S), now_s)
    context = {
        "home": queries.get_home(line),
        "line": line,
        "live_since": live_since,
        "live": now_s - live_since < LIVE_FOR_S,
        "live_every": LIVE_EVERY_S,
        "help_url": _url_if_mounted("support:help") or "/help/",
        "call_detail_url": _url_if_mounted("statements:order"),
    }
    if _is_htmx(request):
        return render(request, "cabinet/home.html#live", context)
    company_id = _company_id(request)
    context["company_url"] = (
        reverse("companies:home", kwargs={"company_id": company_id}) if company_id else None
    )
    return render(request, "cabinet/home.html", context)


@never_cache
@login_required
def spending(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    data = queries.get_spending(line)
    return render(
        request,
        "cabinet/spending.html",
        {
            "spending": data,
            "daily": charts.daily_chart(data.days),
            "by_category": charts.category_chart(data.categories),
        },
    )


@never_cache
@login_required
def history(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    form = HistoryFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    cleaned = form.cleaned_data if form.is_bound and valid else {}
    postings = queries.list_history(
        line,
        kinds=form.kinds() if cleaned else None,
        since=cleaned.get("since"),
        until=cleaned.get("until"),
    )
    page = Paginator(postings, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    items = queries.describe_postings(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cabinet/history.html",
        {
            "form": form,
            "page": page,
            "items": items,
            "query": query.urlencode(),
            "recent": queries.list_recent_contacts(line),
            "blocked": queries.list_black_listed_numbers(line),
        },
    )


@never_cache
@login_required
def history_item(request: HttpRequest, transaction_id: int) -> HttpResponse:
    line = _line(request)
    item = queries.get_history_item(line, transaction_id)
    if item is None:
        raise Http404
    records = None
    if item.kind == "usage":
        page = Paginator(queries.list_charge_records(line, transaction_id), RECORDS_PAGE_SIZE)
        records = page.get_page(request.GET.get("page"))
        item.records = [queries.describe_record(record) for record in records.object_list]
    return render(request, "cabinet/history_item.html", {"item": item, "records": records, "line": line})


@never_cache
@login_required
def usage_record(request: HttpRequest, record_id: int) -> HttpResponse:
    line = _line(request)
    explanation = queries.explain_line_record(line, record_id)
    if explanation is None:
        raise Http404
    return render(
        request,
        "cabinet/record.html",
        {"explanation": explanation, "currency": settings.SELFCARE_CURRENCY},
    )


# --- Changes: tariff, services, black list (preview, then confirm) -------------------------------------


def _confirm_or_refuse(request: HttpRequest, apply: Any) -> tuple[Any, HttpResponse | None]:
    """Run a confirmed change; on a business refusal say why (a page message, or the htmx fragment)."""
    try:
        return apply(), None
    except BusinessError as error:
        return None, render_business_error(request, error)


def _preview_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    if _is_htmx(request):
        return render(request, f"{template}#preview", context, status=status)
    return render(request, template, context, status=status)


@never_cache
@login_required
def tariff(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    # The current tariff first: it is what every other column is compared with.
    choices = sorted(billing_queries.list_tariffs_for_change(line), key=lambda choice: not choice.is_current)
    return render(
        request,
        "cabinet/tariff.html",
        {
            "line": line,
            "choices": choices,
            "rows": queries.compare_tariffs(choices),
            "assignments": lines_queries.list_tariff_history(line.pk)[:10],
        },
    )


@never_cache
@login_required
def tariff_change(request: HttpRequest, code: str) -> HttpResponse:
    line = _line(request)
    target = catalog_queries.get_tariff_by_code(code)
    if target is None:
        raise Http404
    form = ConfirmForm(request.POST or None, prefix_key="tariff-")
    if request.method == "POST" and form.is_valid():
        applied, refused = _confirm_or_refuse(
            request,
            lambda: changes.change_tariff(
                line, tariff=target, actor=actor_of(request.user), idempotency_key=form.cleaned_data["token"]
            ),
        )
        if refused is not None:
            return refused
        if applied is not None:
            messages.success(
                request,
                _("Your tariff is now %(name)s. Charged: %(amount)s.")
                % {
                    "name": target.display_name,
                    "amount": formatting.isolate(formatting.money(applied.total_minor)),
                },
            )
            return redirect("cabinet:tariff")
    preview = changes.preview_tariff_change(line, tariff=target)
    return _preview_page(
        request,
        "cabinet/change.html",
        {
            "preview": preview,
            "form": form,
            "title": _("Change tariff to %(name)s") % {"name": target.display_name},
            "confirm_label": _("Change tariff"),
            "back_url": "cabinet:tariff",
            "product": target,
        },
    )


@never_cache
@login_required
def services(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    return render(
        request,
        "cabinet/services.html",
        {
            "line": line,
            "choices": billing_queries.list_services_for_line(line),
            "history": lines_queries.list_service_history(line.pk)[:20],
        },
    )


@never_cache
@login_required
def service_change(request: HttpRequest, code: str, action: str) -> HttpResponse:
    line = _line(request)
    service = catalog_queries.get_service_by_code(code)
    if service is None or action not in ("connect", "disconnect"):
        raise Http404
    connecting = action == "connect"
    form = ConfirmForm(request.POST or None, prefix_key=f"{action}-")
    if request.method == "POST" and form.is_valid():
        apply = changes.connect_service if connecting else changes.disconnect_service
        applied, refused = _confirm_or_refuse(
            request,
            lambda: apply(
                line,
                service=service,
                actor=actor_of(request.user),
                idempotency_key=form.cleaned_data["token"],
            ),
        )
        if refused is not None:
            return refused
        if applied is not None:
            message = (
                _("%(name)s is connected. Charged: %(amount)s.")
                if connecting
                else _("%(name)s is disconnected.")
            )
            messages.success(
                request,
                message
                % {
                    "name": service.display_name,
                    "amount": formatting.isolate(formatting.money(applied.total_minor)),
                },
            )
            return redirect("cabinet:services")
    preview = (
        changes.preview_service_connect(line, service=service)
        if connecting
        else changes.preview_service_disconnect(line, service=service)
    )
    return _preview_page(
        request,
        "cabinet/change.html",
        {
            "preview": preview,
            "form": form,
            "title": (_("Connect %(name)s") if connecting else _("Disconnect %(name)s"))
            % {"name": service.display_name},
            "confirm_label": _("Connect") if connecting else _("Disconnect"),
            "back_url": "cabinet:services",
            "product": service,
        },
    )


@never_cache
@login_required
def black_list(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    context = {
        "black_list": billing_queries.get_black_list(line),
        "form": BlackListForm(),
        "recent": queries.list_recent_contacts(line),
        "blocked": queries.list_black_listed_numbers(line),
    }
    if _is_htmx(request):
        return render(request, "cabinet/black_list.html#entries", context)
    return render(request, "cabinet/black_list.html", context)


@never_cache
@login_required
def black_list_add(request: HttpRequest) -> HttpResponse:
    """GET: the preview of adding a number (from the form or "Block this caller"); POST: add it."""
    line = _line(request)
    if request.method == "POST":
        form = BlackListConfirmForm(request.POST, prefix_key="black-list-")
        if form.is_valid():
            entry, refused = _confirm_or_refuse(
                request,
                lambda: changes.add_black_list_number(
                    line,
                    number=form.cleaned_data["number"],
                    note=form.cleaned_data["note"],
                    actor=actor_of(request.user),
                    idempotency_key=form.cleaned_data["token"],
                ),
            )
            if refused is not None:
                return refused
            if entry is not None:
                messages.success(
                    request,
                    _("%(number)s is on your black list.")
                    % {"number": formatting.isolate(formatting.msisdn(entry.msisdn))},
                )
                return redirect("cabinet:black-list")
    else:
        form = BlackListConfirmForm(
            initial={"number": request.GET.get("number", ""), "note": request.GET.get("note", "")},
            prefix_key="black-list-",
        )
    number = (form.data.get("number") if form.is_bound else form.initial.get("number")) or ""
    if not str(number).strip():
        return redirect("cabinet:black-list")
    preview = changes.preview_black_list_add(line, number=str(number))
    return _preview_page(
        request,
        "cabinet/change.html",
        {
            "preview": preview,
            "form": form,
            "title": _("Block %(number)s") % {"number": formatting.isolate(str(number).strip())},
            "confirm_label": _("Block this number"),
            "back_url": "cabinet:black-list",
            "black_list_form": True,
        },
    )


@require_POST
@login_required
def black_list_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    line = _line(request)
    try:
        changes.remove_black_list_number(line, entry_id=entry_id, actor=actor_of(request.user))
    except NotFound:
        raise Http404 from None
    except BusinessError as error:
        refused = render_business_error(request, error)
        if refused is not None:
            return refused
    else:
        if not _is_htmx(request):
            messages.success(request, _("The number is off your black list."))
    if _is_htmx(request):
        return black_list(request)
    return redirect("cabinet:black-list")
