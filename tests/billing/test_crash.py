"""A crash of the fee job between two lines resumes without double charges.

The job runs in a real worker process (`selfcare billing charge-fees`) against the test database (a
file for SQLite, the test database for PostgreSQL; hence a transactional test, whose data is
committed and visible to the other process). The process stops inside its second chunk and the test
kills it with SIGKILL: nothing of that chunk may survive, and a second run must charge every line
exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from selfcare.billing import services
from selfcare.billing.models import FeeCharge
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import verify_ledger
from tests.billing.helpers import balance_of, daily_tariff, line_with_money

pytestmark = pytest.mark.django_db(transaction=True)

LINES = 7
CHUNK = 3
FEE = 1_000
START = 5_000
REPO = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


def _worker(*args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "selfcare.settings",
        "SELFCARE_DATABASE_URL": _database_url(),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "selfcare.cli", "billing", "charge-fees", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_worker_killed_between_two_lines_resumes_without_charging_anyone_twice(frozen_clock):
    # Given 7 lines on a daily tariff of 10.00, each with 50.00
    lines = [line_with_money(daily_tariff(FEE), START) for _ in range(LINES)]
    connection.close()  # the worker takes SQLite's write lock; keep no idle connection in the way

    # When a worker bills 2 March in chunks of 3 and is killed while handling the 5th line (the first
    # chunk committed, the second one open)
    with _worker("--date", "2026-03-02", "--chunk-size", str(CHUNK), "--pause-after-lines", "5") as worker:
        assert worker.stdout is not None
        marker = worker.stdout.readline()
        os.kill(worker.pid, signal.SIGKILL)
        _out, err = worker.communicate(timeout=60)
    assert marker == "paused after 5 lines\n", err
    assert worker.returncode == -signal.SIGKILL

    # Then only the committed chunk is charged, and the ledger is consistent
    assert FeeCharge.objects.count() == CHUNK
    assert [balance_of(line) for line in lines] == [START - FEE] * CHUNK + [START] * (LINES - CHUNK)
    assert verify_ledger().ok

    # When a new worker runs the same day to the end, and the job runs once more here
    connection.close()
    with _worker("--date", "2026-03-02", "--chunk-size", str(CHUNK)) as rerun:
        _out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    services.charge_fees(on=date(2026, 3, 2), chunk_size=CHUNK)

    # Then every line paid the day exactly once
    assert Counter(FeeCharge.objects.values_list("line_id", flat=True)) == {line.pk: 1 for line in lines}
    assert set(FeeCharge.objects.values_list("status", flat=True)) == {"charged"}
    assert Transaction.objects.filter(kind="tariff_fee").count() == LINES
    assert [balance_of(line) for line in lines] == [START - FEE] * LINES
    assert verify_ledger().ok
