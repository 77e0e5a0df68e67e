"""Translatable data (catalog names, descriptions): a dict of language code → text.

The active language wins, then the operator's default language, then English, then any text at all,
so a half-translated catalog still shows something sensible.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.utils import translation


def pick_translation(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    if not texts:
        return ""
    wanted = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    for code in (wanted, settings.LANGUAGE_CODE, "en"):
        text = texts.get(code)
        if text:
            return text
    return next((text for text in texts.values() if text), "")
