"""Load test: a busy hour of subscribers and the network on granian + PostgreSQL + Redis + a huey worker.

    uv run python bench/load.py [--duration 60] [--users 24] [--usage-rate 200] [--mix tele2|even]
                                [--think 2.0] [--lines 1000] [--days 30] [--workers 2] [--threads 4]

Loopback only (every address is 127.0.0.1), bounded in time (--duration, then at most --drain seconds
for top-ups still settling) and in count (--max-steps per virtual user). What it does:

1. a scratch PostgreSQL database `selfcare_bench_load` (created here, dropped at the end unless --reuse)
   seeded by `selfcare demo --seed-only` (bench/pages.py's helpers), and a Redis database of its own
   (--redis-url, default db 12) whose selfcare and huey keys are deleted before and after the run;
2. one server: granian (WSGI, --workers x --threads) with bench/pages_settings.py (the product plus the
   bare baseline view), SELFCARE_REDIS_URL set so the cache, the rate limits and the queue are Redis;
   and one huey consumer (`selfcare run_huey`, as `selfcare demo` starts it) sending the SMS and the
   fake acquirer's webhooks;
3. --users virtual subscribers (demo prepaid lines given a password), each a thread with its own
   cookies, device id and client address (X-Real-IP, as the reverse proxy sets it; the server reads it
   through SELFCARE_CLIENT_IP_HEADER, so the per-address rate limits apply per subscriber). Each signs
   in through the real login page, then loops: pick a step by the mix's weights, do it, think
   (exponential, mean --think seconds). The steps:
   - `login`: sign out, then phone + password on /login/ from the known device;
   - `login_sms`: the first sign-in of each subscriber, from a new device: phone + password, then the
     confirmation code the worker sent by SMS (read back from the console gateway's store in Redis);
   - `home`: /home/; `history`: /history/; `tariff_preview`: /tariff/<code>/ (the price of a change);
   - `service_toggle`: the preview of connecting (or disconnecting) a service, then its confirmation
     form posted with the CSRF token; the next toggle of that subscriber undoes it;
   - `topup`: the mobile app's top-up: POST /api/v1/payments/topups (bearer token from
     /api/v1/auth/login, an Idempotency-Key), the fake acquirer's card page (GET, then POST of a test
     card with its CSRF token); `topup_settled` is the time until the app's poll of
     /api/v1/payments/<id> sees the payment succeeded, i.e. until the worker delivered the signed
     webhook and the balance was credited (the app polls before each of the subscriber's next steps,
     so this is an upper bound, late by up to one think time);
4. a background stream of usage records at --usage-rate records/s, in batches of --usage-batch, pushed
   to POST /api/v1/network/usage with a network API key (voice, SMS and data of random demo lines);
5. the baseline, in the same run: a probe asking the bare view /bench/bare/ (one indexed query behind
   the same middleware) twice a second with a signed-in cookie;
6. at the end: every step's count, rate, p50/p95/p99 and errors; requests/s over all HTTP requests;
   the records rated per second counted in the database; top-ups acknowledged vs credited; a
   `selfcare ledger verify` run; the ratio of the home page's p95 to the bare view's; one JSON line.

Errors are answers other than what the step expects (and transport errors); business refusals (a
service the balance cannot pay for) are counted apart as `refused`.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from harness import drop_postgres_database, machine, recreate_postgres_database, setup_django
from pages import is_seeded, seed, server_env, start_server

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/selfcare_bench_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
PASSWORD = "Load-test-pass-2026"  # noqa: S105 - the bench subscribers' password, loopback only
SOURCE = f"load-{uuid.uuid4().hex[:12]}"  # the usage records of this run (a reused database keeps older ones)
HOST = "127.0.0.1"

# Step weights of a busy hour (docs/performance.md, "Load test", explains where they come from).
MIXES: dict[str, dict[str, float]] = {
    "tele2": {
        "home": 46,
        "history": 14,
        "tariff_preview": 9,
        "service_toggle": 4,
        "topup": 12,
        "login": 15,
    },
    "even": {"home": 1, "history": 1, "tariff_preview": 1, "service_toggle": 1, "topup": 1, "login": 1},
}
STEPS = [
    "login_sms",
    "login",
    "home",
    "history",
    "tariff_preview",
    "service_toggle",
    "topup",
    "topup_settled",
]
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_INPUT = re.compile(rb'name="token" value="([^"]+)"')
CODE = re.compile(r"(\d{4,8})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--users", type=int, default=24, help="virtual subscribers (threads)")
    parser.add_argument("--think", type=float, default=2.0, help="mean think time between steps, seconds")
    parser.add_argument("--mix", choices=sorted(MIXES), default="tele2", help="step weights (default tele2)")
    parser.add_argument("--usage-rate", type=float, default=200.0, help="usage records per second pushed")
    parser.add_argument("--usage-batch", type=int, default=50, help="records per POST of the usage stream")
    parser.add_argument(
        "--usage-senders",
        type=int,
        default=4,
        help="concurrent connections of the usage stream (mediation links)",
    )
    parser.add_argument("--max-steps", type=int, default=10_000, help="at most this many steps per user")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for top-ups to settle")
    parser.add_argument("--lines", type=int, default=1000, help="demo individual lines (default 1000)")
    parser.add_argument("--days", type=int, default=30, help="days of demo history (default 30)")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--threads", type=int, default=4, help="granian blocking threads per worker")
    parser.add_argument("--worker-threads", type=int, default=2, help="huey consumer threads")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", type=int, default=7, help="random seed of the load generator")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database for the next run")
    parser.add_argument(
        "--redis-url", default=os.environ.get("SELFCARE_BENCH_LOAD_REDIS_URL", DEFAULT_REDIS_URL)
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SELFCARE_BENCH_LOAD_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    args = parser.parse_args(argv)
    for url in (args.redis_url, args.postgres_url):
        if "127.0.0.1" not in url and "localhost" not in url:
            parser.error(f"the load test runs on loopback only: {url}")
    return args


# --- Measurements -------------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    errors: dict[str, int] = field(default_factory=lambda: {step: 0 for step in STEPS})
    refused: dict[str, int] = field(default_factory=lambda: {step: 0 for step in STEPS})
    error_samples: list[str] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, step: str, seconds: float) -> None:
        with self.lock:
            self.latencies[step].append(seconds)

    def error(self, step: str, detail: str) -> None:
        with self.lock:
            self.errors[step] = self.errors.get(step, 0) + 1
            if len(self.error_samples) < 20:
                self.error_samples.append(f"{step}: {detail}")

    def refuse(self, step: str) -> None:
        with self.lock:
            self.refused[step] += 1

    def count_request(self) -> None:
        with self.lock:
            self.requests += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1e3 if ordered else 0.0


class StepFailed(Exception):
    pass


# --- An HTTP client with cookies, one keep-alive connection per virtual user ---------------------------


class Client:
    def __init__(self, port: int, stats: Stats, ip: str = "") -> None:
        self.port = port
        self.stats = stats
        self.ip = ip
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        sent = {"User-Agent": "selfcare-load/1", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if self.ip:
            sent["X-Real-IP"] = self.ip
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=sent)
                answer = self.connection.getresponse()
                data = answer.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed meanwhile: open a new one once.
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        self.stats.count_request()
        for header in answer.headers.get_all("Set-Cookie") or []:
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data

    def form(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        from urllib.parse import urlencode

        return self.request(
            "POST", path, body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip

    def json(
        self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        body = json.dumps(payload).encode() if payload is not None else None
        status, _headers, data = self.request(
            method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data[:200]

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def csrf_of(page: bytes) -> str:
    found = CSRF_INPUT.search(page)
    if found is None:
        raise StepFailed("no CSRF token on the page")
    return found.group(1).decode()


# --- The virtual subscriber ------------------------------------------------------------------------------


@dataclass
class Subscriber:
    msisdn: str
    tariff_codes: list[str]
    service_code: str
    service_connected: bool
    device_id: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    signed_in_once: bool = False
    access_token: str = ""
    token_at: float = 0.0


def read_sms_code(msisdn: str, since: int, timeout: float = 30.0) -> str:
    """The code of the newest console SMS to `msisdn` after sequence `since` (the worker sends it)."""
    from selfcare.notifications.senders.console import recent_messages

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in recent_messages(50):
            if message.msisdn == msisdn and message.sequence > since:
                found = CODE.search(message.text)
                if found:
                    return found.group(1)
        time.sleep(0.1)
    raise StepFailed(f"no SMS code for {msisdn} within {timeout:.0f} s")


def last_sms_sequence() -> int:
    from selfcare.notifications.senders.console import recent_messages

    messages = recent_messages(1)
    return messages[0].sequence if messages else 0


class User:
    def __init__(self, index: int, sub: Subscriber, args: argparse.Namespace, stats: Stats) -> None:
        self.sub = sub
        self.args = args
        self.stats = stats
        self.random = random.Random(args.seed * 1000 + index)
        self.web = Client(args.port, stats, ip=f"10.{index // 250}.{index % 250}.7")
        self.app = Client(args.port, stats, ip=f"10.{index // 250}.{index % 250}.8")
        self.pending: list[tuple[str, float]] = []  # top-ups acknowledged, not yet seen credited

    # Each step raises StepFailed (or an OSError) when an answer is not what a browser would get.
    def login(self) -> str:
        web = self.web
        web.cookies.pop("sessionid", None)
        web.cookies["selfcare_device"] = self.sub.device_id
        status, _h, page = web.request("GET", "/login/")
        if status != 200:
            raise StepFailed(f"GET /login/ {status}")
        since = last_sms_sequence() if not self.sub.signed_in_once else 0
        status, headers, _page = web.form(
            "/login/", {"csrfmiddlewaretoken": csrf_of(page), "login": self.sub.msisdn, "password": PASSWORD}
        )
        if status != 302:
            raise StepFailed(f"POST /login/ {status}")
        step = "login"
        if headers.get("location", "").endswith("/login/confirm/"):
            step = "login_sms"
            status, _h, page = web.request("GET", "/login/confirm/")
            code = read_sms_code(self.sub.msisdn, since)
            status, headers, _page = web.form(
                "/login/confirm/", {"csrfmiddlewaretoken": csrf_of(page), "code": code}
            )
            if status != 302:
                raise StepFailed(f"POST /login/confirm/ {status}")
        if not headers.get("location", "").endswith("/home/"):
            raise StepFailed(f"sign-in landed on {headers.get('location')}")
        self.sub.signed_in_once = True
        return step

    def logout(self) -> None:
        status, _h, page = self.web.request("GET", "/home/")
        if status == 200:
            self.web.form("/logout/", {"csrfmiddlewaretoken": csrf_of(page)})

    def page(self, path: str) -> None:
        status, _h, _page = self.web.request("GET", path)
        if status != 200:
            raise StepFailed(f"GET {path} {status}")

    def service_toggle(self) -> bool:
        action = "disconnect" if self.sub.service_connected else "connect"
        path = f"/services/{self.sub.service_code}/{action}/"
        status, _h, page = self.web.request("GET", path)
        if status != 200:
            raise StepFailed(f"GET {path} {status}")
        token = TOKEN_INPUT.search(page)
        if token is None:
            return False  # the preview refuses (no confirm form): a business refusal
        status, _headers, _page = self.web.form(
            path, {"csrfmiddlewaretoken": csrf_of(page), "token": token.group(1).decode()}
        )
        if status == 302:
            self.sub.service_connected = not self.sub.service_connected
            return True
        if status == 200:
            return False  # refused at confirmation (the page says why)
        raise StepFailed(f"POST {path} {status}")

    def app_token(self) -> str:
        if self.sub.access_token and time.monotonic() - self.sub.token_at < 500:
            return self.sub.access_token
        status, body = self.app.json(
            "POST", "/api/v1/auth/login",
            {"login": self.sub.msisdn, "password": PASSWORD, "device_id": self.sub.device_id},
        )  # fmt: skip
        if status != 200:
            raise StepFailed(f"POST /api/v1/auth/login {status} {body}")
        self.sub.access_token, self.sub.token_at = body["access_token"], time.monotonic()
        return self.sub.access_token

    def topup(self) -> None:
        bearer = {"Authorization": f"Bearer {self.app_token()}"}
        amount = self.random.choice([10_000, 30_000, 50_000, 100_000])
        status, body = self.app.json(
            "POST", "/api/v1/payments/topups", {"amount_minor": amount},
            headers={**bearer, "Idempotency-Key": f"load-{uuid.uuid4().hex}"},
        )  # fmt: skip
        if status != 201:
            raise StepFailed(f"POST topups {status} {body}")
        payment_id, url = body["id"], body["confirmation_url"]
        path = "/" + url.split("/", 3)[3] if url.startswith("http") else url
        status, _h, page = self.app.request("GET", path)
        if status != 200:
            raise StepFailed(f"GET {path} {status}")
        expiry = (datetime.now(UTC) + timedelta(days=800)).strftime("%m/%y")
        status, _h, _page = self.app.form(
            path,
            {"csrfmiddlewaretoken": csrf_of(page), "number": "4242 4242 4242 4242", "expiry": expiry,
             "cvc": "123"},
        )  # fmt: skip
        if status != 302:
            raise StepFailed(f"POST {path} {status}")
        self.pending.append((payment_id, time.perf_counter()))

    def poll_topups(self) -> None:
        """The app asks for its pending payments' status (once per step; at the end until settled)."""
        if not self.pending:
            return
        bearer = {"Authorization": f"Bearer {self.app_token()}"}
        still = []
        for payment_id, started in self.pending:
            status, body = self.app.json("GET", f"/api/v1/payments/{payment_id}", headers=bearer)
            if status == 200 and body["status"] == "succeeded":
                self.stats.ok("topup_settled", time.perf_counter() - started)
            elif status == 200 and body["status"] in ("created", "pending"):
                still.append((payment_id, started))
            else:
                self.stats.error("topup_settled", f"{status} {body}")
        self.pending = still

    def run(self, stop_at: float, weights: dict[str, float]) -> None:
        steps, shares = list(weights), list(weights.values())
        self.do("login", self.login)
        for _ in range(self.args.max_steps):
            pause = self.random.expovariate(1 / self.args.think) if self.args.think > 0 else 0
            if time.monotonic() + pause >= stop_at:
                break
            time.sleep(pause)
            if self.pending:
                try:
                    self.poll_topups()
                except (StepFailed, OSError) as exc:
                    self.stats.error("topup_settled", str(exc))
            step = self.random.choices(steps, weights=shares)[0]
            if step == "login":
                self.logout()
                self.do("login", self.login)
            elif step == "home":
                self.do(step, lambda: self.page("/home/"))
            elif step == "history":
                self.do(step, lambda: self.page("/history/"))
            elif step == "tariff_preview":
                code = self.random.choice(self.sub.tariff_codes)
                self.do(step, functools.partial(self.page, f"/tariff/{code}/"))
            elif step == "service_toggle":
                self.do(step, self.service_toggle)
            elif step == "topup":
                self.do(step, self.topup)

    def do(self, step: str, action: Any) -> None:
        started = time.perf_counter()
        try:
            outcome = action()
        except (StepFailed, OSError, KeyError, ValueError) as exc:
            self.stats.error(step, f"{type(exc).__name__}: {exc}")
            return
        if outcome is False:
            self.stats.refuse(step)
        self.stats.ok(outcome if isinstance(outcome, str) else step, time.perf_counter() - started)

    def drain(self, deadline: float) -> None:
        while self.pending and time.monotonic() < deadline:
            try:
                self.poll_topups()
            except (StepFailed, OSError) as exc:
                self.stats.error("topup_settled", str(exc))
                return
            time.sleep(0.5)
        for _payment_id, _started in self.pending:
            self.stats.error("topup_settled", "not credited before the drain deadline")
        self.pending = []


