from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from selfcare.documents import services
from selfcare.documents.models import Document
from selfcare.identity.services import actor_of


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin[Document]):
    """Issued documents, read-only: their numbers and figures are fixed at issue. Staff may only draw a
    document's file again (same number, same figures) when it failed or was lost."""

    list_display = ("number", "kind", "company", "period_start", "period_end", "total_minor", "status")
    fields = (
        "public_id",
        "number",
        "kind",
        "company",
        "period_start",
        "period_end",
        "language",
        "currency",
        "total_minor",
        "vat_minor",
        "vat_rate_percent",
        "figures",
        "status",
        "file_name",
        "size_bytes",
        "failure",
        "ordered_by",
        "created_at",
        "ready_at",
    )
    list_filter = ("kind", "status", "year")
    search_fields = ("number", "company__name", "company__tax_id")
    list_select_related = ("company",)
    date_hierarchy = "created_at"
    actions = ("reissue",)

    @admin.action(description=_("Draw the files again (same numbers and figures)"))
    def reissue(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        count = 0
        for document in queryset:
            services.reissue_document(document, actor=actor_of(request.user))
            count += 1
        messages.success(request, _("Documents queued to be drawn again: %(count)s.") % {"count": count})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
