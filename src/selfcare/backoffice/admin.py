from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from selfcare.backoffice.auditing import AuditedModelAdmin
from selfcare.identity.models import AuditEvent


class _TextFilter(admin.SimpleListFilter):
    """A list filter typed as text (?actor=staff:7): exact match on one column."""

    template = "admin/backoffice/text_filter.html"
    field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("", "")]  # a filter with no lookups is not shown; the template draws an input instead

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> Any:
        # The other filters in force, kept as hidden inputs of this filter's little form.
        yield {
            "hidden": [
                (name, value) for name, value in changelist.params.items() if name != self.parameter_name
            ]
        }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = (self.value() or "").strip()
        return queryset.filter(**{self.field: value}) if value else queryset


class ActorFilter(_TextFilter):
    title = _("actor")
    parameter_name = "actor"
    field = "actor"


class SubjectTypeFilter(admin.SimpleListFilter):
    title = _("subject type")
    parameter_name = "subject_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        kinds = AuditEvent.objects.exclude(subject_type="").values_list("subject_type", flat=True)
        return [(kind, kind) for kind in sorted(set(kinds.distinct()[:200]))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(subject_type=self.value()) if self.value() else queryset


class SubjectIdFilter(_TextFilter):
    title = _("subject id")
    parameter_name = "subject_id"
    field = "subject_id"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """The audit log, read-only; filter by actor, action, subject and date (created_at__gte/__lt in the
    query string work too, e.g. ?created_at__gte=2026-03-01&created_at__lt=2026-03-02)."""

    list_display = ("created_at", "actor", "action", "subject_type", "subject_id", "outcome", "ip")
    list_filter = (ActorFilter, "action", SubjectTypeFilter, SubjectIdFilter, "outcome", "created_at")
    search_fields = ("=actor", "=subject_id", "action")
    show_full_result_count = False
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.unregister(Group)


@admin.register(Group)
class AuditedGroupAdmin(AuditedModelAdmin, GroupAdmin):
    """Staff groups (selfcare staff_groups creates the standard ones); every edit is audited."""
