"""Money is an integer of minor units in one currency (DESIGN.md §5.1); this module formats and parses.

No float ever touches an amount. Parsing accepts what people type ("100", "100.5", "1 000,50") and
refuses more decimals than the currency has, rather than rounding someone's money silently.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision


class InvalidAmount(ValueError):
    """The text is not an amount of this currency."""


def minor_digits(currency: str) -> int:
    return int(get_currency_precision(currency))


def to_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


# A pure function of its arguments that Babel takes about 0.1 ms to compute, and a page shows a dozen
# amounts (many of them the same fees): remembered per process, a bounded number of them.
@functools.lru_cache(maxsize=8192)
def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """`12345, "RUB", "ru"` → "123,45 ₽"; Babel knows each locale's symbol, separators and digits."""
    return str(format_currency(to_major(amount_minor, currency), currency, locale=locale))


_SPACES = re.compile(r"[\s\u00a0\u202f'_]")


def parse_money(text: str, currency: str) -> int:
    """Parse a user-typed amount into minor units; raises InvalidAmount."""
    cleaned = _SPACES.sub("", text.strip())
    # Accept either decimal separator; a text with both ("1.000,50") is ambiguous and refused.
    if "," in cleaned and "." in cleaned:
        raise InvalidAmount(text)
    cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        raise InvalidAmount(text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guarantees a number
        raise InvalidAmount(text) from exc
    digits = minor_digits(currency)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > digits:
        raise InvalidAmount(text)
    return int(value.scaleb(digits))
