"""Subscribers in the back office. Status, tariff and money fields change only through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from selfcare.backoffice.adjustments import PERMISSION as ADJUST_PERMISSION
from selfcare.backoffice.adjustments import adjust_balance_view
from selfcare.backoffice.auditing import AuditedModelAdmin
from selfcare.backoffice.search import NumberSearchMixin
from selfcare.identity.services import actor_of
from selfcare.kit import clock
from selfcare.lines import queries, services
from selfcare.lines.models import (
    Account,
    Customer,
    Line,
    LineQuota,
    LineStatus,
    ServiceAssignment,
    TariffAssignment,
)


@admin.register(Customer)
class CustomerAdmin(NumberSearchMixin, AuditedModelAdmin):
    list_display = ("name", "kind", "email", "language", "created_at")
    list_filter = ("kind", "language")
    search_fields = ("name", "email", "tax_id")
    number_search_fields = ("accounts__lines__msisdn",)
    readonly_fields = ("created_at",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(NumberSearchMixin, admin.ModelAdmin[Account]):
    """Read-only: limits change through services; money through "Adjust balance" (its own permission)."""

    list_display = ("number", "customer", "kind", "credit_limit_minor", "currency")
    list_filter = ("kind",)
    search_fields = ("number", "customer__name")
    number_search_fields = ("lines__msisdn",)
    change_form_template = "admin/lines/account/change_form.html"
    list_select_related = ("customer",)
    readonly_fields = (
        "number",
        "customer",
        "kind",
        "credit_limit_minor",
        "currency",
        "ledger_account",
        "created_at",
    )
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        adjust = path(
            "<path:object_id>/adjust-balance/",
            self.admin_site.admin_view(self.adjust_balance_view),
            name="lines_account_adjust_balance",
        )
        return [adjust, *super().get_urls()]

    def adjust_balance_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return adjust_balance_view(self, request, object_id)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "can_adjust_balance": request.user.has_perm(ADJUST_PERMISSION)}
        return super().change_view(request, object_id, form_url, extra_context=extra)


class TariffAssignmentInline(admin.TabularInline[Any, Any]):
    model = TariffAssignment
    fields = ("tariff", "started_at", "ended_at", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceAssignmentInline(TariffAssignmentInline):
    model = ServiceAssignment  # type: ignore[assignment]
    fields = ("service", "connected_at", "disconnected_at", "actor")
    readonly_fields = fields


class LineAdminForm(forms.ModelForm[Line]):
    """The line, plus its monthly quota: not a column of the line, set through services.set_line_quota."""

    quota_limit_minor = forms.IntegerField(
        label=_("monthly quota (minor units)"),
        required=False,
        min_value=0,
        help_text=_(
            "Empty: no quota. The company's admins are told when the line nears it; once it is spent, "
            "the line's paid outgoing usage stops until the next month or a higher quota."
        ),
    )

    class Meta:
        model = Line
        fields = ("region", "holder_name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            quota = queries.get_line_quota(self.instance.pk)
            self.fields["quota_limit_minor"].initial = quota.limit_minor if quota is not None else None


@admin.register(Line)
class LineAdmin(AuditedModelAdmin):
    form = LineAdminForm
    list_display = ("msisdn", "status", "tariff", "account", "region", "holder_name", "activated_at")
    list_filter = ("status", "tariff", "region")
    search_fields = ("=msisdn", "=iccid", "holder_name", "account__number")
    list_select_related = ("tariff", "account", "region")
    readonly_fields = (
        "msisdn",
        "iccid",
        "imsi",
        "account",
        "tariff",
        "status",
        "status_before_block",
        "status_changed_at",
        "activated_at",
        "quota_spent",
    )
    exclude = ("puk_hash",)
    inlines = [TariffAssignmentInline, ServiceAssignmentInline]
    actions = ["block_lines", "unblock_lines"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("spent this month (minor units)"))
    def quota_spent(self, obj: Line) -> int:
        quota = queries.get_line_quota(obj.pk) if obj.pk else None
        return 0 if quota is None else quota.spent_in(LineQuota.month_of(clock.now()))

    def save_model(self, request: HttpRequest, obj: Line, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "quota_limit_minor" in form.changed_data:
            # The service locks the line, keeps the spend counter and writes its own audit row.
            services.set_line_quota(
                obj, limit_minor=form.cleaned_data["quota_limit_minor"], actor=actor_of(request.user)
            )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Line], search_term: str) -> Any:
        # Staff type numbers as people say them; search by the normalised E.164 form too.
        try:
            normalized = services.normalize_number(search_term)
        except Exception:  # not a number: fall back to the ordinary search
            normalized = ""
        if normalized:
            return queryset.filter(msisdn=normalized), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description=_("Block selected lines"), permissions=["change"])
    def block_lines(self, request: HttpRequest, queryset: QuerySet[Line]) -> None:
        # On the subscriber's behalf (a call to the help line about a lost phone): the same service,
        # audit row and SMS as the subscriber's own block.
        for line in queryset.exclude(status=LineStatus.TERMINATED):
            services.block_line_voluntarily(line, actor=actor_of(request.user))
        self.message_user(request, _("Lines blocked."), messages.SUCCESS)

    @admin.action(description=_("Unblock selected lines"), permissions=["change"])
    def unblock_lines(self, request: HttpRequest, queryset: QuerySet[Line]) -> None:
        # Lifts only the subscriber's block: a line that owes fees goes back to blocked for debt.
        for line in queryset.filter(status=LineStatus.BLOCKED_BY_SUBSCRIBER):
            services.unblock_line_voluntarily(line, actor=actor_of(request.user))
        self.message_user(request, _("Lines unblocked."), messages.SUCCESS)
