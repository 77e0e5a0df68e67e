"""Phone numbers: parse whatever people type, store E.164, show it the way locals write it.

`8 900 123-45-67`, `+7 (900) 123 45 67` and `9001234567` are one line in region RU: the
phonenumbers library knows each country's trunk prefix and national formats.
"""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number."""


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber:
    text = (raw or "").strip()
    if not text or len(text) > 40:
        raise InvalidPhoneNumber(raw)
    try:
        number = phonenumbers.parse(text, region.upper())
    except NumberParseException as exc:
        raise InvalidPhoneNumber(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw)
    return number


def normalize_msisdn(raw: str, region: str) -> str:
    """The E.164 form (`+79001234567`) of a number typed in any common format; raises InvalidPhoneNumber."""
    return str(phonenumbers.format_number(_parse(raw, region), PhoneNumberFormat.E164))


def is_mobile(e164: str) -> bool:
    number = _parse(e164, "ZZ")
    return phonenumbers.number_type(number) in {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


# A pure function that costs phonenumbers about 0.1 ms: remembered per process, a bounded number of them.
@functools.lru_cache(maxsize=8192)
def format_international(e164: str) -> str:
    """`+79001234567` → `+7 900 123-45-67`."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL))
