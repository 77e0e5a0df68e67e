from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from selfcare.backoffice.search import NumberSearchMixin
from selfcare.statements.models import StatementOrder


@admin.register(StatementOrder)
class StatementOrderAdmin(NumberSearchMixin, admin.ModelAdmin[StatementOrder]):
    """The orders, for support ("was it made, was it downloaded?" is in the audit log), read-only.

    Staff never get the document: it is the subscriber's call detail (secrecy of communications), so
    there is no link to the file here, and orders are written only by the statements services.
    """

    list_display = ("created_at", "msisdn", "period_start", "period_end", "format", "status", "rows_total")
    fields = (
        "public_id",
        "msisdn",
        "period_start",
        "period_end",
        "categories",
        "format",
        "language",
        "by_email",
        "status",
        "rows_total",
        "fee_minor",
        "fee_transaction_id",
        "size_bytes",
        "failure",
        "created_at",
        "started_at",
        "ready_at",
        "expires_at",
        "deleted_at",
    )
    list_filter = ("status", "format")
    search_fields = ("msisdn", "public_id")
    number_search_fields = ("msisdn",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
