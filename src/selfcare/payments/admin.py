"""Payments in the back office: payments and webhooks read-only (money moves only through services),
alerts to resolve, the promised-payment rules to edit, saved cards and autopay to look at."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from selfcare.backoffice.auditing import AuditedModelAdmin, has_model_permission
from selfcare.backoffice.search import NumberSearchMixin
from selfcare.identity.services import actor_of
from selfcare.kit import clock
from selfcare.payments import services
from selfcare.payments.models import (
    AutopaySettings,
    Payment,
    PaymentAlert,
    PromisedPayment,
    PromisedPaymentRule,
    SavedCard,
    WebhookEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OpenAlertFilter(admin.SimpleListFilter):
    title = _("alert")
    parameter_name = "alert"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("With an open alert")), ("any", _("With any alert"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(alerts__resolved_at__isnull=True, alerts__isnull=False).distinct()
        if self.value() == "any":
            return queryset.filter(alerts__isnull=False).distinct()
        return queryset


@admin.register(Payment)
class PaymentAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = (
        "public_id",
        "kind",
        "msisdn",
        "amount_minor",
        "currency",
        "status",
        "provider",
        "card_brand",
        "card_last4",
        "created_at",
    )
    list_filter = ("status", "kind", "provider", OpenAlertFilter)
    search_fields = ("=msisdn", "=provider_payment_id", "=public_id")
    number_search_fields = ("msisdn",)
    date_hierarchy = "created_at"
    actions = ["query_provider"]

    def has_query_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, Payment, "change")

    @admin.action(description=_("Ask the provider for the status now"), permissions=["query"])
    def query_provider(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        outcomes = [services.refresh_payment(p, actor=actor_of(request.user)) for p in queryset[:100]]
        self.message_user(request, ", ".join(outcomes) or "-", messages.INFO)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("provider", "event_id", "event_type", "provider_payment_id", "outcome", "received_at")
    list_filter = ("provider", "outcome")
    search_fields = ("=event_id", "=provider_payment_id")


class UnresolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("Open")), ("yes", _("Resolved"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(PaymentAlert)
class PaymentAlertAdmin(ReadOnlyAdmin):
    list_display = ("kind", "provider", "provider_payment_id", "payment", "created_at", "resolved_at")
    list_filter = ("kind", UnresolvedFilter, "provider")
    actions = ["mark_resolved"]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, PaymentAlert, "change")

    @admin.action(
        description=_("Mark as resolved (after handling it with the provider)"), permissions=["resolve"]
    )
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[PaymentAlert]) -> None:
        for alert in queryset.filter(resolved_at__isnull=True):
            services.resolve_alert(
                alert,
                resolution=f"resolved in the back office {clock.now():%Y-%m-%d}",
                actor=actor_of(request.user),
            )


@admin.register(PromisedPaymentRule)
class PromisedPaymentRuleAdmin(AuditedModelAdmin):
    """The newest row is the rule in force; saving an edit writes the audit row (before -> after)."""

    list_display = ("pk", "enabled", "min_tenure_days", "max_amount_minor", "term_days", "updated_at")
    readonly_fields = ("updated_at",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PromisedPayment)
class PromisedPaymentAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = (
        "msisdn",
        "amount_minor",
        "fee_minor",
        "outstanding_minor",
        "status",
        "granted_at",
        "due_at",
    )
    list_filter = ("status",)
    search_fields = ("=msisdn",)
    number_search_fields = ("msisdn",)


@admin.register(SavedCard)
class SavedCardAdmin(ReadOnlyAdmin):
    # The provider's token stays out of the list: staff never need it.
    list_display = ("account", "brand", "last4", "exp_month", "exp_year", "created_at", "removed_at")
    exclude = ("token",)


@admin.register(AutopaySettings)
class AutopaySettingsAdmin(ReadOnlyAdmin):
    list_display = ("account", "msisdn", "enabled", "threshold_minor", "amount_minor", "max_per_month")
