"""Keyed hashes and HMAC signatures, separated by purpose so one key never signs two kinds of thing."""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under a key derived for `purpose` (hex). For OTPs, PUK lookups, tokens."""
    purpose_key = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(purpose_key, value.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify(secret: str, payload: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, payload), signature)
