"""Business applications in the back office: staff list, filter and read them, and decide them on a
review page (approve with the account's terms, or reject with a reason) through the services.

Deciding needs the "change business application" permission; reading needs "view". Nothing about an
application is edited by hand: its rows change only through the services, which audit each decision.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from selfcare.companies import services
from selfcare.companies.forms import ReviewForm
from selfcare.companies.models import Application, ApplicationNumber, ApplicationStatus
from selfcare.identity.services import actor_of
from selfcare.kit.errors import BusinessError


class ApplicationNumberInline(admin.TabularInline[ApplicationNumber, Application]):
    model = ApplicationNumber
    fields = ("line", "line_status", "line_account")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("line__account")

    @admin.display(description=_("status"))
    def line_status(self, obj: ApplicationNumber) -> str:
        return str(obj.line.get_status_display())

    @admin.display(description=_("account"))
    def line_account(self, obj: ApplicationNumber) -> str:
        return obj.line.account.number


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin[Application]):
    list_display = (
        "tracking_number",
        "company_name",
        "tax_id",
        "region",
        "status",
        "submitted_at",
        "review_link",
    )
    list_filter = ("status", "region")
    search_fields = ("=tracking_number", "company_name", "=tax_id", "=contact_phone")
    list_select_related = ("region",)
    date_hierarchy = "submitted_at"
    ordering = ("-submitted_at",)
    readonly_fields = (
        "tracking_number",
        "status",
        "region",
        "company_name",
        "tax_id",
        "legal_address",
        "contact_name",
        "contact_phone",
        "contact_email",
        "language",
        "terms_accepted_at",
        "submitted_at",
        "reviewed_at",
        "reviewed_by",
        "rejection_reason",
        "company",
    )
    fields = readonly_fields
    inlines = [ApplicationNumberInline]
    change_form_template = "admin/companies/application/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an application explains why a company and its account exist

    def save_model(self, request: HttpRequest, obj: Application, form: Any, change: bool) -> None:
        return  # every field is read-only: decisions go through the review page

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return

    @admin.display(description=_("review"))
    def review_link(self, obj: Application) -> str:
        if obj.status != ApplicationStatus.SUBMITTED:
            return "—"
        url = reverse("admin:companies_application_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Review"))

    def get_urls(self) -> list[Any]:
        review = path(
            "<int:application_id>/review/",
            self.admin_site.admin_view(self.review_view),
            name="companies_application_review",
        )
        return [review, *super().get_urls()]

    def review_view(self, request: HttpRequest, application_id: int) -> HttpResponse:
        application = get_object_or_404(Application, pk=application_id)
        if not self.has_change_permission(request, application):
            raise PermissionDenied
        change_url = reverse("admin:companies_application_change", args=[application.pk])
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            actor = actor_of(request.user)
            try:
                if data["decision"] == ReviewForm.APPROVE:
                    company = services.approve_application(
                        application,
                        account_kind=data["account_kind"],
                        credit_limit_minor=data["credit_limit"] or 0,
                        actor=actor,
                    )
                    self.message_user(
                        request,
                        _("Approved: the company %(name)s is created and its contact is invited.")
                        % {"name": company.name},
                        messages.SUCCESS,
                    )
                else:
                    services.reject_application(application, reason=data["reason"], actor=actor)
                    self.message_user(
                        request, _("Rejected: the applicant is told the reason."), messages.SUCCESS
                    )
            except BusinessError as exc:
                self.message_user(request, exc.render_message(), messages.ERROR)
            else:
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review application %(number)s") % {"number": application.tracking_number},
            "opts": self.model._meta,
            "original": application,
            "application": application,
            "numbers": [
                (number.line.msisdn, number.line.get_status_display())
                for number in application.numbers.select_related("line").order_by("line__msisdn")
            ],
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/companies/application/review.html", context)
