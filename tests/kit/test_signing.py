"""Keyed hashes and signatures: separated by purpose and by key, verified in constant time."""

from __future__ import annotations

import hashlib
import hmac

from selfcare.kit.signing import keyed_hash, sign, verify

SECRET = "s3cret-key-for-tests-only-0123456789"


def test_keyed_hash_is_hmac_sha256_under_a_purpose_key():
    # Given a secret, a purpose and a value
    # When hashed, then it is HMAC(HMAC(secret, purpose), value) in hex
    purpose_key = hmac.new(SECRET.encode(), b"puk", hashlib.sha256).digest()
    expected = hmac.new(purpose_key, b"12345678", hashlib.sha256).hexdigest()
    assert keyed_hash(SECRET, "puk", "12345678") == expected
    assert len(expected) == 64


def test_keyed_hash_differs_by_purpose_by_secret_and_by_value():
    # Given one value hashed for two purposes, under two secrets, and a neighbouring value
    base = keyed_hash(SECRET, "puk", "12345678")

    # Then every change gives another hash, and the same inputs give the same hash
    assert keyed_hash(SECRET, "otp", "12345678") != base
    assert keyed_hash(SECRET + "x", "puk", "12345678") != base
    assert keyed_hash(SECRET, "puk", "12345679") != base
    assert keyed_hash(SECRET, "puk", "12345678") == base


def test_signature_verifies_only_the_signed_payload_under_the_same_secret():
    # Given a signed webhook payload
    payload = b'{"event":"payment.succeeded","amount_minor":10000}'
    signature = sign(SECRET, payload)

    # Then it verifies, and a changed payload, another secret or a changed signature do not
    assert verify(SECRET, payload, signature) is True
    assert verify(SECRET, payload + b" ", signature) is False
    assert verify("another-secret-key-0123456789abcdef", payload, signature) is False
    assert verify(SECRET, payload, signature[:-1] + ("0" if signature[-1] != "0" else "1")) is False
    assert verify(SECRET, payload, "") is False
