"""The development and demo gateway: nothing leaves the machine.

It logs that a message went out (to whom and how long, never the text: it may hold a code) and keeps
the last messages for a short while in the cache, so that the /dev/sms page can show a person trying
the demo the code they were sent, and tests can read it. The database keeps no text after sending, so
this short-lived store is the only place the text lives on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.core.cache import BaseCache, caches

from selfcare.kit import clock
from selfcare.notifications.senders.base import SendResult

log = structlog.get_logger(__name__)

STORE_SIZE = 50
STORE_TTL_S = 600
_SEQUENCE_KEY = "notifications:console-sms:seq"
_MESSAGE_KEY = "notifications:console-sms:{slot}"


@dataclass(frozen=True)
class ConsoleMessage:
    sequence: int
    msisdn: str
    text: str
    sent_at: str  # ISO 8601, UTC

    @property
    def provider_message_id(self) -> str:
        return f"console-{self.sequence}"


# The file cache of the demo does get-then-set for incr; this keeps the worker's threads from taking
# the same slot. Several worker processes are only possible with Redis, whose incr is atomic.
_store_lock = threading.Lock()


def _store() -> BaseCache:
    return caches[settings.SELFCARE_SMS_CONSOLE_CACHE]


def store_message(msisdn: str, text: str) -> ConsoleMessage:
    store = _store()
    with _store_lock:
        store.add(_SEQUENCE_KEY, 0, timeout=None)
        sequence = int(store.incr(_SEQUENCE_KEY))
        message = ConsoleMessage(sequence=sequence, msisdn=msisdn, text=text, sent_at=clock.now().isoformat())
        store.set(
            _MESSAGE_KEY.format(slot=sequence % STORE_SIZE),
            {"sequence": sequence, "msisdn": msisdn, "text": text, "sent_at": message.sent_at},
            timeout=STORE_TTL_S,
        )
    return message


def recent_messages(limit: int = 20) -> list[ConsoleMessage]:
    """The newest messages first, at most `limit` (and at most STORE_SIZE), none older than the TTL."""
    store = _store()
    last = store.get(_SEQUENCE_KEY)
    if not last:
        return []
    wanted = range(int(last), max(int(last) - min(limit, STORE_SIZE), 0), -1)
    stored = store.get_many([_MESSAGE_KEY.format(slot=sequence % STORE_SIZE) for sequence in wanted])
    messages = []
    for sequence in wanted:
        entry = stored.get(_MESSAGE_KEY.format(slot=sequence % STORE_SIZE))
        # A slot may already hold a newer message (ring wrapped) or have expired.
        if entry and entry["sequence"] == sequence:
            messages.append(ConsoleMessage(**entry))
    return messages


def clear_messages() -> None:
    _store().delete_many([_SEQUENCE_KEY, *(_MESSAGE_KEY.format(slot=slot) for slot in range(STORE_SIZE))])


class ConsoleSender:
    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        message = store_message(msisdn, text)
        log.info("sms.console.sent", msisdn=msisdn, length=len(text), message_id=message.provider_message_id)
        return SendResult(provider_message_id=message.provider_message_id)
