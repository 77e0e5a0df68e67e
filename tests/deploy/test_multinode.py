"""Two web nodes and two workers on PostgreSQL and Redis; one of each is killed (SIGKILL) under load.

The deployment of docs/deploy.md in miniature, on this machine: two granian processes (web nodes A
and B) and two huey consumers (workers A and B), all on this test's PostgreSQL database and a Redis
database of their own; a small TCP proxy in front of the two web nodes is the address the fake
acquirer posts its webhooks to (SELFCARE_PUBLIC_URL), as a reverse proxy would be.

The clients act as a proxy does for their own requests: each request goes to the nodes in turn, and
one that fails in transport (refused, reset, timed out) is sent again, unchanged, to the other node.
Every request here may be repeated: top-ups carry an Idempotency-Key, the card page's submission acts
once per payment, usage records are unique by source and record id, page views only read.

Mid-load, web node A and worker A are killed with SIGKILL (their whole process groups: granian's
workers and huey's threads die with them), and a webhook delivery job is taken off the Redis queue
and dropped, as a worker killed right after dequeuing it would drop it (huey's Redis queue has no
acknowledgement: a dequeued job lives only in the worker that took it). The load goes on against
the survivors. Then:

- every top-up the client saw acknowledged (201 for the payment, 302 from the card page) is paid
  and credited exactly once (one payment per Idempotency-Key, one ledger credit per payment);
- every usage record the client saw acknowledged is stored exactly once;
- every page view was answered 200 (after at most one retry on the other node);
- the delivery job taken off the queue did not lose its work: each delivery job sends every
  notification that is due, so the next job on the surviving worker sends the dropped one's too (and
  a periodic sweep every minute would, were no other job coming);
- `selfcare ledger verify` (a subprocess) is clean.

Bounded: about a minute on a quiet machine, 90 s at most; it runs on the PostgreSQL pass only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from selfcare.identity.models import User
from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.services import create_api_key, issue_api_tokens
from selfcare.ledger.models import Transaction
from selfcare.payments.models import Payment
from selfcare.usage.models import UsageRecord
from tests.conftest import require_service
from tests.factories import TEST_ACTOR, fund, make_line
from tests.usage.factories import make_bundle_tariff, make_numbering

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "127.0.0.1"
REDIS_BASE = "redis://127.0.0.1:6379"
QUEUE_KEY = "huey.redis.selfcare"
DELIVERY_JOB = "selfcare.payments.tasks.deliver_fake_webhooks"
CLAIM_KEY = "selfcare-test-multinode-claim"
SUBSCRIBERS = 4
BEFORE_KILL_S = 6.0
AFTER_KILL_S = 8.0
SETTLE_S = 30.0
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def claim_redis_db() -> int | None:
    """A Redis database nobody uses (empty), claimed with a marker key for the test's duration."""
    for number in range(15, 0, -1):
        try:
            with redis.Redis.from_url(f"{REDIS_BASE}/{number}", socket_connect_timeout=1) as client:
                if (
                    client.dbsize() == 0
                    and client.set(CLAIM_KEY, "1", nx=True, ex=300)
                    and client.dbsize() == 1
                ):
                    return number
        except redis.RedisError:
            return None
    return None


# --- The proxy in front of the web nodes (the webhooks' address) ------------------------------------------


