"""Money: integer minor units in, localised text out; typed text in, exact minor units out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfcare.kit.money import InvalidAmount, format_money, minor_digits, parse_money, to_major


@pytest.mark.parametrize(("currency", "digits"), [("RUB", 2), ("USD", 2), ("JPY", 0), ("IRR", 0), ("KWD", 3)])
def test_minor_digits_come_from_the_currency(currency, digits):
    # Given a currency, when its minor digits are asked, then Babel's ISO 4217 data answers
    assert minor_digits(currency) == digits


def test_to_major_is_exact_decimal():
    # Given minor units, when converted to major units, then no float rounding creeps in
    assert to_major(12_345, "RUB") == Decimal("123.45")
    assert to_major(-1, "RUB") == Decimal("-0.01")
    assert to_major(500, "JPY") == Decimal("500")
    assert to_major(1_234, "KWD") == Decimal("1.234")


@pytest.mark.parametrize(
    ("amount_minor", "currency", "locale", "text"),
    [
        (12_345, "RUB", "ru", "123,45\u00a0₽"),
        (-100_050, "RUB", "ru", "-1\u00a0000,50\u00a0₽"),
        (12_345, "RUB", "en", "RUB123.45"),
        (-100_050, "RUB", "en", "-RUB1,000.50"),
        (12_345, "RUB", "fa", "\u200eRUB\u00a0123.45"),
        (500, "JPY", "en", "¥500"),
        (0, "RUB", "ru", "0,00\u00a0₽"),
    ],
)
def test_format_money_follows_the_language(amount_minor, currency, locale, text):
    # Given an amount in minor units, when formatted for a language, then separators and symbol follow it
    assert format_money(amount_minor, currency, locale) == text


@pytest.mark.parametrize(
    ("text", "currency", "amount_minor"),
    [
        ("100", "RUB", 10_000),
        ("100.5", "RUB", 10_050),
        ("100,50", "RUB", 10_050),
        ("1 000,50", "RUB", 100_050),
        ("1\u00a0000.50", "RUB", 100_050),
        ("  7 ", "RUB", 700),
        ("0.01", "RUB", 1),
        ("-12.34", "RUB", -1_234),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1_234),
    ],
)
def test_parse_money_accepts_what_people_type(text, currency, amount_minor):
    # Given what a person typed, when parsed, then the exact minor units come out
    assert parse_money(text, currency) == amount_minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("", "RUB"),
        ("abc", "RUB"),
        ("1.000,50", "RUB"),  # both separators: ambiguous
        ("10.001", "RUB"),  # more decimals than the currency has: never rounded silently
        ("5.5", "JPY"),
        ("1e3", "RUB"),
        ("1..0", "RUB"),
        ("+-1", "RUB"),
        ("NaN", "RUB"),
        ("12.", "RUB"),
    ],
)
def test_parse_money_refuses_what_is_not_an_amount(text, currency):
    # Given text that is not an amount of the currency, when parsed, then it is refused
    with pytest.raises(InvalidAmount):
        parse_money(text, currency)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_parsing_the_major_amount_gives_back_the_minor_units(amount_minor):
    # Given any amount, when its major-unit text is parsed back, then the same minor units return
    assert parse_money(str(to_major(amount_minor, "RUB")), "RUB") == amount_minor
