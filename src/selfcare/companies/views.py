"""Public business pages: the application form, its status page, and the invitation acceptance.

The application form works without JavaScript: "More rows" posts the form back and it comes again
with more empty number rows, keeping what was typed. Errors about numbers sit on their own row, and a
number/PUK pair that does not match gets the same words whatever was wrong with it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as django_login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from selfcare.companies import bulk, queries, services
from selfcare.companies.access import company_page, page_line
from selfcare.companies.errors import BulkRequestInvalid, NumbersRefused
from selfcare.companies.forms import (
    INITIAL_ROWS,
    ROWS_STEP,
    ApplicationForm,
    BulkForm,
    ExistingPasswordForm,
    InviteForm,
    LineFilterForm,
    NewPasswordForm,
    RoleForm,
    number_formset,
)
from selfcare.companies.queries import CompanyAccess, Permission
from selfcare.identity import services as identity
from selfcare.identity.errors import TooManyRequests
from selfcare.identity.http import client_of
from selfcare.identity.services import actor_of
from selfcare.kit.errors import BusinessError
from selfcare.kit.i18n import pick_translation
from selfcare.kit.phone import format_international
from selfcare.statements import services as statements

# A company line's call detail is ordered with the very form of the subscriber's own order.
from selfcare.statements.forms import OrderForm

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


# --- The company's cabinet: home, lines, members ---------------------------------------------------

LINES_PAGE_SIZE = 50


def _context(access: CompanyAccess, **extra: object) -> dict[str, object]:
    return {
        "company": access.company,
        "access": access,
        "can_view_company": access.can(Permission.VIEW_COMPANY),
        "can_view_lines": access.can(Permission.VIEW_LINES),
        "can_view_members": access.can(Permission.VIEW_MEMBERS),
        "can_manage_members": access.can(Permission.MANAGE_MEMBERS),
        "can_manage_lines": access.can(Permission.MANAGE_LINES),
        # The invoices, acts and reconciliation statements (documents app: admins and accountants).
        "can_see_documents": access.can(Permission.MANAGE_MONEY),
        **extra,
    }


@never_cache
@login_required
def start(request: HttpRequest) -> HttpResponse:
    """Where a company user lands after signing in: their (first) company's home, or an employee's line."""
    company_id = queries.first_company_id(request.user)
    if company_id is None:
        raise Http404
    return redirect("companies:home", company_id=company_id)


@company_page()
def home(request: HttpRequest, access: CompanyAccess) -> HttpResponse:
    own_line = queries.start_page_line_id(access)
    if own_line is not None:
        return redirect("companies:line", company_id=access.company.pk, line_id=own_line)
    if not access.can(Permission.VIEW_COMPANY):
        raise Http404
    summary = queries.get_company_summary(access.company)
    return render(request, "companies/home.html", _context(access, summary=summary))


@company_page(Permission.VIEW_LINES)
def lines(request: HttpRequest, access: CompanyAccess) -> HttpResponse:
    tariffs = queries.list_tariff_choices(access.company)
    form = LineFilterForm(request.GET or None, tariffs=tariffs)
    values = form.values()
    page = queries.list_company_lines(
        access.company,
        search=values["search"],
        tariff_id=values["tariff_id"],
        status=values["status"],
        order=values["order"],
        page=values["page"],
        per_page=LINES_PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "companies/lines.html", _context(access, form=form, page=page, query=query.urlencode())
    )


@company_page()
def line(request: HttpRequest, access: CompanyAccess, line_id: int) -> HttpResponse:
    found = page_line(access, line_id)
    details = queries.get_line_details(access.company, found)
    return render(
        request,
        "companies/line.html",
        _context(
            access,
            details=details,
            line=found,
            can_order_call_detail=access.can(Permission.ORDER_CALL_DETAIL),
        ),
    )


# --- Call detail of a company line: an admin orders it through statements ------------------------------


@company_page(Permission.ORDER_CALL_DETAIL)
@require_http_methods(["GET", "POST"])
def line_call_detail(request: HttpRequest, access: CompanyAccess, line_id: int) -> HttpResponse:
    """The statements order form for one company line. The admin owns the order: the code, the ready
    SMS and e-mail go to them, and only they download the file (from the statements pages)."""
    found = page_line(access, line_id)
    today = statements.local_today()
    initial = {
        "period_start": today.replace(day=1),
        "period_end": today,
        "format": "pdf",
        "categories": ["calls", "sms", "data", "other"],
    }
    form = OrderForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            placed = statements.order_statement(
                request.user,
                line=found,
                period_start=data["period_start"],
                period_end=data["period_end"],
                categories=data["categories"],
                fmt=data["format"],
                by_email=data["by_email"],
                code=data["code"],
                idempotency_key=data["token"],
                client=client_of(request),
            )
        except BusinessError as exc:
            form.add_error(None, exc.render_message())
            status = _status_for(exc)
        else:
            messages.success(request, _("Your order is placed. We will send an SMS when it is ready."))
            return redirect("statements:detail", public_id=placed.public_id)
    context = _context(
        access,
        line=found,
        form=form,
        earliest=statements.earliest_day(today),
        email=statements.notify_email_for(request.user, found),
        phone=getattr(request.user, "msisdn", "") or "",
        retention_days=settings.SELFCARE_STATEMENT_RETENTION_DAYS,
    )
    return render(request, "companies/line_call_detail.html", context, status=status)


@company_page(Permission.ORDER_CALL_DETAIL)
@require_POST
def line_call_detail_code(request: HttpRequest, access: CompanyAccess, line_id: int) -> HttpResponse:
    """Send the SMS code that confirms the order, to the admin's own phone."""
    found = page_line(access, line_id)
    try:
        statements.request_order_code(request.user, client=client_of(request))
    except BusinessError as exc:
        messages.error(request, exc.render_message())
    else:
        messages.info(request, _("A code is on its way by SMS. It is valid for 5 minutes."))
    return redirect("companies:line-call-detail", company_id=access.company.pk, line_id=found.pk)