class FailoverProxy:
    """Accepts on a port and pipes each connection to the first web node that accepts it, in turn."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self.turn = 0
        self.listener = socket.create_server((HOST, self.port))
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                inbound, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(inbound,), daemon=True).start()

    def _serve(self, inbound: socket.socket) -> None:
        self.turn += 1
        for offset in range(len(self.backends)):
            port = self.backends[(self.turn + offset) % len(self.backends)]
            try:
                outbound = socket.create_connection((HOST, port), timeout=5)
                break
            except OSError:
                continue
        else:
            inbound.close()
            return
        outbound.settimeout(None)

        def pipe(source: socket.socket, target: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    target.sendall(data)
            except OSError:
                pass
            finally:
                for end in (source, target):
                    with contextlib.suppress(OSError):
                        end.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=pipe, args=(outbound, inbound), daemon=True)
        back.start()
        pipe(inbound, outbound)
        back.join(timeout=30)
        inbound.close()
        outbound.close()

    def close(self) -> None:
        self.listener.close()


# --- A client that fails over between the nodes ------------------------------------------------------------


class Nodes:
    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.lock = threading.Lock()
        self.failovers = 0
        self.served_after_kill: dict[int, int] = {port: 0 for port in ports}
        self.killed = threading.Event()

    def request(
        self, start: int, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send to node `start`, then once to the other node if the transport fails."""
        for attempt in range(2):
            port = self.ports[(start + attempt) % len(self.ports)]
            conn = http.client.HTTPConnection(HOST, port, timeout=20)
            try:
                conn.request(method, path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            except OSError:
                with self.lock:
                    self.failovers += 1
                continue
            finally:
                conn.close()
            if self.killed.is_set():
                with self.lock:
                    self.served_after_kill[port] += 1
            return answer.status, answer.getheaders(), data
        raise AssertionError(f"{method} {path}: no node answered")


# --- The scene ----------------------------------------------------------------------------------------


@pytest.fixture
def redis_db() -> Iterator[int]:
    number = claim_redis_db()
    require_service("Redis at 127.0.0.1:6379 with an empty database", number is not None)
    assert number is not None
    yield number
    with redis.Redis.from_url(f"{REDIS_BASE}/{number}") as client:
        keys = list(client.scan_iter(count=1000))
        if keys:
            client.delete(*keys)


def seed_operator() -> dict[str, Any]:
    """Subscribers with funded lines, their app tokens and browser sessions, and a network API key."""
    zones = make_numbering()
    tariff = make_bundle_tariff(zones, voice_s=600)
    app = ServiceClient(ip="192.0.2.40", user_agent="multinode", language="en")
    subscribers = []
    for index in range(SUBSCRIBERS):
        line = make_line(tariff=tariff, msisdn=f"+7900700000{index}")
        fund(line.account.ledger_account, 100_000)
        user = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn, language="en")
        token = issue_api_tokens(user, device_id=f"device-{index}", client=app, method="test").access_token
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        subscribers.append(
            {
                "msisdn": line.msisdn,
                "token": token,
                "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
            }
        )
    _key, api_key = create_api_key(name="msc", scopes=["usage:write"], actor=TEST_ACTOR)
    return {"subscribers": subscribers, "api_key": api_key}


def database_url() -> str:
    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or HOST
    port = params.get("PORT") or 5432
    return f"postgres://{params.get('USER') or 'postgres'}{password}@{host}:{port}/{params['NAME']}"


def process_env(redis_db: int, data_dir: Path, public_port: int) -> dict[str, str]:
    env = os.environ.copy()
    for name in ("SELFCARE_TASKS_IMMEDIATE", "SELFCARE_DEMO", "SELFCARE_DEBUG", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "selfcare.settings",
            "SELFCARE_DATABASE_URL": database_url(),
            "SELFCARE_REDIS_URL": f"{REDIS_BASE}/{redis_db}",
            "SELFCARE_DATA_DIR": str(data_dir),
            "SELFCARE_SECRET_KEY": settings.SECRET_KEY,
            "SELFCARE_ALLOWED_HOSTS": HOST,
            "SELFCARE_PUBLIC_URL": f"http://{HOST}:{public_port}",
            "SELFCARE_INSECURE_HTTP": "1",
            "SELFCARE_LOG_LEVEL": "WARNING",
            "SELFCARE_PAYMENT_BACKEND": "fake",
        }
    )
    return env


def start_web(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "selfcare.wsgi:application",
        "--host", HOST, "--port", str(port), "--workers", "1", "--blocking-threads", "2",
        "--no-ws", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, start_new_session=True)


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "selfcare.cli", "run_huey", "--workers", "2", "--quiet"]
    return subprocess.Popen(command, env=env, start_new_session=True)


