"""Back-office edits are audited like every other write (DESIGN.md §5.2)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms.models import model_to_dict

from selfcare.identity.services import actor_of, record_audit


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list):
            out[key] = [getattr(item, "pk", item) for item in value]
        elif isinstance(value, (str, int, float, bool, dict)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


class AuditedModelAdmin(admin.ModelAdmin[Any]):
    """Writes an audit row with the changed fields before → after for every save and delete."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        changed = list(form.changed_data)
        before: dict[str, Any] | None = None
        if change and obj.pk:
            original = type(obj).objects.filter(pk=obj.pk).first()
            if original is not None:
                before = _jsonable({k: v for k, v in model_to_dict(original).items() if k in changed})
        super().save_model(request, obj, form, change)
        after = _jsonable({k: v for k, v in model_to_dict(obj).items() if k in changed})
        record_audit(
            actor_of(request.user),
            f"backoffice.{obj._meta.model_name}.{'change' if change else 'add'}",
            subject_type=obj._meta.model_name,
            subject_id=obj.pk,
            before=before,
            after=after,
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""),
        )

    def delete_model(self, request: Any, obj: Any) -> None:
        snapshot = _jsonable(model_to_dict(obj))
        pk = obj.pk
        super().delete_model(request, obj)
        record_audit(
            actor_of(request.user),
            f"backoffice.{obj._meta.model_name}.delete",
            subject_type=obj._meta.model_name,
            subject_id=pk,
            before=snapshot,
            ip=request.META.get("REMOTE_ADDR"),
        )

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