# --- The network's usage stream and the baseline probe ----------------------------------------------------


def usage_sender(
    index: int,
    args: argparse.Namespace,
    api_key: str,
    numbers: list[str],
    stop: threading.Event,
    stats: Stats,
) -> dict[str, Any]:
    """One mediation link: batches on a fixed schedule (its share of --usage-rate), whatever the server
    does; a late batch is sent at once, so the offered rate holds while the server keeps up."""
    client = Client(args.port, stats)
    generator = random.Random(args.seed + index)
    run = f"{index}"
    interval = args.usage_batch * args.usage_senders / args.usage_rate
    time.sleep(index * interval / args.usage_senders)
    sent = accepted = rejected = duplicates = 0
    latencies: list[float] = []
    errors = 0
    due = time.perf_counter()
    began = due
    while not stop.is_set():
        pause = due - time.perf_counter()
        if pause > 0:
            stop.wait(pause)
            if stop.is_set():
                break
        moment = datetime.now(UTC) - timedelta(seconds=generator.randint(1, 600))
        records = []
        for _ in range(args.usage_batch):
            sent += 1
            kinds = ["voice_out", "voice_in", "sms_out", "data"]
            kind = generator.choices(kinds, weights=[45, 20, 20, 15])[0]
            records.append({
                "source": SOURCE, "record_id": f"{run}-{sent}", "kind": kind,
                "msisdn": generator.choice(numbers), "started_at": moment.isoformat(),
                "duration_s": generator.randint(5, 600) if kind.startswith("voice") else 0,
                "volume_bytes": generator.randint(10_000, 50_000_000) if kind == "data" else 0,
                "counterparty": generator.choice(numbers) if kind != "data" else "",
            })  # fmt: skip
        started = time.perf_counter()
        try:
            status, body = client.json(
                "POST", "/api/v1/network/usage", {"records": records}, headers={"X-API-Key": api_key}
            )
        except OSError:
            status, body = 0, None
        latencies.append(time.perf_counter() - started)
        if status == 200:
            accepted += body["accepted"]
            rejected += body["rejected"]
            duplicates += body["duplicates"]
        else:
            errors += 1
            stats.error("usage", f"{status} {str(body)[:200]}")
        due += interval
    elapsed = time.perf_counter() - began
    client.close()
    return {
        "latencies": latencies,
        "records_sent": sent,
        "accepted": accepted,
        "rejected": rejected,
        "duplicates": duplicates,
        "errors": errors,
        "seconds": elapsed,
    }