def wait_ready(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert process.poll() is None, f"web node on {port} exited with {process.returncode}"
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise AssertionError(f"web node on {port} not ready in time")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop_group(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=15)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --- The load ----------------------------------------------------------------------------------------------


class Load:
    def __init__(self, nodes: Nodes, seeded: dict[str, Any]) -> None:
        self.nodes = nodes
        self.seeded = seeded
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked_topups: dict[str, str] = {}  # Idempotency-Key -> payment id
        self.acked_records: set[str] = set()
        self.pages_ok = 0
        self.failures: list[str] = []
        self.turn = 0

    def next_node(self) -> int:
        with self.lock:
            self.turn += 1
            return self.turn

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)

    def topups(self, index: int) -> None:
        subscriber = self.seeded["subscribers"][index]
        auth = {"Authorization": f"Bearer {subscriber['token']}", "Content-Type": "application/json"}
        while not self.stop.is_set():
            key = f"multinode-{uuid.uuid4().hex}"
            status, _h, body = self.nodes.request(
                self.next_node(), "POST", "/api/v1/payments/topups",
                body=json.dumps({"amount_minor": 10_000}).encode(), headers={**auth, "Idempotency-Key": key},
            )  # fmt: skip
            if status != 201:
                self.fail(f"topup {status} {body[:200]!r}")
                continue
            payment = json.loads(body)
            path = "/" + payment["confirmation_url"].split("/", 3)[3]
            node = self.next_node()
            status, headers, page = self.nodes.request(node, "GET", path, headers={})
            found = CSRF_INPUT.search(page)
            cookie = next(
                (
                    v.split(";", 1)[0]
                    for k, v in headers
                    if k.lower() == "set-cookie" and v.startswith("csrftoken=")
                ),
                "",
            )
            if status != 200 or found is None:
                self.fail(f"card page {status}")
                continue
            form = {"csrfmiddlewaretoken": found.group(1).decode(), "number": "4242424242424242",
                    "expiry": "12/40", "cvc": "123"}  # fmt: skip
            status, _h, _page = self.nodes.request(
                node, "POST", path, body=urlencode(form).encode(),
                headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            )  # fmt: skip
            if status != 302:
                self.fail(f"card submission {status}")
                continue
            with self.lock:
                self.acked_topups[key] = payment["id"]

    def usage(self) -> None:
        numbers = [s["msisdn"] for s in self.seeded["subscribers"]]
        headers = {"X-API-Key": self.seeded["api_key"], "Content-Type": "application/json"}
        batch = 0
        while not self.stop.is_set():
            batch += 1
            records = [
                {"source": "msc-multinode", "record_id": f"b{batch}-{i}", "kind": "sms_out",
                 "msisdn": numbers[i % len(numbers)], "started_at": "2026-03-02T08:30:00+03:00",
                 "counterparty": "+79161234567"}
                for i in range(20)
            ]  # fmt: skip
            status, _h, body = self.nodes.request(
                self.next_node(), "POST", "/api/v1/network/usage",
                body=json.dumps({"records": records}).encode(), headers=headers,
            )  # fmt: skip
            answer = json.loads(body) if status == 200 else {}
            if status != 200 or answer["accepted"] + answer["duplicates"] != len(records):
                self.fail(f"usage {status} {body[:200]!r}")
                continue
            with self.lock:
                self.acked_records.update(r["record_id"] for r in records)
            time.sleep(0.2)

    def pages(self) -> None:
        cookies = [s["cookie"] for s in self.seeded["subscribers"]]
        while not self.stop.is_set():
            cookie = cookies[self.next_node() % len(cookies)]
            status, _h, _page = self.nodes.request(
                self.next_node(), "GET", "/home/", headers={"Cookie": cookie}
            )
            if status != 200:
                self.fail(f"home {status}")
                continue
            with self.lock:
                self.pages_ok += 1
            time.sleep(0.1)


def drop_one_job(redis_url: str, name: str, until: float) -> str:
    """Take one job of `name` off the queue and drop it, as a worker killed right after dequeuing it
    would; other jobs taken meanwhile go back to the head of the queue, to be taken next."""
    from huey.serializer import Serializer

    with redis.Redis.from_url(redis_url) as client:
        while time.monotonic() < until:
            taken = client.brpop([QUEUE_KEY], timeout=1)
            if taken is None:
                continue
            if Serializer().deserialize(taken[1]).name == name:
                return name
            client.rpush(QUEUE_KEY, taken[1])
    return ""