@company_page(Permission.VIEW_MEMBERS)
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, access: CompanyAccess) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if not access.can(Permission.MANAGE_MEMBERS):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.invite_member(
                    company=access.company,
                    name=form.cleaned_data["name"],
                    phone=form.cleaned_data["phone"],
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    line_msisdn=form.cleaned_data["line"],
                    actor=actor_of(request.user),
                )
            except BusinessError as exc:
                form.add_error(None, exc.render_message())
            else:
                messages.success(request, _("The invitation is sent."))
                return redirect("companies:members", company_id=access.company.pk)
    return render(
        request,
        "companies/members.html",
        _context(
            access,
            members=queries.list_members(access.company),
            invitations=queries.list_pending_invitations(access.company),
            form=form,
            role_form=RoleForm(),
            admins=queries.count_admins(access.company.pk),
        ),
        status=400 if request.method == "POST" else 200,
    )


@company_page(Permission.MANAGE_MEMBERS)
@require_POST
def member_role(request: HttpRequest, access: CompanyAccess, membership_id: int) -> HttpResponse:
    member = queries.get_member(access.company, membership_id)
    if member is None:
        raise Http404
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.change_member_role(
                company=access.company,
                membership_id=member.pk,
                role=form.cleaned_data["role"],
                actor=actor_of(request.user),
            )
        except BusinessError as exc:
            messages.error(request, exc.render_message())
        else:
            messages.success(request, _("The role is changed."))
    return redirect("companies:members", company_id=access.company.pk)


@company_page(Permission.MANAGE_MEMBERS)
@require_POST
def member_remove(request: HttpRequest, access: CompanyAccess, membership_id: int) -> HttpResponse:
    member = queries.get_member(access.company, membership_id)
    if member is None:
        raise Http404
    try:
        services.remove_member(company=access.company, membership_id=member.pk, actor=actor_of(request.user))
    except BusinessError as exc:
        messages.error(request, exc.render_message())
    else:
        messages.success(request, _("The member is removed."))
    return redirect("companies:members", company_id=access.company.pk)


# --- Bulk changes ----------------------------------------------------------------------------------


def _bulk_form(access: CompanyAccess, data: Any = None, files: Any = None, initial: Any = None) -> BulkForm:
    return BulkForm(
        data,
        files,
        initial=initial,
        tariffs=queries.list_bulk_tariff_choices(),
        services=queries.list_bulk_service_choices(),
    )


def _chosen_lines(access: CompanyAccess, form: BulkForm) -> tuple[list[Any], list[str], list[str], str]:
    """The lines the form names (ticked ids, the filter, or the uploaded CSV), the numbers that are
    not lines of this company, the CSV's rows that are not numbers, and how they were chosen."""
    data = form.cleaned_data
    upload = data.get("numbers_file")
    if upload is not None:
        content = upload.read(bulk.MAX_CSV_BYTES + 1)
        if len(content) > bulk.MAX_CSV_BYTES:
            raise BulkRequestInvalid(_("The file is too large."))
        numbers = bulk.read_numbers_csv(content)
        found, missing = bulk.find_company_lines(access.company, msisdns=numbers.numbers)
        by_number = {line.msisdn: line for line in found}
        ordered = [by_number[n] for n in numbers.numbers if n in by_number]
        selection = _("CSV file: %(count)s numbers") % {"count": len(numbers.numbers)}
        return ordered, missing, numbers.invalid, selection
    if data.get("by_filter"):
        found = queries.list_matching_lines(
            access.company,
            search=data.get("q") or "",
            tariff_id=data.get("filter_tariff"),
            status=data.get("status") or "",
            limit=bulk.MAX_LINES_PER_REQUEST + 1,
        )
        return found, [], [], _("Lines matching the filter")
    ids = data.get("line_ids") or []
    found, _missing = bulk.find_company_lines(access.company, line_ids=ids)
    if len({line.pk for line in found}) != len(set(ids)):
        raise BulkRequestInvalid(_("Some of the chosen lines are not lines of this company."))
    by_id = {line.pk: line for line in found}
    ordered = [by_id[i] for i in dict.fromkeys(ids)]
    return ordered, [], [], data.get("selection") or _("Ticked lines")


