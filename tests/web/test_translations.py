"""The committed catalogs (src/selfcare/locale) are complete and compiled.

A string added in English and extracted with makemessages must be translated into Russian and Persian
before it lands, and the committed .mo files must say what the .po files say: a fresh machine uses
the .mo files as they are, without gettext.
"""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from django.conf import settings

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LANGUAGES = ["ru", "fa"]


def load_po(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").open("rb") as po:
        return read_po(po, locale=language)


def load_mo(language: str) -> gettext.GNUTranslations:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        return gettext.GNUTranslations(mo)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    # given the catalog as makemessages left it and a translator filled it
    catalog = load_po(language)

    # then no entry is empty or waiting for review
    untranslated = []
    fuzzy = []
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(forms):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == []
    assert fuzzy == []
    assert len(catalog) > 200


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_the_source(language: str) -> None:
    # given the .po catalog and the committed .mo file
    catalog = load_po(language)
    compiled = load_mo(language)

    # then every translation in the .po is in the .mo, word for word, and nothing else is
    expected: dict[object, str] = {}
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            for index, form in enumerate(message.string):
                key = message.id[0] if not message.context else f"{message.context}\x04{message.id[0]}"
                expected[(key, index)] = form
        else:
            key = message.id if not message.context else f"{message.context}\x04{message.id}"
            expected[key] = message.string
    actual = {key: value for key, value in compiled._catalog.items() if key != ""}  # type: ignore[attr-defined]
    assert actual == expected


@pytest.mark.parametrize(
    ("language", "plural_forms"),
    [
        (
            "ru",
            "nplurals=4; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<12 || n%100>14) ? 1"
            " : n%10==0 || (n%10>=5 && n%10<=9) || (n%100>=11 && n%100<=14)? 2 : 3);",
        ),
        ("fa", "nplurals=2; plural=(n > 1);"),
    ],
)
def test_plural_rules_agree_with_djangos_own_catalogs(language: str, plural_forms: str) -> None:
    # given our compiled catalog
    compiled = load_mo(language)

    # then it declares the same plural rule as Django's catalogs for the language, so that Django
    # merges ours with its own instead of keeping two rules side by side
    assert compiled.info()["plural-forms"] == plural_forms
