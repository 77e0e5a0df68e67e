"""Idempotency keys: a safe character set, fresh keys that do not collide, stable content fingerprints."""

from __future__ import annotations

import pytest

from selfcare.kit.idempotency import InvalidIdempotencyKey, check_key, fingerprint, new_key


@pytest.mark.parametrize(
    "key",
    ["a", "payment:42", "fee/2026-03/line.17", "A-b_c.d:e/f", "9" * 200, "7f3e2d1c-uuid-like"],
)
def test_well_formed_keys_pass(key):
    # Given a key from the allowed alphabet, when checked, then it is returned as it is
    assert check_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", " ", "with space", "-leading-dash", ":leading", "x" * 201, "ключ", "a\nb", "a;b", None, 42],
)
def test_malformed_keys_are_refused(key):
    # Given a key that is empty, too long or has other characters, when checked, then it is refused
    with pytest.raises(InvalidIdempotencyKey):
        check_key(key)


def test_new_keys_are_unique_and_well_formed():
    # Given many freshly generated keys with a prefix
    keys = {new_key("topup:") for _ in range(1_000)}

    # Then none repeats, each carries the prefix and passes the check
    assert len(keys) == 1_000
    assert all(key.startswith("topup:") and check_key(key) == key for key in keys)


def test_fingerprint_ignores_dict_order_but_not_values():
    # Given the same content written in another key order, and content with another amount
    first = fingerprint({"amount": 100, "account": "a", "legs": [[1, -100], [2, 100]]})
    same = fingerprint({"legs": [[1, -100], [2, 100]], "account": "a", "amount": 100})
    other = fingerprint({"amount": 101, "account": "a", "legs": [[1, -100], [2, 100]]})

    # Then the order does not matter, the value does, and the hash is a SHA-256 hex digest
    assert first == same
    assert first != other
    assert len(first) == 64
    assert int(first, 16) >= 0


def test_fingerprint_is_stable_across_runs():
    # Given a fixed content, when fingerprinted, then the value is the SHA-256 of its compact sorted JSON
    # (`{"a":[1,2],"b":1}`), so fingerprints stored today still match after a restart or an upgrade
    assert fingerprint({"b": 1, "a": [1, 2]}) == (
        "94a786c3662bc7beeb598efa7d8cb58d7bea25d6c275ea9785a0230ff1f8c2ba"
    )
