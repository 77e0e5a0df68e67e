from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from selfcare.backoffice.search import NumberSearchMixin
from selfcare.notifications.models import OutboundSms


@admin.register(OutboundSms)
class OutboundSmsAdmin(NumberSearchMixin, admin.ModelAdmin[OutboundSms]):
    """Delivery records for support ("did the code go out?"); written only by the notifications services.

    The text is never shown: while a message is queued it may still hold a one-time code.
    """

    list_display = ("created_at", "msisdn", "template", "language", "status", "attempts", "sent_at")
    fields = (
        "msisdn",
        "template",
        "language",
        "status",
        "attempts",
        "last_error",
        "provider_message_id",
        "created_at",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
    )
    list_filter = ("status", "template", "language")
    search_fields = ("msisdn", "provider_message_id")
    number_search_fields = ("msisdn",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
