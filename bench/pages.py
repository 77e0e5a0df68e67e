"""The subscriber's home page under load: granian on PostgreSQL with the demo operator, 32 logged-in
sessions at once, against a bare Django view doing one indexed query on the same server, same run.

    uv run python bench/pages.py [--lines 1000] [--days 90] [--sessions 32] [--duration 15]
                                 [--rounds 2] [--workers 2] [--threads 8] [--client wrk|python]

What it does:

1. a scratch PostgreSQL database `selfcare_bench_pages` (created here, dropped at the end), seeded by
   `selfcare demo --seed-only --lines N --days D` exactly as a person trying the demo gets it;
2. `--sessions` signed-in subscribers: the demo's showcase numbers and other individual prepaid lines
   with their 90 days of history, each with a user and a server-side session (the session cookie is
   what the load generator sends, as a browser would);
3. granian (WSGI, `--workers` processes, `--threads` blocking threads each) serving the product with
   bench/pages_settings.py, whose urlconf adds the baseline at /bench/bare/: one query on the unique
   index of line numbers, answered as plain text. The product itself has no such view;
4. after a warm-up, `--rounds` rounds of `--duration` seconds each of: the bare view, then /home/,
   each with `--sessions` keep-alive connections, each carrying its subscriber's session cookie (both
   go through the same middleware: session, user, session policy). Every response must be a 200 (a
   redirect to the login page would look fast and mean nothing): anything else is counted and fails
   the run;
5. a steady load below saturation (`--paced-rps`, default half of what the home page sustained):
   the sessions send on a fixed schedule and latency counts from when each request was due;
6. prints requests/s and latency percentiles of both, the ratio home/bare (goal >= 0.5) and the home
   page's p99 (goal <= 100 ms), and, last, one line of JSON.

The load generator is wrk (`apt-get install wrk`) when present, else Python threads with http.client
keep-alive connections (`--client python`), which spends more of the machine's CPU on itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness import ROOT, drop_postgres_database, machine, recreate_postgres_database, setup_django

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/selfcare_bench_pages"
HOME_MARKER = b'data-testid="balance"'
RATIO_GOAL = 0.5
P99_GOAL_MS = 100.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1000, help="demo individual lines (default 1000)")
    parser.add_argument("--days", type=int, default=90, help="days of demo history (default 90)")
    parser.add_argument("--sessions", type=int, default=32, help="concurrent signed-in sessions")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up per endpoint")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of bare view then home page")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument(
        "--threads", type=int, default=4, help="granian blocking threads per worker (the demo's 2 x cores)"
    )
    parser.add_argument(
        "--paced-rps",
        type=float,
        default=0.0,
        help="offered load of the steady-load measurement (default: half the home page's saturation rate)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the seeded database after the run and reuse it if it is there (repeated measurements)",
    )
    parser.add_argument(
        "--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python"
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SELFCARE_BENCH_PAGES_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    return parser.parse_args(argv)


def server_env(url: str, data_dir: Path) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        {
            "SELFCARE_DATABASE_URL": url,
            "SELFCARE_DATA_DIR": str(data_dir),
            "SELFCARE_SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "SELFCARE_LOG_LEVEL": "WARNING",
            "SELFCARE_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT / "src")]),
        }
    )
    env.pop("SELFCARE_DEMO", None)
    env.pop("SELFCARE_DEBUG", None)
    return env


def is_seeded(url: str) -> bool:
    """Whether the bench database exists and holds a seeded demo (its "demo.seed" audit row)."""
    import psycopg

    from harness import admin_connect, database_name

    name = database_name(url)
    with admin_connect(url) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            return False
    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=5) as db:
            marker = db.execute("SELECT 1 FROM identity_auditevent WHERE action = 'demo.seed'").fetchone()
            return marker is not None
    except psycopg.Error:
        return False


def seed(env: dict[str, str], args: argparse.Namespace) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "selfcare.cli", "demo", "--seed-only", "--lines", str(args.lines),
         "--days", str(args.days)],
        env={**env, "DJANGO_SETTINGS_MODULE": "selfcare.settings"},
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def open_sessions(count: int) -> list[tuple[str, str]]:
    """(session cookie, line number) of `count` signed-in subscribers of the demo."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from selfcare.demo.population import SHOWCASE
    from selfcare.identity.models import User
    from selfcare.lines.models import Line

    showcase = [item.msisdn for item in SHOWCASE]
    lines = list(
        Line.objects.filter(msisdn__in=showcase, account__kind="prepaid").select_related("account__customer")
    )
    lines += list(
        Line.objects.filter(status="active", account__kind="prepaid", account__customer__kind="individual")
        .exclude(msisdn__in=showcase)
        .select_related("account__customer")
        .order_by("id")[: max(0, count - len(lines))]
    )
    sessions = []
    for line in lines[:count]:
        user = User.objects.filter(msisdn=line.msisdn).first() or User.objects.create_user(
            username=line.msisdn, msisdn=line.msisdn, language=line.account.customer.language or "en"
        )
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append((f"{settings.SESSION_COOKIE_NAME}={store.session_key}", line.msisdn))
    if len(sessions) < count:
        raise SystemExit(f"the demo has only {len(sessions)} individual prepaid lines; use more --lines")
    return sessions


