"""The corporate cabinet's pages under /business/ (docs/companies.md): the company home, its lines,
one line, and its people. Every page names the company in its URL and goes through
`access.company_page`, which checks the member's role; objects are looked up within the company.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from selfcare.companies import queries, services
from selfcare.companies.access import company_page, page_line
from selfcare.companies.forms import InviteForm, LineFilterForm, RoleForm
from selfcare.companies.queries import CompanyAccess, Permission
from selfcare.identity.services import actor_of
from selfcare.kit.errors import BusinessError

LINES_PAGE_SIZE = 50


def _context(access: CompanyAccess, **extra: object) -> dict[str, object]:
    return {
        "company": access.company,
        "access": access,
        "can_view_company": access.can(Permission.VIEW_COMPANY),
        "can_view_lines": access.can(Permission.VIEW_LINES),
        "can_view_members": access.can(Permission.VIEW_MEMBERS),
        "can_manage_members": access.can(Permission.MANAGE_MEMBERS),
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
    return render(request, "companies/line.html", _context(access, details=details, line=found))


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
