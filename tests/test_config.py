"""Reading the environment: database URLs, booleans, integers, lists and the secret key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from selfcare.config import (
    SQLITE_INIT_COMMAND,
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    secret_key,
)

DATA_DIR = Path("/srv/selfcare/data")


def test_empty_url_means_the_sqlite_file_in_the_data_dir():
    # Given no database URL, when mapped, then the embedded SQLite file in the data dir is used
    db = database_from_url("", data_dir=DATA_DIR)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == "/srv/selfcare/data/selfcare.sqlite3"
    assert db["TEST"] == {"NAME": "/srv/selfcare/data/test.sqlite3"}


def test_sqlite_url_with_a_relative_path():
    # Given sqlite:/// with three slashes, when mapped, then the path is relative
    db = database_from_url("sqlite:///var/db.sqlite3", data_dir=DATA_DIR)
    assert db["NAME"] == "var/db.sqlite3"


def test_sqlite_url_with_an_absolute_path_and_the_safe_options():
    # Given sqlite://// with four slashes, when mapped, then the path is absolute
    db = database_from_url("sqlite:////srv/selfcare/my%20data/demo.sqlite3", data_dir=DATA_DIR)
    assert db["NAME"] == "/srv/selfcare/my data/demo.sqlite3"
    # and writers take the lock at BEGIN, wait for each other, and run in WAL mode
    assert db["OPTIONS"] == {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": SQLITE_INIT_COMMAND,
    }
    assert "PRAGMA journal_mode=WAL" in SQLITE_INIT_COMMAND
    assert "PRAGMA foreign_keys=ON" in SQLITE_INIT_COMMAND


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_url_maps_every_part(scheme):
    # Given a full PostgreSQL URL with an escaped password and an sslmode
    url = f"{scheme}://app%40ops:p%2Fss@db.internal:6432/selfcare_prod?sslmode=require&connect_timeout=5"

    # When mapped
    db = database_from_url(url, data_dir=DATA_DIR)

    # Then each part lands in Django's entry, unescaped, with persistent healthy connections
    assert db == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "selfcare_prod",
        "USER": "app@ops",
        "PASSWORD": "p/ss",
        "HOST": "db.internal",
        "PORT": "6432",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"sslmode": "require", "connect_timeout": "5"},
    }


def test_minimal_postgres_url_gets_defaults():
    # Given a URL with only the host, when mapped, then the database is "selfcare" and the rest empty
    db = database_from_url("postgres://127.0.0.1", data_dir=DATA_DIR)
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["OPTIONS"]) == (
        "selfcare",
        "",
        "",
        "127.0.0.1",
        "",
        {},
    )


@pytest.mark.parametrize("url", ["mysql://root@localhost/selfcare", "redis://localhost", "selfcare.sqlite3"])
def test_unsupported_database_urls_are_refused(url):
    # Given a URL of an engine selfcare does not support, when mapped, then configuration fails loudly
    with pytest.raises(ImproperlyConfigured):
        database_from_url(url, data_dir=DATA_DIR)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", True),
        ("true", True),
        (" Yes ", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_the_usual_words(monkeypatch, raw, value):
    # Given a boolean variable spelled one of the usual ways, when read, then its value comes out
    monkeypatch.setenv("SELFCARE_TEST_FLAG", raw)
    assert env_bool("SELFCARE_TEST_FLAG") is value


def test_env_bool_uses_the_default_when_unset_and_refuses_other_words(monkeypatch):
    # Given an unset variable, when read, then the default is used
    monkeypatch.delenv("SELFCARE_TEST_FLAG", raising=False)
    assert env_bool("SELFCARE_TEST_FLAG") is False
    assert env_bool("SELFCARE_TEST_FLAG", default=True) is True
    # and a word that is not a boolean is refused rather than guessed
    monkeypatch.setenv("SELFCARE_TEST_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SELFCARE_TEST_FLAG"):
        env_bool("SELFCARE_TEST_FLAG")


def test_env_int_str_and_list(monkeypatch):
    # Given variables set and unset
    monkeypatch.setenv("SELFCARE_TEST_INT", "42")
    monkeypatch.setenv("SELFCARE_TEST_LIST", " en, ru ,,fa ")
    monkeypatch.setenv("SELFCARE_TEST_STR", "Selfcare")
    monkeypatch.delenv("SELFCARE_TEST_UNSET", raising=False)

    # Then each is read with its type, and defaults fill the unset ones
    assert env_int("SELFCARE_TEST_INT", 7) == 42
    assert env_int("SELFCARE_TEST_UNSET", 7) == 7
    assert env_list("SELFCARE_TEST_LIST", []) == ["en", "ru", "fa"]
    assert env_list("SELFCARE_TEST_UNSET", ["en"]) == ["en"]
    assert env_str("SELFCARE_TEST_STR") == "Selfcare"
    assert env_str("SELFCARE_TEST_UNSET", "x") == "x"
    # and a blank integer means the default while a non-number is refused
    monkeypatch.setenv("SELFCARE_TEST_INT", " ")
    assert env_int("SELFCARE_TEST_INT", 7) == 7
    monkeypatch.setenv("SELFCARE_TEST_INT", "forty-two")
    with pytest.raises(ImproperlyConfigured):
        env_int("SELFCARE_TEST_INT", 7)


def test_configured_secret_key_is_used_when_long_enough(monkeypatch, tmp_path):
    # Given a configured key of 40 characters, when read, then it is used as it is, nothing is written
    monkeypatch.setenv("SELFCARE_SECRET_KEY", "k" * 40)
    assert secret_key(data_dir=tmp_path, generated_allowed=False) == "k" * 40
    assert list(tmp_path.iterdir()) == []


def test_short_secret_key_is_refused(monkeypatch, tmp_path):
    # Given a configured key that is too short, when read, then configuration fails
    monkeypatch.setenv("SELFCARE_SECRET_KEY", "short")
    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        secret_key(data_dir=tmp_path, generated_allowed=True)


def test_secret_key_is_required_outside_demo(monkeypatch, tmp_path):
    # Given no configured key in production mode, when read, then configuration fails and nothing is written
    monkeypatch.delenv("SELFCARE_SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="required"):
        secret_key(data_dir=tmp_path, generated_allowed=False)
    assert list(tmp_path.iterdir()) == []


def test_demo_generates_a_secret_key_once_and_keeps_it(monkeypatch, tmp_path):
    # Given no configured key in demo mode and an empty data dir
    monkeypatch.delenv("SELFCARE_SECRET_KEY", raising=False)
    data_dir = tmp_path / "var"

    # When the key is read twice (two starts of the demo)
    first = secret_key(data_dir=data_dir, generated_allowed=True)
    second = secret_key(data_dir=data_dir, generated_allowed=True)

    # Then one long random key is generated, kept in the data dir readable only by its owner, and reused
    assert len(first) >= 50
    assert second == first
    key_file = data_dir / "secret_key"
    assert key_file.read_text() == first
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    # and another data dir gets another key
    assert secret_key(data_dir=tmp_path / "other", generated_allowed=True) != first


def test_email_url_defaults_to_the_console_and_reads_smtp():
    assert email_from_url("") == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    assert email_from_url("locmem:") == {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    assert email_from_url("smtp://mailer:p%40ss@mail.example.com:587?tls=1&timeout=5") == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 5,
    }
    smtps = email_from_url("smtps://mail.example.com")
    assert (smtps["EMAIL_PORT"], smtps["EMAIL_USE_SSL"], smtps["EMAIL_USE_TLS"]) == (465, True, False)


def test_email_url_with_another_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured):
        email_from_url("http://mail.example.com")