def start_server(env: dict[str, str], args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "selfcare.wsgi:application",
        "--host", "127.0.0.1", "--port", str(args.port), "--workers", str(args.workers),
        "--blocking-threads", str(args.threads), "--no-ws", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env={**env, "DJANGO_SETTINGS_MODULE": "pages_settings"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"granian exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("granian did not answer /healthz within 60 s")


def check_once(port: int, path: str, cookie: str, marker: bytes | None) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Cookie": cookie})
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    if answer.status != 200 or (marker is not None and marker not in body):
        raise SystemExit(f"GET {path} answered {answer.status} without the expected page: {body[:300]!r}")


# --- Load generators ----------------------------------------------------------------------------------

WRK_SCRIPT = """
local targets = %(targets)s
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  nthreads = %(nthreads)d
end

function request()
  -- Thread t takes the sessions t, t + nthreads, t + 2 * nthreads...: each session is used by one thread.
  local i = tid + 1 + (counter %% math.ceil(#targets / nthreads)) * nthreads
  if i > #targets then i = tid + 1 end
  counter = counter + 1
  return wrk.format("GET", targets[i][1], {["Cookie"] = targets[i][2]})
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + thread:get("bad") end
  io.write(string.format(
    '{"requests": %%d, "duration_s": %%.6f, "non_200": %%d, "socket_errors": %%d, "p50_ms": %%.3f, ' ..
    '"p90_ms": %%.3f, "p99_ms": %%.3f, "max_ms": %%.3f}\\n',
    summary.requests, summary.duration / 1e6, wrong + summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3))
end
"""


def run_wrk(port: int, targets: list[tuple[str, str]], duration: float, workdir: Path) -> dict[str, Any]:
    threads = 2
    lua = ", ".join(f"{{{json.dumps(path)}, {json.dumps(cookie)}}}" for path, cookie in targets)
    script = workdir / "targets.lua"
    script.write_text(WRK_SCRIPT % {"targets": "{" + lua + "}", "nthreads": threads})
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(len(targets)), "-d", f"{duration:.0f}s", "--timeout", "10s",
         "-s", str(script), f"http://127.0.0.1:{port}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def run_python(port: int, targets: list[tuple[str, str]], duration: float) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in targets]
    wrong = [0 for _ in targets]
    errors = [0 for _ in targets]
    start = threading.Barrier(len(targets) + 1)
    deadline = [0.0]

    def client(index: int, path: str, cookie: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.sock = socket.create_connection(("127.0.0.1", port))
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start.wait()
        while time.perf_counter() < deadline[0]:
            begun = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Cookie": cookie})
                answer = connection.getresponse()
                answer.read()
            except OSError:
                errors[index] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            latencies[index].append(time.perf_counter() - begun)
            if answer.status != 200:
                wrong[index] += 1
        connection.close()

    workers = [
        threading.Thread(target=client, args=(i, path, cookie), daemon=True)
        for i, (path, cookie) in enumerate(targets)
    ]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    deadline[0] = began + duration
    start.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    every = sorted(value for values in latencies for value in values)

    def percentile(share: float) -> float:
        return every[min(len(every) - 1, int(share * len(every)))] * 1e3 if every else 0.0

    return {
        "requests": len(every),
        "duration_s": elapsed,
        "non_200": sum(wrong),
        "socket_errors": sum(errors),
        "p50_ms": percentile(0.50),
        "p90_ms": percentile(0.90),
        "p99_ms": percentile(0.99),
        "max_ms": every[-1] * 1e3 if every else 0.0,
    }


def run_paced(port: int, targets: list[tuple[str, str]], rate: float, duration: float) -> dict[str, Any]:
    """Each session sends a request every len(targets)/rate seconds on a fixed schedule (the sessions
    staggered evenly), so the offered load is `rate` whatever the server does. Latency is counted from
    the moment a request was due, not from when it could be sent: a late server is not hidden by its
    own slowness (no coordinated omission)."""
    interval = len(targets) / rate
    latencies: list[list[float]] = [[] for _ in targets]
    wrong = [0 for _ in targets]
    began = time.perf_counter() + 0.5

    def client(index: int, path: str, cookie: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        due = began + index * interval / len(targets)
        while due < began + duration:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            connection.request("GET", path, headers={"Cookie": cookie})
            answer = connection.getresponse()
            answer.read()
            latencies[index].append(time.perf_counter() - due)
            if answer.status != 200:
                wrong[index] += 1
            due += interval
        connection.close()

    workers = [
        threading.Thread(target=client, args=(i, path, cookie), daemon=True)
        for i, (path, cookie) in enumerate(targets)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    every = sorted(value for values in latencies for value in values)

    def percentile(share: float) -> float:
        return every[min(len(every) - 1, int(share * len(every)))] * 1e3 if every else 0.0

    return {
        "offered_requests_per_s": rate,
        "requests": len(every),
        "non_200": sum(wrong),
        "p50_ms": round(percentile(0.50), 2),
        "p90_ms": round(percentile(0.90), 2),
        "p99_ms": round(percentile(0.99), 2),
        "max_ms": round(every[-1] * 1e3, 2) if every else 0.0,
    }


def load(
    args: argparse.Namespace, targets: list[tuple[str, str]], duration: float, workdir: Path
) -> dict[str, Any]:
    if args.client == "wrk":
        return run_wrk(args.port, targets, duration, workdir)
    return run_python(args.port, targets, duration)


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one endpoint: throughput over the total time; the worst round's percentiles."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["duration_s"] for r in runs)
    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "requests_per_s": round(requests / seconds, 1),
        "rounds_requests_per_s": [round(r["requests"] / r["duration_s"], 1) for r in runs],
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p90_ms": round(max(r["p90_ms"] for r in runs), 2),
        "p99_ms": round(max(r["p99_ms"] for r in runs), 2),
        "max_ms": round(max(r["max_ms"] for r in runs), 2),
        "non_200": sum(r["non_200"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    url = args.postgres_url
    if not (args.reuse and is_seeded(url)):
        recreate_postgres_database(url)
    with tempfile.TemporaryDirectory(prefix="selfcare-bench-pages-") as tmp:
        workdir = Path(tmp)
        env = server_env(url, workdir)
        server = None
        try:
            # The demo command seeds only an empty database; a reused one is left as it is.
            seed_seconds = seed(env, args)
            os.environ["SELFCARE_ALLOWED_HOSTS"] = env["SELFCARE_ALLOWED_HOSTS"]
            setup_django(url, workdir)
            sessions = open_sessions(args.sessions)
            from django.db import connection, connections

            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                version = str(cursor.fetchone()[0])
                # Planner statistics of the freshly loaded tables, as autovacuum keeps them in service
                # (it may be off on a development server: without them PostgreSQL hashes whole tables).
                cursor.execute("ANALYZE")
            connections.close_all()

            server = start_server(env, args)
            home = [("/home/", cookie) for cookie, _number in sessions]
            bare = [(f"/bench/bare/?n={number.replace('+', '%2B')}", cookie) for cookie, number in sessions]
            # The first request of each session records it (identity's session policy); then warm up.
            for (path, cookie), (bare_path, _) in zip(home, bare, strict=True):
                check_once(args.port, path, cookie, HOME_MARKER)
                check_once(args.port, bare_path, cookie, None)
            load(args, bare, args.warmup, workdir)
            load(args, home, args.warmup, workdir)
            bare_runs, home_runs = [], []
            for _ in range(args.rounds):
                bare_runs.append(load(args, bare, args.duration, workdir))
                home_runs.append(load(args, home, args.duration, workdir))
            # Latency under a steady load below saturation: half of what the home page sustained.
            rate = args.paced_rps or max(1.0, round(combine(home_runs)["requests_per_s"] / 2))
            paced = {
                "bare": run_paced(args.port, bare, rate, args.duration),
                "home": run_paced(args.port, home, rate, args.duration),
            }
            # Still signed in at the end: the home page answered as a page, not as a login redirect.
            for path, cookie in home[:3]:
                check_once(args.port, path, cookie, HOME_MARKER)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            from django.db import connections

            connections.close_all()
            if not args.reuse:
                drop_postgres_database(url)
    bare_result, home_result = combine(bare_runs), combine(home_runs)
    ratio = home_result["requests_per_s"] / bare_result["requests_per_s"]
    return {
        "engine": "postgres",
        "server_version": version,
        "client": args.client,
        "lines": args.lines,
        "days": args.days,
        "sessions": args.sessions,
        "granian_workers": args.workers,
        "granian_threads": args.threads,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "seed_seconds": round(seed_seconds, 1),
        "bare": bare_result,
        "home": home_result,
        "ratio_home_to_bare": round(ratio, 3),
        "meets_ratio_goal": ratio >= RATIO_GOAL,
        "meets_p99_goal": home_result["p99_ms"] <= P99_GOAL_MS,
        "paced": paced,
        "paced_home_meets_p99_goal": paced["home"]["p99_ms"] <= P99_GOAL_MS,
    }


def print_result(result: dict[str, Any]) -> None:
    print(
        f"== PostgreSQL {result['server_version']}, demo {result['lines']:,} lines x {result['days']} days "
        f"(seeded in {result['seed_seconds']} s); granian {result['granian_workers']} workers x "
        f"{result['granian_threads']} threads; {result['sessions']} signed-in sessions; "
        f"client {result['client']}"
    )
    for name, label in (("bare", "bare view (1 indexed query)"), ("home", "home page /home/")):
        row = result[name]
        print(
            f"  {label:<28} {row['requests_per_s']:>8,.1f} req/s (rounds {row['rounds_requests_per_s']}), "
            f"p50 {row['p50_ms']:.1f} ms, p90 {row['p90_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
            f"max {row['max_ms']:.1f} ms; {row['requests']:,} requests, non-200 {row['non_200']}, "
            f"socket errors {row['socket_errors']}"
        )
    ratio = result["ratio_home_to_bare"]
    print(
        f"  ratio home/bare: {ratio:.2f} ({'meets' if result['meets_ratio_goal'] else 'MISSES'} the goal of "
        f"{RATIO_GOAL}); home p99 {result['home']['p99_ms']:.1f} ms "
        f"({'meets' if result['meets_p99_goal'] else 'MISSES'} the goal of {P99_GOAL_MS:.0f} ms) "
        f"at saturation, where by Little's law p50 is about sessions/throughput"
    )
    paced = result["paced"]
    print(
        f"  steady load of {paced['home']['offered_requests_per_s']:.0f} req/s (half the home page's "
        f"saturation throughput; the {result['sessions']} sessions on a fixed schedule, latency from when "
        f"each request was due):"
    )
    for name in ("bare", "home"):
        row = paced[name]
        print(
            f"    {name:<5} p50 {row['p50_ms']:.1f} ms, p90 {row['p90_ms']:.1f} ms, "
            f"p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms; {row['requests']:,} requests, "
            f"non-200 {row['non_200']}"
        )
    print(
        f"  home p99 at that load: {paced['home']['p99_ms']:.1f} ms "
        f"({'meets' if result['paced_home_meets_p99_goal'] else 'MISSES'} the goal of {P99_GOAL_MS:.0f} ms)"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = measure(args)
    print_result(result)
    print(json.dumps({"benchmark": "cabinet_home_page", "machine": machine(), "results": [result]}))
    if (
        result["home"]["non_200"]
        or result["bare"]["non_200"]
        or any(row["non_200"] for row in result["paced"].values())
    ):
        raise SystemExit("some responses were not 200: the figures above are not valid")


if __name__ == "__main__":
    main()
