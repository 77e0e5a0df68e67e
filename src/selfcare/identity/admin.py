from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext

from selfcare.identity.models import ApiKey, User
from selfcare.identity.services import actor_of, create_api_key


@admin.register(User)
class SelfcareUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "first_name", "last_name", "is_staff", "is_active", "last_login")
    fieldsets = (*(UserAdmin.fieldsets or ()), (None, {"fields": ("language",)}))


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ("name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "scopes")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        # Keys are made by the service (hash only, audit row); the full key is shown to staff once.
        key, full = create_api_key(name=obj.name, scopes=list(obj.scopes or []), actor=actor_of(request.user))
        obj.pk = key.pk
        messages.warning(request, gettext("API key (shown only now, copy it): %(key)s") % {"key": full})
