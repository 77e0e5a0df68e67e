"""Translated catalog texts: the active language, then the operator's, then English, then any text."""

from __future__ import annotations

import pytest
from django.utils import translation

from selfcare.kit.i18n import pick_translation

TEXTS = {"en": "Unlimited", "ru": "Безлимит", "fa": "نامحدود"}


@pytest.mark.parametrize(("language", "text"), [("en", "Unlimited"), ("ru", "Безлимит"), ("fa", "نامحدود")])
def test_the_active_language_wins(language, text):
    # Given texts in three languages, when a language is active, then its text is picked
    with translation.override(language):
        assert pick_translation(TEXTS) == text


def test_an_explicit_language_wins_over_the_active_one_and_regional_variants_use_the_base_language():
    # Given Russian active, when Persian is asked for explicitly, then Persian is picked
    with translation.override("ru"):
        assert pick_translation(TEXTS, "fa") == "نامحدود"
    # and a regional variant falls back to its language
    assert pick_translation(TEXTS, "ru-RU") == "Безлимит"


def test_missing_language_falls_back_to_the_operator_language(settings):
    # Given an operator whose language is Russian and a text without Persian
    settings.LANGUAGE_CODE = "ru"
    # When Persian is active, then the Russian text is shown
    with translation.override("fa"):
        assert pick_translation({"en": "Unlimited", "ru": "Безлимит"}) == "Безлимит"


def test_missing_language_falls_back_to_english_then_to_any_text():
    # Given texts lacking the active language (and the operator's, English by default here)
    with translation.override("fa"):
        # Then English is used when present
        assert pick_translation({"ru": "Безлимит", "en": "Unlimited"}) == "Unlimited"
        # and otherwise any non-empty text at all
        assert pick_translation({"ru": "", "de": "Unbegrenzt"}) == "Unbegrenzt"


def test_empty_texts_give_an_empty_string():
    # Given nothing translated, when picked, then the result is an empty string, not an error
    assert pick_translation({}) == ""
    assert pick_translation(None) == ""
    assert pick_translation({"en": ""}) == ""
