"""Fee charges in the back office are read-only: they change only through billing services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from selfcare.billing.models import BalanceAdjustment, FeeCharge, ProductChange


@admin.register(FeeCharge)
class FeeChargeAdmin(admin.ModelAdmin[Any]):
    list_display = (
        "id",
        "line",
        "product_kind",
        "product_id",
        "fee_period",
        "period_start",
        "amount_minor",
        "status",
        "charged_at",
    )
    list_filter = ("status", "product_kind", "fee_period")
    search_fields = ("line__msisdn", "idempotency_key")
    date_hierarchy = "period_start"
    list_select_related = ("line",)
    raw_id_fields = ("line", "account")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProductChange)
class ProductChangeAdmin(admin.ModelAdmin[Any]):
    """Tariff changes, service connections and black-list additions with what they cost (read-only:
    they are made through billing.changes, with their ledger postings)."""

    list_display = (
        "id",
        "line",
        "action",
        "product_kind",
        "product_id",
        "entry_msisdn",
        "fee_today_minor",
        "change_fee_minor",
        "balance_after_minor",
        "actor",
        "created_at",
    )
    list_filter = ("action",)
    search_fields = ("line__msisdn", "request_key", "entry_msisdn")
    date_hierarchy = "created_at"
    list_select_related = ("line",)
    raw_id_fields = ("line", "account")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BalanceAdjustment)
class BalanceAdjustmentAdmin(admin.ModelAdmin[Any]):
    """Staff corrections of balances, read-only: made on the account's "Adjust balance" page."""

    list_display = (
        "created_at",
        "account",
        "amount_minor",
        "balance_before_minor",
        "balance_after_minor",
        "reason",
        "actor",
        "below_floor_allowed",
    )
    list_filter = ("below_floor_allowed",)
    search_fields = ("account__number", "reason", "=actor", "=idempotency_key")
    date_hierarchy = "created_at"
    list_select_related = ("account",)
    raw_id_fields = ("account",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
