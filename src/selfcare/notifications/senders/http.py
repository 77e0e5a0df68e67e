"""A generic JSON-over-HTTPS SMS provider, for aggregators without SMPP.

    POST <SELFCARE_SMS_HTTP_URL>
    Content-Type: application/json
    X-Selfcare-Timestamp: <unix seconds>
    X-Selfcare-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under SELFCARE_SMS_HTTP_SECRET>

    {"id": "sms-42", "to": "+79001234567", "sender": "Selfcare", "text": "..."}

The timestamp is inside the signed bytes so a captured request cannot be replayed later; `id` is the
same on every retry so the provider can drop duplicates. A 2xx answer may carry {"id": "<theirs>"}.
5xx, 408, 429 and network errors are retried by the send job (with backoff); other 4xx are final.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from selfcare.kit import clock
from selfcare.kit.signing import sign
from selfcare.notifications.senders.base import SendResult, SmsSendError

TIMESTAMP_HEADER = "X-Selfcare-Timestamp"
SIGNATURE_HEADER = "X-Selfcare-Signature"
RETRYABLE_STATUSES = frozenset({408, 425, 429})


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + sign(secret, timestamp.encode() + b"." + body)


class HttpSender:
    def __init__(
        self,
        *,
        url: str | None = None,
        secret: str | None = None,
        sender_name: str | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.url = url if url is not None else settings.SELFCARE_SMS_HTTP_URL
        self.secret = secret if secret is not None else settings.SELFCARE_SMS_HTTP_SECRET
        self.sender_name = sender_name if sender_name is not None else settings.SELFCARE_SMS_SENDER_NAME
        self.timeout_s = timeout_s if timeout_s is not None else settings.SELFCARE_SMS_HTTP_TIMEOUT_S
        if urlsplit(self.url).scheme not in {"http", "https"} or not self.secret:
            # Checked here so that a misconfiguration fails the first send loudly, not silently.
            raise SmsSendError("SELFCARE_SMS_HTTP_URL (http/https) and SELFCARE_SMS_HTTP_SECRET are required")

    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        body = json.dumps(
            {"id": reference, "to": msisdn, "sender": self.sender_name, "text": text},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(clock.now().timestamp()))
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature_for(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                answer = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            exc.close()
            retryable = exc.code >= 500 or exc.code in RETRYABLE_STATUSES
            raise SmsSendError(f"provider answered HTTP {exc.code}", permanent=not retryable) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsSendError(f"provider unreachable: {type(exc).__name__}") from None
        return SendResult(provider_message_id=_provider_id(answer) or reference)


def _provider_id(answer: bytes) -> str:
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        return ""
    provider_id = parsed.get("id") if isinstance(parsed, dict) else None
    return str(provider_id) if provider_id else ""
