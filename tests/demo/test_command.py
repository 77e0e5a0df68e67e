"""`selfcare demo` as a person runs it: in a subprocess, on its own SQLite database in a fresh data dir.

These tests never touch the pytest database (the environment of the subprocess drops every SELFCARE_*
variable, so SELFCARE_DATABASE_URL of the PostgreSQL pass does not reach it), which makes them the
same in both passes of the suite.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SELFCARE = str(Path(sys.executable).with_name("selfcare"))
READY_TIMEOUT_S = 120


def demo_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SELFCARE_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env["SELFCARE_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SELFCARE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local test server
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def test_seed_only_then_ledger_verify_passes_and_a_second_start_does_not_reseed(tmp_path):
    # given a fresh data dir
    data_dir = tmp_path / "var"

    # when the demo is seeded without starting servers
    seeded = run(["demo", "--seed-only", "--lines", "60", "--days", "5"], demo_env(data_dir), tmp_path)

    # then it created the database, seeded, and printed the back-office credentials and demo numbers
    assert seeded.returncode == 0, seeded.stderr
    assert (data_dir / "selfcare.sqlite3").exists()
    assert "60 individual lines, 55 company lines" in seeded.stdout
    assert "Back office user 'admin', password 'demo-admin-2026'" in seeded.stdout
    assert "+7 900 123-45-67" in seeded.stdout

    # and `selfcare ledger verify` exits 0 with its one-line summary
    verify = run(["ledger", "verify"], demo_env(data_dir, SELFCARE_DEMO="1"), tmp_path)
    assert verify.returncode == 0, verify.stderr
    summary = verify.stdout.strip().splitlines()[-1]
    assert summary.startswith("ledger verify: OK — ")
    assert summary.endswith("0 unbalanced, 0 balance mismatches, 0 below floor, 0 running-balance mismatches")

    # when it is started again
    again = run(["demo", "--seed-only", "--lines", "60", "--days", "5"], demo_env(data_dir), tmp_path)

    # then it does not seed a second time
    assert again.returncode == 0, again.stderr
    assert "The demo operator is already seeded" in again.stdout
    assert "Seeding" not in again.stdout


def test_demo_serves_pages_and_static_files_and_stops_its_children_on_sigterm(tmp_path):
    # given a fresh data dir and a free port
    data_dir = tmp_path / "var"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "demo.log"

    # when the demo starts
    with log_path.open("w") as log:
        demo = subprocess.Popen(
            [SELFCARE, "demo", "--port", str(port), "--lines", "60", "--days", "3"],
            env=demo_env(data_dir),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            healthy = False
            while time.monotonic() < deadline and demo.poll() is None:
                try:
                    healthy = get(f"{base}/healthz") == (200, b'{"status": "ok"}')
                except (urllib.error.URLError, OSError):
                    healthy = False
                # Ready means: it answers, and it has told the person so (it prints the URL only
                # after its own health check, which may come a moment after ours).
                if healthy and "Selfcare demo is running at" in log_path.read_text():
                    break
                time.sleep(0.5)

            # then it answers: health, the landing page and a collected static file
            assert healthy, log_path.read_text()
            status, page = get(f"{base}/")
            assert status == 200
            assert b"<html" in page
            status, css = get(f"{base}/static/admin/css/base.css")
            assert status == 200
            assert len(css) > 1000

            # when it gets SIGTERM
            demo.send_signal(signal.SIGTERM)
            code = demo.wait(timeout=60)
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait()

    # then it exits cleanly, after both children (whose pids it printed) are gone and the port is free
    output = log_path.read_text()
    assert code == 0, output
    pids = re.search(r"granian, pid (\d+)\) and the worker \(huey, pid (\d+)\)", output)
    assert pids is not None, output
    for pid in (int(pids.group(1)), int(pids.group(2))):
        assert not Path(f"/proc/{pid}").exists(), f"child {pid} still running"
    assert "Stopped: web exited with" in output
    assert f"Selfcare demo is running at {base}/" in output
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
