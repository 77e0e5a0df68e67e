"""SMPP 3.4 gateway (smpplib): one short transmitter session per message.

bind_transmitter → submit_sm for each segment (reading each submit_sm_resp) → unbind. Holding no
connection between messages keeps the worker simple and stateless; OTP traffic is a few messages per
second at most, well inside what an SMSC accepts as binds. Segments of a long text share one UDH
reference so the handset joins them.
"""

from __future__ import annotations

import logging
import secrets

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp
from django.conf import settings

from selfcare.notifications.senders.base import SendResult, SmsSendError
from selfcare.notifications.senders.encoding import MessageTooLong, encode_sms

_LOGGER_NAME = "selfcare.notifications.smpplib"
# smpplib dumps every PDU in hex at DEBUG, which would put one-time codes into the logs when someone
# turns debug logging on. Its logger is capped at INFO whatever the global level.
logging.getLogger(_LOGGER_NAME).setLevel(logging.INFO)
_log = logging.getLogger(__name__)

TON_UNKNOWN, TON_INTERNATIONAL, TON_ALPHANUMERIC = 0x00, 0x01, 0x05
NPI_UNKNOWN, NPI_ISDN = 0x00, 0x01
# Refusals that another try cannot fix: the SMSC said the number or the sender is invalid.
PERMANENT_STATUSES = frozenset(
    {
        smpplib.consts.SMPP_ESME_RINVDSTADR,
        smpplib.consts.SMPP_ESME_RINVSRCADR,
        smpplib.consts.SMPP_ESME_RINVDSTTON,
        smpplib.consts.SMPP_ESME_RINVDSTNPI,
    }
)


def source_address(sender: str) -> tuple[int, int, str]:
    """TON, NPI and address for the sender: an international number, a short code, or a name."""
    if sender.startswith("+") and sender[1:].isdigit():
        return TON_INTERNATIONAL, NPI_ISDN, sender[1:]
    if sender.isdigit():
        return TON_UNKNOWN, NPI_ISDN, sender
    return TON_ALPHANUMERIC, NPI_UNKNOWN, sender[:11]


class SmppSender:
    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        system_id: str | None = None,
        password: str | None = None,
        system_type: str | None = None,
        source_addr: str | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.host = host if host is not None else settings.SELFCARE_SMPP_HOST
        self.port = port if port is not None else settings.SELFCARE_SMPP_PORT
        self.system_id = system_id if system_id is not None else settings.SELFCARE_SMPP_SYSTEM_ID
        self.password = password if password is not None else settings.SELFCARE_SMPP_PASSWORD
        self.system_type = system_type if system_type is not None else settings.SELFCARE_SMPP_SYSTEM_TYPE
        self.source_addr = source_addr if source_addr is not None else settings.SELFCARE_SMPP_SOURCE_ADDR
        self.timeout_s = timeout_s if timeout_s is not None else settings.SELFCARE_SMPP_TIMEOUT_S

    def send(self, msisdn: str, text: str, *, reference: str = "") -> SendResult:
        try:
            encoded = encode_sms(text, reference=secrets.randbelow(256))
        except MessageTooLong as exc:
            raise SmsSendError("text too long for 255 segments", permanent=True) from exc
        source_ton, source_npi, source = source_address(self.source_addr)
        client = smpplib.client.Client(
            self.host,
            self.port,
            timeout=self.timeout_s,
            logger_name=_LOGGER_NAME,
            allow_unknown_opt_params=True,
        )
        message_ids: list[str] = []
        try:
            client.connect()
            client.bind_transmitter(
                system_id=self.system_id, password=self.password, system_type=self.system_type
            )
            for part in encoded.parts:
                request = client.send_message(
                    source_addr_ton=source_ton,
                    source_addr_npi=source_npi,
                    source_addr=source,
                    dest_addr_ton=TON_INTERNATIONAL,
                    dest_addr_npi=NPI_ISDN,
                    destination_addr=msisdn.removeprefix("+"),
                    short_message=part,
                    data_coding=encoded.data_coding,
                    esm_class=encoded.esm_class,
                    registered_delivery=0,
                )
                message_ids.append(self._await_submit_resp(client, request.sequence))
            self._unbind_quietly(client)
        except smpplib.exceptions.PDUError as exc:
            status = int(exc.args[1]) if len(exc.args) > 1 else -1
            description = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
            raise SmsSendError(
                f"SMSC refused: {description} (0x{status & 0xFFFFFFFF:08X})",
                permanent=status in PERMANENT_STATUSES,
            ) from None
        except (smpplib.exceptions.ConnectionError, OSError) as exc:
            raise SmsSendError(f"SMSC unreachable: {type(exc).__name__}") from None
        finally:
            # The session is over whatever state smpplib believes it is in (it stays "bound" when the
            # SMSC hangs up instead of answering unbind); marking it open lets it close the socket
            # without a misleading warning, also after a failed connect.
            client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN
            client.disconnect()
        return SendResult(provider_message_id=",".join(message_ids), segments=len(encoded.parts))

    def _await_submit_resp(self, client: smpplib.client.Client, sequence: int) -> str:
        # The SMSC may slip an enquire_link in before our response; answer it and keep reading.
        while True:
            pdu = client.read_pdu()  # a silent SMSC raises TimeoutError (an OSError) after timeout_s
            if pdu.command == "enquire_link":
                client.send_pdu(
                    smpplib.smpp.make_pdu("enquire_link_resp", client=client, sequence=pdu.sequence)
                )
                continue
            if pdu.command in {"submit_sm_resp", "generic_nack"} and pdu.sequence == sequence:
                if pdu.is_error():
                    raise smpplib.exceptions.PDUError(pdu.command, int(pdu.status))
                return str(pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else pdu.message_id)

    def _unbind_quietly(self, client: smpplib.client.Client) -> None:
        # Every segment is accepted by now: a failed unbind (some SMSCs just close the socket instead
        # of answering) must not turn into a retry, which would deliver the message twice.
        try:
            client.unbind()
        except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError):
            _log.info("SMSC closed the session without unbind_resp")
