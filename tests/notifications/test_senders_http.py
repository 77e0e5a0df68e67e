"""The HTTP gateway against a local HTTP server that checks the signature like a provider would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from selfcare.kit.signing import verify
from selfcare.notifications import services
from selfcare.notifications.models import SmsStatus
from selfcare.notifications.senders.base import SmsSendError
from selfcare.notifications.senders.http import HttpSender
from tests.notifications.test_services import run_scheduled_retries

SECRET = "provider-shared-secret"


class Provider(ThreadingHTTPServer):
    """Answers each POST with the next planned status (then 200), after checking the signature."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.planned_statuses: list[int] = []
        self.received: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"


class ProviderHandler(BaseHTTPRequestHandler):
    server: Provider

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers["X-Selfcare-Timestamp"]
        signature = self.headers["X-Selfcare-Signature"].removeprefix("sha256=")
        signed = verify(SECRET, timestamp.encode() + b"." + body, signature)
        request = {"signed": signed, "timestamp": timestamp, "type": self.headers["Content-Type"]}
        self.server.received.append({**request, **json.loads(body)})
        planned = self.server.planned_statuses
        status = 401 if not signed else (planned.pop(0) if planned else 200)
        answer = json.dumps({"id": f"prov-{len(self.server.received)}"} if status == 200 else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
        return


@pytest.fixture
def provider() -> Iterator[Provider]:
    server = Provider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def http_backend(settings: Any, provider: Provider) -> Provider:
    settings.SELFCARE_SMS_BACKEND = "selfcare.notifications.senders.http.HttpSender"
    settings.SELFCARE_SMS_HTTP_URL = provider.url
    settings.SELFCARE_SMS_HTTP_SECRET = SECRET
    settings.SELFCARE_SMS_SENDER_NAME = "Selfcare"
    return provider


@pytest.mark.django_db(transaction=True)
def test_a_signed_request_delivers_the_message(http_backend: Provider, frozen_clock: Any) -> None:
    # given the HTTP gateway and a provider that checks signatures / when an SMS is queued
    sms = services.queue_sms("+79001234567", template="otp.login", params={"code": "161803"}, language="en")
    # then the provider got one correctly signed JSON request with our stable id and the text
    assert http_backend.received == [
        {
            "signed": True,
            "timestamp": str(int(frozen_clock.now().timestamp())),
            "type": "application/json; charset=utf-8",
            "id": f"sms-{sms.pk}",
            "to": "+79001234567",
            "sender": "Selfcare",
            "text": "Your Selfcare Mobile sign-in code: 161803. Do not tell it to anyone.",
        }
    ]
    sms.refresh_from_db()
    assert (sms.status, sms.provider_message_id, sms.text) == (SmsStatus.SENT, "prov-1", "")


@pytest.mark.django_db(transaction=True)
def test_a_5xx_answer_is_retried_with_the_same_id(http_backend: Provider) -> None:
    # given a provider that answers 503 once / when an SMS is queued and its retry runs
    http_backend.planned_statuses = [503]
    sms = services.queue_sms("+79001234567", template="otp.login", params={"code": "161803"}, language="ru")
    assert run_scheduled_retries() == 1
    # then the second request carried the same id (so the provider can drop a duplicate) and succeeded
    assert [request["id"] for request in http_backend.received] == [f"sms-{sms.pk}", f"sms-{sms.pk}"]
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.provider_message_id) == (SmsStatus.SENT, 2, "prov-2")
    assert sms.last_error == "SmsSendError: provider answered HTTP 503"


def test_a_4xx_answer_is_final(provider: Provider) -> None:
    # given a provider that rejects the request / when sending / then a permanent error
    provider.planned_statuses = [400]
    sender = HttpSender(url=provider.url, secret=SECRET, sender_name="Selfcare", timeout_s=5)
    with pytest.raises(SmsSendError) as rejected:
        sender.send("+79001234567", "text", reference="sms-1")
    assert (str(rejected.value), rejected.value.permanent) == ("provider answered HTTP 400", True)


def test_a_wrong_secret_is_refused_by_the_provider(provider: Provider) -> None:
    # given a sender whose secret differs from the provider's / when sending
    sender = HttpSender(url=provider.url, secret="not-the-secret", sender_name="Selfcare", timeout_s=5)
    with pytest.raises(SmsSendError) as refused:
        sender.send("+79001234567", "text", reference="sms-1")
    # then the provider saw a bad signature and answered 401, which is final
    assert [request["signed"] for request in provider.received] == [False]
    assert (str(refused.value), refused.value.permanent) == ("provider answered HTTP 401", True)


def test_missing_configuration_fails_loudly() -> None:
    # given no URL / when the sender is built / then it says what is missing
    with pytest.raises(SmsSendError, match="SELFCARE_SMS_HTTP_URL"):
        HttpSender(url="", secret=SECRET)
