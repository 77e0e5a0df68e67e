"""Support in the back office: staff edit the FAQ (audited edits) and answer and close requests
(through the services: audit row, status, and the subscriber's SMS)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from selfcare.backoffice.auditing import AuditedModelAdmin
from selfcare.backoffice.search import NumberSearchMixin
from selfcare.backoffice.widgets import TranslatedFieldsAdminMixin, TranslatedTextField
from selfcare.identity.services import actor_of
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError
from selfcare.support import services
from selfcare.support.models import FaqEntry, RequestStatus, SupportRequest


@admin.register(FaqEntry)
class FaqEntryAdmin(TranslatedFieldsAdminMixin, AuditedModelAdmin):
    translated_fields = ("question", "answer")
    list_display = ("__str__", "sort_order", "is_published", "updated_at")
    list_editable = ("sort_order", "is_published")
    list_filter = ("is_published",)
    fields = ("question", "answer", "sort_order", "is_published")

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name in self.translated_fields:
            return TranslatedTextField(
                textarea=db_field.name == "answer", required=True, label=db_field.verbose_name
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: FaqEntry, form: Any, change: bool) -> None:
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)


class AnswerForm(forms.ModelForm[SupportRequest]):
    class Meta:
        model = SupportRequest
        fields = ("answer",)
        widgets = {"answer": forms.Textarea(attrs={"rows": 8})}

    def clean_answer(self) -> str:
        answer = (self.cleaned_data.get("answer") or "").strip()
        if not answer or len(answer) > services.ANSWER_MAX:
            raise forms.ValidationError(
                _("Write the answer in at most %(limit)s characters."), params={"limit": services.ANSWER_MAX}
            )
        return answer


@admin.register(SupportRequest)
class SupportRequestAdmin(NumberSearchMixin, admin.ModelAdmin[SupportRequest]):
    form = AnswerForm
    list_display = ("created_at", "msisdn", "subject", "status", "answered_at")
    list_filter = ("status",)
    search_fields = ("=msisdn", "=line_msisdn", "subject")
    number_search_fields = ("msisdn", "line_msisdn")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    readonly_fields = (
        "public_id",
        "msisdn",
        "line_msisdn",
        "subject",
        "message",
        "language",
        "status",
        "created_at",
        "answered_at",
        "answered_by",
        "closed_at",
        "closed_by",
    )
    fields = (*readonly_fields, "answer")
    actions = ["close_requests"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a request and its answer are kept: they explain what the operator told whom

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status == RequestStatus.CLOSED:
            return (*self.readonly_fields, "answer")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: SupportRequest, form: Any, change: bool) -> None:
        # The answer goes through the service (status, audit row, SMS); the row is never saved here.
        if "answer" not in form.changed_data:
            return
        try:
            services.answer_request(obj, answer=form.cleaned_data["answer"], actor=actor_of(request.user))
        except BusinessError as exc:
            messages.error(request, exc.render_message())

    @admin.action(description=_("Close the selected requests"), permissions=["change"])
    def close_requests(self, request: HttpRequest, queryset: QuerySet[SupportRequest]) -> None:
        for item in queryset.exclude(status=RequestStatus.CLOSED):
            services.close_request(item, actor=actor_of(request.user))
        self.message_user(request, _("Requests closed."), messages.SUCCESS)
