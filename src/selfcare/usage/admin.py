"""Usage in the back office is read-only: records and buckets change only through rating."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from selfcare.usage.models import Bucket, BucketConsumption, UsageBatch, UsageRecord


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsageBatch)
class UsageBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "received_at", "actor", "records_total", "accepted", "refused", "duplicates",
                    "rejected", "charged_minor")  # fmt: skip
    date_hierarchy = "received_at"
    show_full_result_count = False


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "line", "kind", "counterparty", "usage_class", "charged_units",
                    "bucket_units", "priced_units", "price_minor", "status", "refusal_reason")  # fmt: skip
    list_filter = ("kind", "status", "usage_class")
    search_fields = ("source_record_id", "counterparty", "line__msisdn")
    raw_id_fields = ("line", "bucket", "transaction", "batch")
    list_select_related = ("line",)
    show_full_result_count = False


@admin.register(Bucket)
class BucketAdmin(ReadOnlyAdmin):
    list_display = ("line", "usage_kind", "amount", "remaining", "period_start", "period_end", "tariff",
                    "service_assignment")  # fmt: skip
    list_filter = ("usage_kind",)
    search_fields = ("line__msisdn",)
    raw_id_fields = ("line", "service_assignment")
    list_select_related = ("line", "tariff")
    show_full_result_count = False


@admin.register(BucketConsumption)
class BucketConsumptionAdmin(ReadOnlyAdmin):
    list_display = ("record", "bucket", "units")
    raw_id_fields = ("record", "bucket")
