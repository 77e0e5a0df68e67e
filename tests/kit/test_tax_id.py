"""Tax ids: the Russian INN checksum, and a shape check elsewhere."""

from __future__ import annotations

import pytest

from selfcare.kit.tax_id import InvalidTaxId, is_valid_inn, normalize_tax_id


@pytest.mark.parametrize("inn", ["7707083893", "7728168971", "500100732259"])
def test_valid_inns_pass(inn):
    assert is_valid_inn(inn) is True


@pytest.mark.parametrize(
    "inn",
    [
        "7707083894",  # last digit off
        "500100732258",  # second check digit off
        "500100732269",  # first check digit off
        "0000000000",  # all zeros satisfy the checksum but are no INN
        "770708389",  # 9 digits
        "77070838931",  # 11 digits
        "77070838\uff193",  # a full-width digit
        "",
    ],
)
def test_invalid_inns_fail(inn):
    assert is_valid_inn(inn) is False


def test_an_inn_is_stored_without_spaces_and_dashes():
    assert normalize_tax_id(" 7707-083 893 ", "ru") == "7707083893"


def test_a_wrong_inn_is_refused_in_russia():
    with pytest.raises(InvalidTaxId):
        normalize_tax_id("7707083894", "RU")


def test_elsewhere_only_the_shape_is_checked():
    assert normalize_tax_id("de 123.456.789", "DE") == "DE123456789"
    assert normalize_tax_id("7707083894", "DE") == "7707083894"
    for bad in ("12", "ABCDEFGH", "1234#5678", "1" * 21):
        with pytest.raises(InvalidTaxId):
            normalize_tax_id(bad, "DE")
