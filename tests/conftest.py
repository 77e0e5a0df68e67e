"""Test-suite wiring shared by every test.

- `require_service`: a test that needs PostgreSQL, Redis or Chromium fails in CI when it is missing and
  skips (loudly) only on a developer machine.
- Transactional tests on SQLite: Django empties tables with DELETE after each such test, which the
  ledger's append-only triggers refuse; the teardown below empties the two ledger tables with the
  triggers briefly dropped (in one transaction) before Django's flush. PostgreSQL uses TRUNCATE,
  which row triggers do not see.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import TransactionTestCase

from selfcare.kit import clock
from selfcare.ledger.triggers import APPEND_ONLY_TABLES, create_statements, drop_statements

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, available: bool) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is required and CI must provide it")
    pytest.skip(f"!!! SKIPPED: {name} is not available on this machine (CI runs this test)")


def _purge_ledger_for_flush(self: TransactionTestCase) -> None:
    for alias in self._databases_names(include_mirrors=False):
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            for statement in drop_statements("sqlite"):
                cursor.execute(statement)
            for table in ("ledger_posting", *[t for t in APPEND_ONLY_TABLES if t != "ledger_posting"]):
                cursor.execute(f"DELETE FROM {table}")
            for statement in create_statements("sqlite"):
                cursor.execute(statement)


_original_fixture_teardown = TransactionTestCase._fixture_teardown


def _fixture_teardown(self: TransactionTestCase) -> None:
    _purge_ledger_for_flush(self)
    _original_fixture_teardown(self)


TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: code that activates a subscriber's language (SMS
    texts, the profile) must not leave it active for whatever test the worker runs next."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def frozen_clock() -> Iterator[Any]:
    """Freeze selfcare's clock at a fixed instant; tests move it with `clock.advance`."""
    with clock.frozen(datetime.fromisoformat("2026-03-02T09:00:00+03:00")):
        yield clock


def db_vendor() -> str:
    return connections["default"].vendor


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Only the controlling process (not an xdist worker) removes the run's data directory.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import shutil

    from django.conf import settings

    data_dir = settings.DATA_DIR
    if data_dir.parent.name == "test" and data_dir.exists():
        shutil.rmtree(data_dir, ignore_errors=True)
