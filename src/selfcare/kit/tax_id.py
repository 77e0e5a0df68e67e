"""Tax identification numbers of companies: normalise what people type and check it.

Where the operator's country defines a checksum it is checked: Russia's INN (10 digits for an
organisation, 12 for an individual entrepreneur). Elsewhere only the shape is checked (letters,
digits and the usual separators, 4 to 20 characters), since a wrong guess at a foreign rule would
refuse real companies.
"""

from __future__ import annotations

import re


class InvalidTaxId(ValueError):
    """The text is not a tax id of the operator's country."""


_INN_10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_SEPARATORS = re.compile(r"[\s\u00a0\-./]")
_GENERIC = re.compile(r"[A-Z0-9]{4,20}")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def is_valid_inn(inn: str) -> bool:
    """True for a Russian INN whose check digits are right (10 or 12 digits, not all zeros)."""
    if not inn.isascii() or not inn.isdigit() or set(inn) == {"0"}:
        return False
    if len(inn) == 10:
        return _check_digit(inn[:9], _INN_10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return _check_digit(inn[:10], _INN_11_WEIGHTS) == int(inn[10]) and _check_digit(
            inn[:11], _INN_12_WEIGHTS
        ) == int(inn[11])
    return False


def normalize_tax_id(raw: str, country: str) -> str:
    """The stored form of a tax id typed in `country` (ISO 3166 alpha-2); raises InvalidTaxId."""
    cleaned = _SEPARATORS.sub("", (raw or "").strip()).upper()
    if country.upper() == "RU":
        if not is_valid_inn(cleaned):
            raise InvalidTaxId(raw)
        return cleaned
    if not _GENERIC.fullmatch(cleaned) or not any(ch.isdigit() for ch in cleaned):
        raise InvalidTaxId(raw)
    return cleaned
