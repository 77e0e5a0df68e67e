"""Fixtures of the notifications tests: an empty console store, test gateways, a real SMSC process."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from selfcare.notifications.senders.base import SendResult, SmsSendError

SMPP_SERVER = Path(__file__).with_name("smpp_server.py")
REFUSED_NUMBER = "989120000000"
# A bound on waiting for the SMSC, so a broken test fails instead of hanging; not a timing assertion.
EVENT_WAIT_S = 20


@pytest.fixture(autouse=True)
def empty_console_store() -> None:
    cache.clear()


class BusySender:
    """A gateway that is always temporarily unable to take messages."""

    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        raise SmsSendError("SMSC busy")


class RefusingSender:
    """A gateway that refuses the number for good."""

    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        raise SmsSendError("number refused", permanent=True)


class CrashingSender:
    """A gateway library that fails with its own exception, quoting what it was sending."""

    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        raise RuntimeError(f"cannot send {text!r}")


class FlakySender:
    """Fails the first try, then takes messages; remembers what it took across instances."""

    tries = 0
    delivered: list[tuple[str, str, str]] = []

    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        FlakySender.tries += 1
        if FlakySender.tries == 1:
            raise SmsSendError("connection reset")
        FlakySender.delivered.append((msisdn, text, reference))
        return SendResult(provider_message_id=f"flaky-{FlakySender.tries}")


@pytest.fixture
def flaky_sender(settings: Any) -> type[FlakySender]:
    FlakySender.tries = 0
    FlakySender.delivered = []
    settings.SELFCARE_SMS_BACKEND = "tests.notifications.conftest.FlakySender"
    return FlakySender


class GateSender:
    """Holds each send open until `release` is set (bounded), so a second delivery of the same message
    can run while the first is inside the gateway; remembers the references it took."""

    release = threading.Event()
    sent: list[str] = []

    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        GateSender.sent.append(reference)
        GateSender.release.wait(EVENT_WAIT_S)
        return SendResult(provider_message_id=f"gate-{len(GateSender.sent)}")


@pytest.fixture
def gate_sender(settings: Any) -> type[GateSender]:
    GateSender.release = threading.Event()
    GateSender.sent = []
    settings.SELFCARE_SMS_BACKEND = "tests.notifications.conftest.GateSender"
    return GateSender


class SmscProcess:
    """The SMSC child process and the JSON lines it prints, read by a thread so no wait is endless."""

    def __init__(self, port: int, process: subprocess.Popen[str]) -> None:
        self.port = port
        self.process = process
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.skipped: list[dict[str, Any]] = []

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def next_event(self, kind: str) -> dict[str, Any]:
        """The next event printed with key `kind` (others are kept for later calls)."""
        for event in self.skipped:
            if kind in event:
                self.skipped.remove(event)
                return event
        while True:
            event = self.lines.get(timeout=EVENT_WAIT_S)
            if kind in event:
                return event
            self.skipped.append(event)

    def pending_events(self) -> list[dict[str, Any]]:
        events = list(self.skipped)
        while not self.lines.empty():
            events.append(self.lines.get_nowait())
        return events


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smsc() -> Iterator[SmscProcess]:
    """A real SMPP 3.4 server (smpp34) in its own process on loopback."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(SMPP_SERVER), str(port), "--refuse", REFUSED_NUMBER],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    server = SmscProcess(port=port, process=process)
    try:
        assert server.next_event("ready") == {"ready": port}
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
