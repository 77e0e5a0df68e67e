"""Back-office edits are audited like every other write (DESIGN.md §5.2).

`AuditedModelAdmin` writes one audit row per save (fields before -> after, many-to-many included, and
what its inlines added, changed and deleted) and per delete. Admin actions run services, which audit.
`has_model_permission` lets an admin that is read-only for everybody (its rows change only through
services) still offer an action to the staff holding the model's change permission.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms.models import model_to_dict
from django.http import HttpRequest

from selfcare.identity.services import actor_of, record_audit

# Never copied into an audit row, whatever the model: hashes and secrets.
_SECRET_FIELDS = {"password", "puk_hash", "key_hash", "token", "code_hash"}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in _SECRET_FIELDS:
            continue
        if isinstance(value, list):
            out[key] = [getattr(item, "pk", item) for item in value]
        elif isinstance(value, (str, int, float, bool, dict)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


def has_model_permission(request: HttpRequest, model: Any, action: str) -> bool:
    opts = model._meta
    return bool(request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"))


def _inline_changes(formsets: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for formset in formsets or ():
        added = [obj.pk for obj in getattr(formset, "new_objects", [])]
        changed = {str(obj.pk): list(fields) for obj, fields in getattr(formset, "changed_objects", [])}
        deleted = [str(obj) for obj in getattr(formset, "deleted_objects", [])]
        if added or changed or deleted:
            changes[formset.model._meta.model_name] = {"added": added, "changed": changed, "deleted": deleted}
    return changes


class AuditedModelAdmin(admin.ModelAdmin[Any]):
    """Writes an audit row with the changed fields before → after for every save and delete."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        changed = list(form.changed_data)
        before: dict[str, Any] | None = None
        if change and obj.pk:
            original = type(obj).objects.filter(pk=obj.pk).first()
            if original is not None:
                before = _jsonable({k: v for k, v in model_to_dict(original).items() if k in changed})
        form._audit_pending = (change, before)
        super().save_model(request, obj, form, change)

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        # After the many-to-many fields and the inlines are saved: the row says what they became.
        super().save_related(request, form, formsets, change)
        pending = getattr(form, "_audit_pending", None)
        if pending is None:
            return
        form._audit_pending = None
        change, before = pending
        obj = form.instance
        changed = list(form.changed_data)
        after = _jsonable({k: v for k, v in model_to_dict(obj).items() if k in changed})
        inlines = _inline_changes(formsets)
        if inlines:
            after["inlines"] = inlines
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
