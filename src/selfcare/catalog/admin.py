from typing import Any

from django.contrib import admin

from selfcare.backoffice.auditing import AuditedModelAdmin
from selfcare.backoffice.widgets import TranslatedFieldsAdminMixin
from selfcare.catalog.models import Allowance, NumberRange, Rate, Region, Service, Tariff, Zone, ZonePrefix


class AllowanceForTariffInline(admin.TabularInline[Any, Any]):
    model = Allowance
    fk_name = "tariff"
    exclude = ("service",)
    extra = 0


class AllowanceForServiceInline(admin.TabularInline[Any, Any]):
    model = Allowance
    fk_name = "service"
    exclude = ("tariff",)
    extra = 0


class RateInline(admin.TabularInline[Any, Any]):
    model = Rate
    extra = 0


@admin.register(Tariff)
class TariffAdmin(TranslatedFieldsAdminMixin, AuditedModelAdmin):
    list_display = ("code", "__str__", "fee_minor", "fee_period", "is_open", "is_active", "available_from",
                    "available_until", "sort_order")  # fmt: skip
    list_filter = ("fee_period", "is_open", "is_active", "available_from", "available_until")
    search_fields = ("code",)
    inlines = [AllowanceForTariffInline, RateInline]


@admin.register(Service)
class ServiceAdmin(TranslatedFieldsAdminMixin, AuditedModelAdmin):
    list_display = (
        "code",
        "__str__",
        "kind",
        "connect_fee_minor",
        "fee_minor",
        "fee_period",
        "is_open",
        "is_active",
        "available_from",
        "available_until",
    )
    list_filter = ("kind", "fee_period", "is_open", "is_active", "available_from", "available_until")
    search_fields = ("code",)
    filter_horizontal = ("allowed_tariffs", "requires", "excludes")
    inlines = [AllowanceForServiceInline]


@admin.register(Region)
class RegionAdmin(TranslatedFieldsAdminMixin, AuditedModelAdmin):
    list_display = ("code", "__str__")
    search_fields = ("code",)


class ZonePrefixInline(admin.TabularInline[Any, Any]):
    model = ZonePrefix
    extra = 0


@admin.register(Zone)
class ZoneAdmin(TranslatedFieldsAdminMixin, AuditedModelAdmin):
    list_display = ("code", "__str__", "kind")
    list_filter = ("kind",)
    inlines = [ZonePrefixInline]


@admin.register(NumberRange)
class NumberRangeAdmin(AuditedModelAdmin):
    list_display = ("prefix", "kind", "region", "holder")
    list_filter = ("kind", "region")
    search_fields = ("prefix", "holder")
