"""How the cabinet writes amounts, numbers and allowances for people, in the active language.

Money and counts go through Babel (each locale's separators and symbol); phone numbers through
phonenumbers. Templates wrap what these return in <bdi> so it keeps its order in Persian.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

from babel.numbers import format_decimal
from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from selfcare.kit.money import format_money
from selfcare.kit.phone import format_international

MB = 1_048_576
GB = 1024 * MB


def locale() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def short_date(value: date | datetime) -> str:
    """A day as `{{ value|date:"SHORT_DATE_FORMAT" }}` writes it (a moment in the current time zone)."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "SHORT_DATE_FORMAT")


def html_sentence(template: str, **values: str) -> SafeString:
    """A translated sentence whose markup is the translator's, with its values escaped: what
    `{% blocktranslate with ... %}` renders, built in Python where a page would run it in a loop."""
    return mark_safe(template % {key: escape(value) for key, value in values.items()})  # noqa: S308


def isolate(text: str) -> str:
    """A number, amount or phone number to put inside a sentence: in a right-to-left language it is
    wrapped in Unicode's left-to-right isolate (what <bdi dir="ltr"> does in markup), so "+7 916..."
    does not come out as "7+ 916..." in Persian. Left-to-right languages get the text unchanged."""
    if text and translation.get_language_bidi():
        return f"\u2066{text}\u2069"
    return text


def money(amount_minor: int) -> str:
    return format_money(int(amount_minor), settings.SELFCARE_CURRENCY, locale())


def number(value: float | int, *, digits: int = 0) -> str:
    return _decimal(value, digits, locale())


@functools.lru_cache(maxsize=8192)
def _decimal(value: float | int, digits: int, language: str) -> str:
    # Pure, and Babel takes about 0.05 ms: remembered per process (a bounded number of them).
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=language))


def msisdn(e164: str) -> str:
    return format_international(e164) if e164 else ""


def minutes(seconds: int) -> str:
    """Whole minutes, rounded down (what is left is never shown as more than it is)."""
    count = int(seconds) // 60
    return ngettext("%(count)s min", "%(count)s min", count) % {"count": number(count)}


def duration(seconds: int) -> str:
    """A call's length: "3 min", "2 min 30 s", "45 s"."""
    whole, rest = divmod(int(seconds), 60)
    if whole and rest:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": number(whole), "seconds": number(rest)}
    if whole:
        return _("%(minutes)s min") % {"minutes": number(whole)}
    return _("%(seconds)s s") % {"seconds": number(rest)}


def volume(volume_bytes: int) -> str:
    """Data in GB with one decimal from 1 GB up, otherwise in whole MB (rounded down)."""
    value = int(volume_bytes)
    if value >= GB:
        return _("%(amount)s GB") % {"amount": number(value // (GB // 10) / 10, digits=1)}
    return _("%(amount)s MB") % {"amount": number(value // MB)}


def messages(count: int) -> str:
    return ngettext("%(count)s SMS", "%(count)s SMS", int(count)) % {"count": number(int(count))}


def allowance(usage_kind: str, amount: int) -> str:
    """An amount of an allowance or a bucket in its own unit."""
    if usage_kind == "voice":
        return minutes(amount)
    if usage_kind == "data":
        return volume(amount)
    return messages(amount)