def test_killing_a_web_node_and_a_worker_loses_no_acknowledged_work(redis_db, tmp_path):
    require_service("PostgreSQL", connection.vendor == "postgresql")
    started = time.monotonic()
    # Given the operator's data, two web nodes behind a proxy and two workers, on PostgreSQL and Redis
    seeded = seed_operator()
    web_ports = [free_port(), free_port()]
    proxy = FailoverProxy(web_ports)
    env = process_env(redis_db, tmp_path, proxy.port)
    webs = [start_web(env, port) for port in web_ports]
    workers = [start_worker(env), start_worker(env)]
    load: Load | None = None
    threads: list[threading.Thread] = []
    try:
        for port, web in zip(web_ports, webs, strict=True):
            wait_ready(port, web, time.monotonic() + 40)
        ready_s = time.monotonic() - started
        nodes = Nodes(web_ports)
        load = Load(nodes, seeded)
        threads = [
            *(threading.Thread(target=load.topups, args=(i,), daemon=True) for i in range(SUBSCRIBERS - 1)),
            threading.Thread(target=load.usage, daemon=True),
            threading.Thread(target=load.pages, daemon=True),
        ]
        for thread in threads:
            thread.start()
        time.sleep(BEFORE_KILL_S)
        before_kill = (len(load.acked_topups), len(load.acked_records), load.pages_ok)

        # When web node A and worker A are killed mid-load, and a job is lost as a killed worker loses it
        kill_group(webs[0])
        kill_group(workers[0])
        killed_at = time.monotonic()
        nodes.killed.set()
        dropped = drop_one_job(env["SELFCARE_REDIS_URL"], DELIVERY_JOB, killed_at + AFTER_KILL_S / 2)
        time.sleep(max(0.0, killed_at + AFTER_KILL_S - time.monotonic()))
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)

        # Then every acknowledged top-up gets paid (the surviving worker delivers the webhooks)
        keys = dict(load.acked_topups)
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            statuses = set(
                Payment.objects.filter(public_id__in=list(keys.values())).values_list("status", flat=True)
            )
            if statuses == {"succeeded"}:
                break
            time.sleep(0.5)
        settled_s = time.monotonic() - killed_at - AFTER_KILL_S
        ledger_verify = subprocess.run(
            [sys.executable, "-m", "selfcare.cli", "ledger", "verify"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        if load is not None:
            load.stop.set()
        for thread in threads:
            thread.join(timeout=10)
        for web in webs:
            stop_group(web, signal.SIGTERM)
        for worker in workers:
            stop_group(worker, signal.SIGINT)
        proxy.close()

    payments = list(Payment.objects.filter(public_id__in=list(keys.values())))
    credits = Transaction.objects.filter(
        idempotency_key__in=[f"payment:fake:{p.provider_payment_id}" for p in payments]
    ).count()
    stored = set(
        UsageRecord.objects.filter(source="msc-multinode").values_list("source_record_id", flat=True)
    )
    report = {
        "topups_acknowledged": len(keys),
        "topups_paid": sum(1 for p in payments if p.status == "succeeded"),
        "ledger_credits": credits,
        "records_acknowledged": len(load.acked_records),
        "records_stored": len(stored),
        "pages_ok": load.pages_ok,
        "acknowledged_before_kill": before_kill,
        "failovers": nodes.failovers,
        "served_after_kill": {
            "A": nodes.served_after_kill[web_ports[0]],
            "B": nodes.served_after_kill[web_ports[1]],
        },
        "dropped_job": dropped,
        "ledger_verify": ledger_verify.stdout.strip(),
        "ready_s": round(ready_s, 1),
        "settled_after_load_s": round(settled_s, 1),
        "seconds": round(elapsed, 1),
    }
    print(json.dumps({"multinode": report}))
    assert load.failures == []
    assert all(count > 0 for count in before_kill), report
    assert webs[0].returncode == -signal.SIGKILL
    assert workers[0].returncode == -signal.SIGKILL
    # the survivors served everything after the kill
    assert report["served_after_kill"]["A"] == 0, report
    assert report["served_after_kill"]["B"] > 0, report
    # one payment per acknowledged key, each paid and credited exactly once
    assert len(payments) == len(keys) == report["topups_paid"] == credits, report
    per_key: dict[str, int] = {}
    for request_key in Payment.objects.filter(request_key__contains=":multinode-").values_list(
        "request_key", flat=True
    ):
        per_key[request_key.rsplit(":", 1)[1]] = per_key.get(request_key.rsplit(":", 1)[1], 0) + 1
    assert all(per_key.get(key) == 1 for key in keys), report
    # every acknowledged record stored exactly once (unique by source and record id)
    assert load.acked_records <= stored, report
    assert UsageRecord.objects.filter(source="msc-multinode").count() == len(stored)
    # the job taken off the queue lost nothing: its work was done by a later one on the survivor
    assert dropped == DELIVERY_JOB, report
    assert ledger_verify.returncode == 0, ledger_verify.stdout + ledger_verify.stderr
    assert ledger_verify.stdout.startswith("ledger verify: OK"), ledger_verify.stdout
