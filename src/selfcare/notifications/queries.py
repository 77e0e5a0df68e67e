"""Reads of the notifications domain for other domains' pages and API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from selfcare.notifications.models import SmsKind, SmsPreference


def list_sms_kinds() -> list[tuple[str, Any]]:
    """(value, translatable label) of the SMS kinds a subscriber may switch off."""
    return list(SmsKind.choices)


@dataclass(frozen=True)
class SmsSettings:
    language: str
    # The optional kinds (SmsKind values) that are switched on.
    enabled_kinds: frozenset[str]


def get_sms_settings(msisdn: str) -> SmsSettings:
    """The subscriber's SMS language ("" = none chosen) and the optional kinds still on."""
    preference = SmsPreference.objects.filter(msisdn=msisdn).first()
    if preference is None:
        return SmsSettings(language="", enabled_kinds=frozenset(SmsKind.values))
    return SmsSettings(
        language=preference.language,
        enabled_kinds=frozenset(SmsKind.values) - set(preference.muted_kinds),
    )
