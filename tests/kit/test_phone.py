"""Phone numbers: whatever people type becomes one E.164 number; nonsense is refused."""

from __future__ import annotations

import pytest

from selfcare.kit.phone import InvalidPhoneNumber, format_international, is_mobile, normalize_msisdn


@pytest.mark.parametrize(
    "typed",
    ["8 900 123-45-67", "+7 (900) 123 45 67", "9001234567", "89001234567", "+79001234567", " 7 900 1234567"],
)
def test_common_russian_forms_are_the_same_line(typed):
    # Given the ways a Russian subscriber writes their number, when normalised in region RU,
    # then they are all the same E.164 number
    assert normalize_msisdn(typed, "RU") == "+79001234567"


def test_region_is_case_insensitive_and_international_numbers_keep_their_country():
    # Given an Iranian number typed with its country code in region ru (lower case)
    # When normalised, then it stays Iranian
    assert normalize_msisdn("+98 912 345 6789", "ru") == "+989123456789"
    # and a national Iranian form is understood in region IR
    assert normalize_msisdn("0912 345 6789", "IR") == "+989123456789"


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "hello", "12345", "+7 900 123", "8 900 123-45-67-89-00", "+0 000 000 0000", "1" * 41],
)
def test_invalid_inputs_are_refused(typed):
    # Given text that is not a valid number, when normalised, then it is refused
    with pytest.raises(InvalidPhoneNumber):
        normalize_msisdn(typed, "RU")


def test_none_is_refused():
    # Given no text at all (a missing form field), when normalised, then it is refused, not crashed on
    with pytest.raises(InvalidPhoneNumber):
        normalize_msisdn(None, "RU")  # type: ignore[arg-type]


def test_mobile_and_landline_are_told_apart():
    # Given a Russian mobile and a Moscow landline, when asked, then only the first is mobile
    assert is_mobile("+79001234567") is True
    assert is_mobile("+74951234567") is False


def test_format_international_shows_the_national_grouping():
    # Given an E.164 number, when formatted, then it reads the way people write it
    assert format_international("+79001234567") == "+7 900 123-45-67"
    # and text that is not a number is shown as it is
    assert format_international("not a number") == "not a number"
