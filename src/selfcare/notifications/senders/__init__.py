"""SMS gateways (DESIGN.md §5.4): each one a small class with `send(msisdn, text) -> SendResult`.

The one in use is named by the dotted path in `SELFCARE_SMS_BACKEND`; provider SDKs (smpplib) are
imported only in this package.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from selfcare.notifications.senders.base import SendResult, SmsSender, SmsSendError

__all__ = ["SendResult", "SmsSendError", "SmsSender", "get_sender"]


def get_sender() -> SmsSender:
    """A sender built from the current settings (cheap; senders hold no connection between sends)."""
    sender_class = import_string(settings.SELFCARE_SMS_BACKEND)
    sender: SmsSender = sender_class()
    return sender
