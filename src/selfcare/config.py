"""Reading the process environment into typed settings values.

Kept apart from settings.py so that the parsing rules (what counts as true, how a database URL maps to
Django's DATABASES entry) are testable on their own.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


SQLITE_INIT_COMMAND = ";".join(
    [
        # WAL lets readers go on while one writer writes; NORMAL sync is durable across process crashes
        # in WAL mode (a power cut may lose the last commits, never corrupt).
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA temp_store=MEMORY",
        "PRAGMA cache_size=-65536",
    ]
)


def database_from_url(url: str, *, data_dir: Path) -> dict[str, Any]:
    """Map `SELFCARE_DATABASE_URL` to a Django DATABASES entry.

    Supported: ``sqlite:///relative/or/absolute/path.sqlite3`` (``sqlite:////abs`` too) and
    ``postgres://user:password@host:port/name?sslmode=require`` (``postgresql://`` accepted).
    """
    if not url:
        url = f"sqlite:///{data_dir / 'selfcare.sqlite3'}"
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # SQLAlchemy's convention: sqlite:///relative/path and sqlite:////absolute/path.
        path = unquote(parsed.path)
        name = path[1:] if path.startswith("/") else path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {
                # Every write transaction takes the write lock at BEGIN, so two writers never deadlock
                # on a read-then-write upgrade; the busy timeout makes the second one wait, not fail.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": SQLITE_INIT_COMMAND,
            },
            "TEST": {"NAME": str(data_dir / "test.sqlite3")},
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        options: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "selfcare",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"SELFCARE_DATABASE_URL scheme {parsed.scheme!r} is not supported")


def email_from_url(url: str) -> dict[str, Any]:
    """Django's e-mail settings from `smtp://user:password@host:port?tls=1` (or `ssl=1`, `timeout=10`);
    an empty URL prints messages to the console, `console:` and `locmem:` name those backends."""
    if not url or url in ("console:", "console://"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if url in ("locmem:", "locmem://"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured(f"SELFCARE_EMAIL_URL: unsupported scheme {parsed.scheme!r} (use smtp://)")
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    ssl = parsed.scheme == "smtps" or options.get("ssl", "").lower() in TRUE_WORDS
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if ssl else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_TLS": options.get("tls", "").lower() in TRUE_WORDS,
        "EMAIL_USE_SSL": ssl,
        "EMAIL_TIMEOUT": int(options.get("timeout", "10")),
    }


def secret_key(*, data_dir: Path, generated_allowed: bool) -> str:
    """The configured secret key; in demo and debug mode a generated one kept in the data dir."""
    configured = os.environ.get("SELFCARE_SECRET_KEY", "")
    if configured:
        if len(configured) < 32:
            raise ImproperlyConfigured("SELFCARE_SECRET_KEY must be at least 32 characters long")
        return configured
    if not generated_allowed:
        raise ImproperlyConfigured(
            "SELFCARE_SECRET_KEY is required outside demo and debug mode "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: when two processes start at once, one writes and the other reads what it wrote.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
