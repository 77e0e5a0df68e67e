"""Destination classification: longest prefix over domestic ranges and international zones."""

from __future__ import annotations

import pytest

from selfcare.usage.engine.classify import DestinationClassifier

CLASSIFIER = DestinationClassifier(
    domestic=[("7900", "own_mobile"), ("7916", "other_mobile"), ("7495", "landline"), ("77", "other_mobile")],
    international=[("49", 1), ("44", 1), ("420", 1), ("4202", 2), ("1", 3), ("77", 4)],
)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("79001234567", ("on_net", None)),
        ("79161234567", ("off_net", None)),
        ("74951234567", ("landline", None)),
        ("4930123456", ("international", 1)),
        ("420123456789", ("international", 1)),
        ("420212345678", ("international", 2)),  # the longer prefix wins
        ("12125550100", ("international", 3)),
        ("77011234567", ("off_net", None)),  # equal prefix: the domestic range wins
        ("5551234", None),
        ("7", None),
    ],
)
def test_classify_by_longest_prefix(digits, expected):
    assert CLASSIFIER.classify(digits) == expected


def test_is_own_tells_our_numbers():
    assert CLASSIFIER.is_own("79001234567") is True
    assert CLASSIFIER.is_own("79161234567") is False
    assert CLASSIFIER.is_own("123") is False
