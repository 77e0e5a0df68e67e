from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_lazy

from selfcare.backoffice.auditing import AuditedModelAdmin, has_model_permission
from selfcare.backoffice.search import NumberSearchMixin
from selfcare.identity.models import ApiKey, Device, OneTimeCode, RefreshToken, User, UserSession
from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.services import (
    actor_of,
    create_api_key,
    end_web_session,
    record_audit,
    revoke_api_key,
    revoke_token_families,
)


@admin.register(User)
class SelfcareUserAdmin(NumberSearchMixin, AuditedModelAdmin, UserAdmin):  # type: ignore[type-arg]
    """Users, staff included: every edit (groups, permissions, staff flag) and password set is audited."""

    list_display = ("username", "msisdn", "first_name", "last_name", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "msisdn", "first_name", "last_name", "email")
    number_search_fields = ("msisdn",)
    fieldsets = (*(UserAdmin.fieldsets or ()), (None, {"fields": ("msisdn", "language")}))

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            record_audit(
                actor_of(request.user),
                "backoffice.user.password",
                subject_type="user",
                subject_id=id,
                ip=request.META.get("REMOTE_ADDR"),
                user_agent=request.headers.get("User-Agent", ""),
            )
        return response


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "scopes")
    actions = ["revoke_keys"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A key is revoked (kept, audited), never deleted: its requests stay explainable.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, ApiKey, "delete")

    @admin.action(description=gettext_lazy("Revoke selected API keys"), permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: Any) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            revoke_api_key(key, actor=actor_of(request.user))

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        # Keys are made by the service (hash only, audit row); the full key is shown to staff once.
        key, full = create_api_key(name=obj.name, scopes=list(obj.scopes or []), actor=actor_of(request.user))
        obj.pk = key.pk
        messages.warning(request, gettext("API key (shown only now, copy it): %(key)s") % {"key": full})


def _client(request: HttpRequest) -> ServiceClient:
    return ServiceClient(ip=request.META.get("REMOTE_ADDR"), user_agent=request.headers.get("User-Agent", ""))


class _ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Rows written only by the identity services; staff look, and act through the listed actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(_ReadOnlyAdmin):
    # No hash column, ever: with the hash key a 6-digit code falls to a million tries.
    list_display = ("msisdn", "purpose", "created_at", "expires_at", "attempts", "used_at", "superseded_at")
    fields = list_display
    list_filter = ("purpose",)
    search_fields = ("msisdn",)
    date_hierarchy = "created_at"


@admin.register(Device)
class DeviceAdmin(_ReadOnlyAdmin):
    list_display = ("user", "user_agent", "first_seen_at", "last_seen_at", "last_ip")
    fields = list_display
    search_fields = ("user__username", "user__msisdn")
    list_select_related = ("user",)


@admin.register(UserSession)
class UserSessionAdmin(_ReadOnlyAdmin):
    list_display = ("user", "created_at", "last_activity_at", "ip", "user_agent", "ended_at", "end_reason")
    fields = list_display
    list_filter = ("end_reason",)
    search_fields = ("user__username", "user__msisdn", "ip")
    list_select_related = ("user",)
    actions = ["end_sessions"]

    def has_end_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, UserSession, "change")

    @admin.action(description=gettext_lazy("End the selected sessions"), permissions=["end"])
    def end_sessions(self, request: HttpRequest, queryset: Any) -> None:
        for session in queryset.filter(ended_at__isnull=True).select_related("user"):
            end_web_session(
                session.user,
                session.pk,
                actor=actor_of(request.user),
                client=_client(request),
                reason="ended_by_staff",
            )


@admin.register(RefreshToken)
class RefreshTokenAdmin(_ReadOnlyAdmin):
    list_display = ("user", "family", "created_at", "expires_at", "used_at", "revoked_at", "ip")
    fields = list_display
    search_fields = ("user__username", "user__msisdn")
    list_select_related = ("user",)
    actions = ["revoke_families"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, RefreshToken, "change")

    @admin.action(
        description=gettext_lazy("Revoke the sign-ins of the selected tokens"), permissions=["revoke"]
    )
    def revoke_families(self, request: HttpRequest, queryset: Any) -> None:
        revoke_token_families(
            queryset, actor=actor_of(request.user), client=_client(request), reason="revoked_by_staff"
        )