def _targets(form: BulkForm) -> dict[str, Any]:
    data = form.cleaned_data
    action = data["action"]
    tariff_id = data.get("tariff") if action == "change_tariff" else None
    service_id = data.get("service") if action in ("connect_service", "disconnect_service") else None
    return {
        "action": action,
        "tariff": queries.get_bulk_tariff(tariff_id) if tariff_id else None,
        "service": queries.get_bulk_service(service_id) if service_id else None,
        "quota_minor": data.get("quota") if action == "set_quota" else None,
    }


@company_page(Permission.MANAGE_LINES)
@require_http_methods(["GET", "POST"])
def bulk_page(request: HttpRequest, access: CompanyAccess) -> HttpResponse:
    """Choose the change, preview it line by line, confirm. The preview carries the chosen lines on
    as ids in the form: the confirmation posts them again, nothing is kept on the server."""
    if request.method == "GET":
        ticked = [value for value in request.GET.getlist("line") if value.isdigit()]
        filter_form = LineFilterForm(request.GET or None, tariffs=queries.list_tariff_choices(access.company))
        values = filter_form.values()
        by_filter = request.GET.get("by_filter") == "1"
        initial = {
            "line_ids": ",".join(ticked),
            "by_filter": by_filter,
            "q": values["search"],
            "filter_tariff": values["tariff_id"],
            "status": values["status"],
        }
        form = _bulk_form(access, initial=initial)
        chosen = 0
        if by_filter:
            chosen = len(
                queries.list_matching_lines(
                    access.company,
                    search=values["search"],
                    tariff_id=values["tariff_id"],
                    status=values["status"],
                    limit=bulk.MAX_LINES_PER_REQUEST + 1,
                )
            )
        context = _context(access, form=form, ticked=len(ticked), by_filter=by_filter, chosen=chosen)
        return render(request, "companies/bulk.html", context)
    form = _bulk_form(access, request.POST, request.FILES)
    status = 400
    preview = None
    missing: list[str] = []
    invalid: list[str] = []
    if form.is_valid():
        try:
            lines, missing, invalid, selection = _chosen_lines(access, form)
            targets = _targets(form)
            if "confirm" in request.POST:
                submitted = bulk.submit_bulk(
                    access.company,
                    lines=lines,
                    actor=actor_of(request.user),
                    selection=selection,
                    **targets,
                )
                return redirect(
                    "companies:bulk-request", company_id=access.company.pk, request_id=submitted.pk
                )
            preview = bulk.preview_bulk(access.company, lines=lines, **targets)
        except BusinessError as exc:
            form.add_error(None, exc.render_message())
        else:
            status = 200
            form = _bulk_form(
                access,
                initial={
                    "action": targets["action"],
                    "tariff": targets["tariff"].pk if targets["tariff"] else None,
                    "service": targets["service"].pk if targets["service"] else None,
                    "quota": form.data.get("quota", ""),
                    "line_ids": ",".join(str(line.pk) for line in lines),
                    "selection": selection,
                },
            )
    context = _context(access, form=form, preview=preview, missing=missing, invalid=invalid)
    return render(request, "companies/bulk.html", context, status=status)


def _label_requests(access: CompanyAccess, requests: list[Any]) -> None:
    """Who made each request (a member's name) and its target's name, for the templates."""
    names = queries.member_names(access.company)
    for found in requests:
        found.requester = names.get(found.requested_by, found.requested_by)
        product = found.tariff or found.service
        found.target_name = pick_translation(product.name) if product is not None else ""


@company_page(Permission.MANAGE_LINES)
@require_GET
def bulk_request(request: HttpRequest, access: CompanyAccess, request_id: int) -> HttpResponse:
    found = bulk.get_bulk_request(access.company, request_id)
    if found is None:
        raise Http404
    context = _context(access, bulk_request=found, running=found.status != "done")
    if getattr(request, "htmx", False):
        response = render(request, "companies/_bulk_progress.html", context)
        if found.status == "done":
            response["HX-Refresh"] = "true"  # the full report comes with the page
        return response
    context["items"] = bulk.list_bulk_items(found)
    _label_requests(access, [found])
    return render(request, "companies/bulk_request.html", context)


@company_page(Permission.MANAGE_LINES)
@require_GET
def bulk_history(request: HttpRequest, access: CompanyAccess) -> HttpResponse:
    requests = bulk.list_bulk_requests(access.company)
    _label_requests(access, requests)
    context = _context(access, requests=requests)
    return render(request, "companies/bulk_history.html", context)
