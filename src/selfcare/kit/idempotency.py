"""Idempotency keys: every externally triggered write carries one (DESIGN.md §5.3).

A key names one intended operation. Repeating the key repeats nothing and returns the first result;
repeating the key with *different* content is a client bug and is refused (IdempotencyConflict), so a
reused key can never silently apply another amount.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import Any

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-/]{0,199}$")


class InvalidIdempotencyKey(ValueError):
    pass


def new_key(prefix: str = "") -> str:
    return f"{prefix}{secrets.token_urlsafe(24)}"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidIdempotencyKey(key)
    return key


def fingerprint(content: Any) -> str:
    """A stable hash of an operation's content (dict/list of JSON-able values) to detect key reuse."""
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()
