"""The contract between the notifications domain and an SMS gateway."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    segments: int = 1


class SmsSendError(Exception):
    """The gateway did not take the message.

    `permanent` errors (a refused number, a bad request) are not retried; everything else (network,
    timeouts, a busy SMSC, 5xx) is. The message must never contain the SMS text.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmsSender(Protocol):
    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        """Hand one message to the gateway; return its id there, or raise SmsSendError.

        `reference` is our stable id of the message (the same on every retry), for gateways that can
        use it to drop duplicates.
        """
        ...
