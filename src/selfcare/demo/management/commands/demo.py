"""`selfcare demo`: a whole operator on one machine in one command.

Creates and migrates the SQLite database in $SELFCARE_DATA_DIR, seeds the demo operator once (the
"demo.seed" audit row is the marker; `--reset` deletes the database files and starts over), then
collects static files and runs the web server (granian, WSGI) and the background worker (huey) as
child processes until Ctrl-C or SIGTERM, which it forwards to both before waiting for them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from selfcare.demo.generator import ensure_admin, is_seeded, seed_operator
from selfcare.demo.population import DEFAULT_SEED, SHOWCASE, DemoConfig
from selfcare.kit import clock
from selfcare.kit.phone import format_international

READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20


class Command(BaseCommand):
    help = "Seed a demo operator (once) and run the web server and the background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument(
            "--lines", type=int, default=1000, help="individual lines to create (default 1000)"
        )
        parser.add_argument("--days", type=int, default=90, help="days of history (default 90)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed of the generator")
        parser.add_argument("--reset", action="store_true", help="delete the demo database and seed again")
        parser.add_argument("--seed-only", action="store_true", help="seed and exit without starting servers")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reset"]:
            self._reset_database()
        self._say("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        if is_seeded():
            self._say("The demo operator is already seeded (use --reset to rebuild it).")
        else:
            self._seed(options)
        username, password = ensure_admin()
        if options["seed_only"]:
            self._print_credentials(None, username, password)
            return
        self._check_port_free(options["host"], options["port"])
        call_command("collectstatic", interactive=False, verbosity=0)
        self._serve(options["host"], options["port"], username, password)

    # --- steps --------------------------------------------------------------------------------
    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _reset_database(self) -> None:
        database = connections["default"]
        if database.vendor != "sqlite":
            raise CommandError(
                "--reset deletes the demo's SQLite file only; "
                "drop and recreate the PostgreSQL database yourself"
            )
        name = Path(str(database.settings_dict["NAME"]))
        database.close()
        removed = 0
        for path in (name, Path(f"{name}-wal"), Path(f"{name}-shm")):
            if path.exists():
                path.unlink()
                removed += 1
        self._say(f"Deleted the demo database {name}" if removed else f"No database at {name} yet")

    def _seed(self, options: dict[str, Any]) -> None:
        config = DemoConfig(
            today=clock.local_today(settings.TIME_ZONE),
            lines=options["lines"],
            days=options["days"],
            seed=options["seed"],
            time_zone=settings.TIME_ZONE,
        )
        self._say(f"Seeding the demo operator: {config.lines:,} lines, {config.days} days of history…")
        started = time.perf_counter()
        summary = seed_operator(config, progress=self._say)
        elapsed = time.perf_counter() - started
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in summary.transactions_by_kind.items())
        refused = ", ".join(f"{reason} {count:,}" for reason, count in summary.refusals.items()) or "none"
        thin = (
            f" (lines beyond the first 2,000: {summary.thin_history_days} days)"
            if summary.thin_history_days < summary.full_history_days
            else ""
        )
        self._say(
            f"Seeded in {elapsed:.1f} s: {summary.tariffs} tariffs, {summary.services} services, "
            f"{summary.customers:,} customers, {summary.individual_lines:,} individual lines, "
            f"{summary.company_lines:,} company lines, {summary.transactions:,} ledger transactions "
            f"over {summary.full_history_days} days{thin}.\n  {kinds}\n"
            f"  {summary.usage_records:,} usage records rated by the engine"
            f" in {summary.usage_batches:,} batches"
            f" ({summary.usage_minor / 100:,.2f} charged); refused: {refused}"
        )

    def _print_credentials(self, url: str | None, username: str, password: str) -> None:
        lines = []
        if url:
            lines += [
                "",
                f"Selfcare demo is running at {url}",
                f"  Back office: {url}backoffice/  user {username!r}, password {password!r}",
            ]
        else:
            lines += ["", f"Back office user {username!r}, password {password!r}"]
        lines.append("  Demo subscriber numbers (sign-in by SMS code arrives with the Identity feature):")
        lines += [f"    {format_international(item.msisdn)}  {item.description}" for item in SHOWCASE]
        if url:
            lines.append("Press Ctrl-C to stop.")
        self._say("\n".join(lines))

    # --- processes ----------------------------------------------------------------------------
    def _check_port_free(self, host: str, port: int) -> None:
        # Otherwise granian dies at start while whatever holds the port answers our readiness probe.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CommandError(
                    f"{host}:{port} is not available ({exc.strerror}); pick another --port"
                ) from exc

    def _serve(self, host: str, port: int, username: str, password: str) -> None:
        env = os.environ.copy()
        env["SELFCARE_DEMO"] = "1"
        env["SELFCARE_DATA_DIR"] = str(settings.DATA_DIR)
        env.setdefault("DJANGO_SETTINGS_MODULE", "selfcare.settings")
        web_command = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "selfcare.wsgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-ws",
            # One worker on a demo machine: a few request threads per core are plenty (granian warns
            # when a WSGI worker may start more than twice as many Python threads as there are cores).
            "--blocking-threads",
            str(max(2, min(8, 2 * (os.cpu_count() or 1)))),
            "--static-path-route",
            str(settings.STATIC_URL).rstrip("/"),
            "--static-path-mount",
            str(settings.STATIC_ROOT),
        ]
        worker_command = [sys.executable, "-m", "selfcare.cli", "run_huey"]
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        web = subprocess.Popen(web_command, env=env)  # noqa: S603 - our own interpreter and arguments
        worker = subprocess.Popen(worker_command, env=env)  # noqa: S603
        self._say(f"Started the web server (granian, pid {web.pid}) and the worker (huey, pid {worker.pid})")
        try:
            url_host = f"[{host}]" if ":" in host else host
            url = f"http://{url_host}:{port}/"
            if self._wait_until_ready(url, web, stop) and web.poll() is None:
                self._print_credentials(url, username, password)
            while not stop.is_set():
                if web.poll() is not None or worker.poll() is not None:
                    self.stderr.write("A child process stopped; shutting the demo down.")
                    break
                stop.wait(0.5)
        finally:
            codes = self._stop_children([("web", web, signal.SIGTERM), ("worker", worker, signal.SIGINT)])
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self._say(f"Stopped: web exited with {codes['web']}, worker exited with {codes['worker']}.")

    def _wait_until_ready(self, url: str, web: subprocess.Popen[bytes], stop: threading.Event) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and not stop.is_set():
            if web.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{url}healthz", timeout=2) as response:  # noqa: S310 - our own URL
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            stop.wait(0.3)
        return False

    def _stop_children(
        self, children: list[tuple[str, subprocess.Popen[bytes], int]]
    ) -> dict[str, int | None]:
        # SIGTERM lets granian finish the requests in flight; SIGINT is huey's graceful shutdown (it
        # waits for running tasks), where its SIGTERM would abandon them.
        for _name, process, sig in children:
            if process.poll() is None:
                process.send_signal(sig)
        codes: dict[str, int | None] = {}
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for name, process, _sig in children:
            try:
                codes[name] = process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        return codes