def usage_stream(
    args: argparse.Namespace, api_key: str, numbers: list[str], stop: threading.Event, stats: Stats
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{} for _ in range(args.usage_senders)]

    def sender(index: int) -> None:
        parts[index] = usage_sender(index, args, api_key, numbers, stop, stats)

    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(args.usage_senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = [value for part in parts for value in part.get("latencies", [])]
    return {
        "offered_records_per_s": args.usage_rate,
        "batch": args.usage_batch,
        "senders": args.usage_senders,
        "batches": len(latencies),
        **{
            name: sum(part.get(name, 0) for part in parts)
            for name in ("records_sent", "accepted", "rejected", "duplicates", "errors")
        },
        "seconds": round(max(part.get("seconds", 0.0) for part in parts), 1),
        "batch_p50_ms": round(percentile(latencies, 0.50), 1),
        "batch_p95_ms": round(percentile(latencies, 0.95), 1),
        "batch_p99_ms": round(percentile(latencies, 0.99), 1),
    }


def bare_probe(args: argparse.Namespace, cookie: str, number: str, stop: threading.Event) -> dict[str, Any]:
    client = Client(args.port, Stats())
    client.cookies.update(dict(part.split("=", 1) for part in cookie.split("; ")))
    latencies: list[float] = []
    errors = 0
    path = f"/bench/bare/?n={number.replace('+', '%2B')}"
    while not stop.wait(0.5):
        started = time.perf_counter()
        try:
            status, _h, _body = client.request("GET", path)
        except OSError:
            status = 0
        if status == 200:
            latencies.append(time.perf_counter() - started)
        else:
            errors += 1
    client.close()
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


# --- Set-up -------------------------------------------------------------------------------------------------


def prepare_subscribers(count: int) -> tuple[list[Subscriber], list[str], str]:
    """The virtual subscribers (demo prepaid lines given a password), every active number, an API key."""
    from django.contrib.auth.hashers import make_password

    from selfcare.billing import queries as billing_queries
    from selfcare.identity.models import User as UserModel
    from selfcare.identity.services import create_api_key
    from selfcare.lines.models import Line

    lines = list(
        Line.objects.filter(status="active", account__kind="prepaid", account__customer__kind="individual")
        .select_related("account__customer")
        .order_by("id")[:count]
    )
    if len(lines) < count:
        raise SystemExit(f"the demo has only {len(lines)} active individual prepaid lines; use more --lines")
    hashed = make_password(PASSWORD)  # one Argon2 hash for all: the sign-ins still verify it each time
    subscribers = []
    for line in lines:
        user = UserModel.objects.filter(msisdn=line.msisdn).first() or UserModel(
            username=line.msisdn, msisdn=line.msisdn, language=line.account.customer.language or "en"
        )
        user.password = hashed
        user.save()
        tariffs = [c.tariff.code for c in billing_queries.list_tariffs_for_change(line) if not c.is_current]
        choices = billing_queries.list_services_for_line(line)
        service = next((c for c in choices if c.allowed and not c.connected), None) or next(
            (c for c in choices if c.allowed), None
        )
        if not tariffs or service is None:
            raise SystemExit(f"line {line.msisdn} has no tariff to preview or no service to toggle")
        subscribers.append(
            Subscriber(
                msisdn=line.msisdn,
                tariff_codes=tariffs,
                service_code=service.service.code,
                service_connected=service.connected,
            )
        )
    numbers = list(Line.objects.filter(status="active").values_list("msisdn", flat=True))
    _key, secret = create_api_key(name=f"load-{uuid.uuid4().hex[:6]}", scopes=["usage:write"], actor="bench")
    return subscribers, numbers, secret


def clear_redis(url: str) -> int:
    """Delete the keys a selfcare server and its huey queue make in this Redis database (not FLUSHDB:
    only ours). The database should be one no one else uses (--redis-url)."""
    import redis

    connection = redis.Redis.from_url(url)
    removed = 0
    for pattern in ("selfcare*", "huey*", ":*selfcare*", "LIMITS*", "*bench-load*"):
        keys = list(connection.scan_iter(match=pattern, count=1000))
        if keys:
            removed += int(connection.delete(*keys))
    return removed


def start_worker(env: dict[str, str], args: argparse.Namespace) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "selfcare.cli", "run_huey", "--workers", str(args.worker_threads), "--quiet"],
        env={**env, "DJANGO_SETTINGS_MODULE": "selfcare.settings"},
    )


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and all its descendants (from /proc; Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    wanted, queue = set(), [root]
    while queue:
        pid = queue.pop()
        wanted.add(pid)
        queue += [child for child, parent in parents.items() if parent == pid and child not in wanted]
    return sum(times.get(pid, 0.0) for pid in wanted)


def ledger_verify(env: dict[str, str]) -> tuple[bool, str]:
    done = subprocess.run(
        [sys.executable, "-m", "selfcare.cli", "ledger", "verify"],
        env={**env, "DJANGO_SETTINGS_MODULE": "selfcare.settings"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    output = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, output[-1] if output else ""


def database_counts(started: datetime) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'accepted') "
            "FROM usage_usagerecord WHERE source = %s",
            [SOURCE],
        )
        rated, accepted = (int(value) for value in cursor.fetchone())
        cursor.execute(
            "SELECT status, count(*) FROM payments_payment WHERE created_at >= %s GROUP BY status", [started]
        )
        payments = {f"payments_{status}": int(count) for status, count in cursor.fetchall()}
    return {"usage_records_rated": rated, "usage_records_accepted": accepted, **payments}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    url = args.postgres_url
    if not (args.reuse and is_seeded(url)):
        recreate_postgres_database(url)
    clear_redis(args.redis_url)
    weights = MIXES[args.mix]
    with tempfile.TemporaryDirectory(prefix="selfcare-bench-load-") as tmp:
        workdir = Path(tmp)
        env = server_env(url, workdir)
        env.update(
            {
                "SELFCARE_REDIS_URL": args.redis_url,
                "SELFCARE_CLIENT_IP_HEADER": "HTTP_X_REAL_IP",
                "SELFCARE_PUBLIC_URL": f"http://{HOST}:{args.port}",
                "SELFCARE_INSECURE_HTTP": "1",
                "SELFCARE_THROTTLE_KEY_PREFIX": "bench-load",
                "SELFCARE_WORKER_THREADS": str(args.worker_threads),
            }
        )
        server = worker = None
        stop = threading.Event()
        try:
            seed_seconds = seed(env, args)
            for name in ("SELFCARE_REDIS_URL", "SELFCARE_ALLOWED_HOSTS", "SELFCARE_THROTTLE_KEY_PREFIX"):
                os.environ[name] = env[name]
            setup_django(url, workdir)
            subscribers, numbers, api_key = prepare_subscribers(args.users + 1)
            from django.db import connection, connections

            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                version = str(cursor.fetchone()[0])
            connections.close_all()

            worker = start_worker(env, args)
            server = start_server(env, args)
            # The baseline probe's subscriber signs in first, through the worker's SMS: both are warm.
            probe_user = User(args.users, subscribers[-1], args, Stats())
            probe_user.login()
            probe_cookie = "; ".join(f"{k}={v}" for k, v in probe_user.web.cookies.items())
            stats = Stats()
            # The last subscriber is the baseline probe's, signed in on its own.
            users = [User(i, sub, args, stats) for i, sub in enumerate(subscribers[:-1])]
            began_at = datetime.now(UTC)
            cpu_before = (tree_cpu_seconds(server.pid), tree_cpu_seconds(worker.pid))
            began = time.monotonic()
            stop_at = began + args.duration
            results: dict[str, Any] = {}
            threads = [
                threading.Thread(target=user.run, args=(stop_at, weights), daemon=True) for user in users
            ]
            usage_thread = threading.Thread(
                target=lambda: results.__setitem__(
                    "usage", usage_stream(args, api_key, numbers, stop, stats)
                ),
                daemon=True,
            )
            for thread in [*threads, usage_thread]:
                thread.start()
            probe_thread = threading.Thread(
                target=lambda: results.__setitem__(
                    "bare", bare_probe(args, probe_cookie, subscribers[-1].msisdn, stop)
                ),
                daemon=True,
            )
            probe_thread.start()
            for thread in threads:
                thread.join(timeout=max(1.0, stop_at - time.monotonic() + 120))
            time.sleep(max(0.0, stop_at - time.monotonic()))  # the usage stream runs its time even alone
            stop.set()
            usage_thread.join(timeout=60)
            probe_thread.join(timeout=30)
            load_seconds = time.monotonic() - began
            cpu_after = (tree_cpu_seconds(server.pid), tree_cpu_seconds(worker.pid))
            drain_deadline = time.monotonic() + args.drain
            for user in users:
                user.drain(drain_deadline)
            for user in users:
                user.web.close()
                user.app.close()
            counts = database_counts(began_at)
            connections.close_all()
            verified, verify_line = ledger_verify(env)
            worker_alive = worker.poll() is None
        finally:
            stop.set()
            # SIGTERM lets granian finish its requests; SIGINT is huey's graceful stop.
            for process, sig in ((server, signal.SIGTERM), (worker, signal.SIGINT)):
                if process is not None and process.poll() is None:
                    process.send_signal(sig)
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
            from django.db import connections

            connections.close_all()
            if not args.reuse:
                drop_postgres_database(url)
            clear_redis(args.redis_url)

    steps = {}
    for step in STEPS:
        values = stats.latencies[step]
        steps[step] = {
            "count": len(values),
            "per_s": round(len(values) / load_seconds, 2),
            "p50_ms": round(percentile(values, 0.50), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
            "errors": stats.errors[step],
            "refused": stats.refused[step],
        }
    usage = results.get("usage", {})
    bare = results.get("bare", {})
    home_p95 = steps["home"]["p95_ms"]
    web_cpu, worker_cpu = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
    user_steps = sum(steps[step]["count"] for step in STEPS if step != "topup_settled")
    usage_batches = usage.get("batches", 0) if usage else 0
    return {
        "engine": "postgres",
        "server_version": version,
        "mix": args.mix,
        "weights": weights,
        "users": args.users,
        "think_s": args.think,
        "duration_s": args.duration,
        "load_seconds": round(load_seconds, 1),
        "lines": args.lines,
        "days": args.days,
        "seed_seconds": round(seed_seconds, 1),
        "granian_workers": args.workers,
        "granian_threads": args.threads,
        "huey_threads": args.worker_threads,
        "requests": stats.requests,
        "requests_per_s": round(stats.requests / load_seconds, 1),
        "steps": steps,
        "errors": sum(stats.errors.values()),
        "error_samples": stats.error_samples,
        "usage": usage,
        "records_rated_per_s": round(counts["usage_records_rated"] / usage["seconds"], 1) if usage else 0.0,
        "database": counts,
        "bare": bare,
        "ratio_home_p95_to_bare_p95": round(home_p95 / bare["p95_ms"], 2) if bare.get("p95_ms") else None,
        "web_cpu_s": round(web_cpu, 1),
        "worker_cpu_s": round(worker_cpu, 1),
        "web_cpu_share_of_a_core": round(web_cpu / load_seconds, 2),
        "web_cpu_ms_per_request": round(1000 * web_cpu / stats.requests, 1) if stats.requests else None,
        "user_steps": user_steps,
        "usage_batches": usage_batches,
        "ledger_verify": verified,
        "ledger_verify_output": verify_line,
        "worker_alive_at_end": worker_alive,
    }


def print_result(result: dict[str, Any]) -> None:
    print(
        f"== PostgreSQL {result['server_version']} + Redis; demo {result['lines']:,} lines x "
        f"{result['days']} days (seeded in {result['seed_seconds']} s); "
        f"granian {result['granian_workers']} x "
        f"{result['granian_threads']} threads; 1 huey worker x {result['huey_threads']} threads"
    )
    print(
        f"   mix {result['mix']} {result['weights']}; {result['users']} users, think {result['think_s']} s; "
        f"{result['load_seconds']} s of load"
    )
    print(
        f"   {'step':<16}{'count':>7}{'/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'refused':>8}"
    )
    for step, row in result["steps"].items():
        print(
            f"   {step:<16}{row['count']:>7}{row['per_s']:>8.2f}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
            f"{row['p99_ms']:>9.1f}{row['errors']:>8}{row['refused']:>8}"
        )
    bare = result["bare"]
    print(
        f"   baseline bare view (probe, 2/s): {bare.get('requests', 0)} requests, "
        f"p50 {bare.get('p50_ms')} ms, "
        f"p95 {bare.get('p95_ms')} ms, p99 {bare.get('p99_ms')} ms, errors {bare.get('errors')}; "
        f"ratio home p95 / bare p95: {result['ratio_home_p95_to_bare_p95']}"
    )
    usage = result["usage"]
    print(
        f"   usage stream: offered {usage.get('offered_records_per_s')} records/s in batches of "
        f"{usage.get('batch')}; {usage.get('records_sent')} sent, {usage.get('accepted')} accepted, "
        f"{usage.get('rejected')} rejected, {usage.get('errors')} failed batches; batch p50 "
        f"{usage.get('batch_p50_ms')} ms, p95 {usage.get('batch_p95_ms')} ms, "
        f"p99 {usage.get('batch_p99_ms')} ms"
    )
    print(
        f"   records rated (counted in the database): {result['database']['usage_records_rated']:,} = "
        f"{result['records_rated_per_s']} records/s "
        f"({result['database']['usage_records_accepted']:,} accepted, the rest refused by rating)"
    )
    payments = ", ".join(f"{k[9:]} {v}" for k, v in result["database"].items() if k.startswith("payments_"))
    print(
        f"   all HTTP requests: {result['requests']:,} = {result['requests_per_s']} req/s; errors "
        f"{result['errors']}; payments {payments}"
    )
    print(
        f"   CPU during the load: web (granian tree) {result['web_cpu_s']} s = "
        f"{result['web_cpu_share_of_a_core']} of a core, "
        f"{result['web_cpu_ms_per_request']} ms per HTTP request "
        f"({result['user_steps']} user steps, {result['usage_batches']} usage batches); "
        f"worker {result['worker_cpu_s']} s"
    )
    verdict = "clean" if result["ledger_verify"] else "FAILED"
    print(f"   ledger verify: {verdict} ({result['ledger_verify_output']})")
    for sample in result["error_samples"]:
        print(f"   error: {sample}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = measure(args)
    print_result(result)
    print(json.dumps({"benchmark": "load_busy_hour", "machine": machine(), "results": [result]}))
    if not result["ledger_verify"]:
        raise SystemExit("ledger verify failed after the load")


if __name__ == "__main__":
    main()
