"""The ledger in the back office is read-only: money moves only through ledger services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from selfcare.ledger.models import LedgerAccount, Posting, Transaction


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PostingInline(admin.TabularInline[Posting, Any]):
    model = Posting
    fields = ("account", "amount_minor", "balance_after_minor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "kind", "currency", "balance_minor", "floor_minor", "overdraft_minor")
    list_filter = ("kind", "currency")
    search_fields = ("code", "name")
    show_full_result_count = False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "actor", "cause_type", "cause_id", "memo")
    list_filter = ("kind",)
    search_fields = ("idempotency_key", "cause_id")
    date_hierarchy = "created_at"
    inlines = [PostingInline]
    show_full_result_count = False


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "account", "amount_minor", "balance_after_minor", "transaction")
    list_select_related = ("account", "transaction")
    search_fields = ("account__code",)
    raw_id_fields = ("account", "transaction")
    show_full_result_count = False
