"""The SMPP gateway against a real SMPP 3.4 server process (smpp34) on loopback."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from selfcare.notifications import services
from selfcare.notifications.models import OutboundSms, SmsStatus
from selfcare.notifications.senders.base import SmsSendError
from selfcare.notifications.senders.smpp import SmppSender, source_address
from tests.notifications.conftest import REFUSED_NUMBER, SmscProcess

PERSIAN_OTP = "کد ورود شما به Selfcare Mobile: 583920. آن را به هیچ\u200cکس نگویید."


@pytest.fixture
def smpp_backend(settings: Any, smsc: SmscProcess) -> SmscProcess:
    settings.SELFCARE_SMS_BACKEND = "selfcare.notifications.senders.smpp.SmppSender"
    settings.SELFCARE_SMPP_HOST = "127.0.0.1"
    settings.SELFCARE_SMPP_PORT = smsc.port
    settings.SELFCARE_SMPP_SYSTEM_ID = "selfcare"
    settings.SELFCARE_SMPP_PASSWORD = "s3cret"
    settings.SELFCARE_SMPP_SOURCE_ADDR = "Selfcare"
    settings.SELFCARE_SMPP_TIMEOUT_S = 10
    return smsc


@pytest.mark.django_db(transaction=True)
def test_a_persian_otp_reaches_the_smsc_as_ucs2(smpp_backend: SmscProcess, caplog: Any) -> None:
    # given the SMPP gateway pointed at a real SMSC, and every logger at DEBUG
    caplog.set_level(logging.DEBUG)
    # when a Persian login code is queued and its job runs
    sms = services.queue_sms("+989121234567", template="otp.login", params={"code": "583920"}, language="fa")
    # then the SMSC got one UCS-2 submit_sm for the number, from the alphanumeric sender, with the text
    assert smpp_backend.next_event("bound") == {"bound": "selfcare"}
    assert smpp_backend.next_event("text") == {
        "source_addr": "Selfcare",
        "source_addr_ton": 5,
        "destination_addr": "989121234567",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "data_coding": 8,
        "segments": 1,
        "text": PERSIAN_OTP,
    }
    assert smpp_backend.next_event("unbound") == {"unbound": True}
    # and the row records the SMSC's message id without the text; no log line has the code
    sms.refresh_from_db()
    assert (sms.status, sms.text, sms.attempts, sms.provider_message_id) == (SmsStatus.SENT, "", 1, "msg-1")
    assert "583920" not in caplog.text


def test_a_long_russian_text_arrives_in_segments_that_join_up(smsc: SmscProcess) -> None:
    # given a Russian text of 200 characters (UCS-2: three segments of up to 67)
    text = ("Ваш пароль изменён. " * 10).strip()
    sender = SmppSender(
        host="127.0.0.1", port=smsc.port, system_id="esme", password="pw", source_addr="+79000000000"
    )
    # when it is sent
    result = sender.send("+79001234567", text)
    # then the SMSC got three submit_sm that join into the text, each with its own message id
    assert (result.segments, result.provider_message_id) == (3, "msg-1,msg-2,msg-3")
    received = smsc.next_event("text")
    assert (received["segments"], received["data_coding"], received["text"]) == (3, 8, text)
    assert (received["source_addr"], received["source_addr_ton"]) == ("79000000000", 1)


def test_a_latin_text_goes_as_gsm7(smsc: SmscProcess) -> None:
    # given an English code message / when sent / then data_coding 0 and the exact text
    sender = SmppSender(host="127.0.0.1", port=smsc.port, system_id="esme", password="pw", source_addr="636")
    sender.send("+79001234567", "Your code: 123456 [5 min] costs 0 €")
    received = smsc.next_event("text")
    assert (received["data_coding"], received["text"]) == (0, "Your code: 123456 [5 min] costs 0 €")
    assert (received["source_addr"], received["source_addr_ton"]) == ("636", 0)


def test_a_number_the_smsc_refuses_is_a_permanent_failure(smsc: SmscProcess) -> None:
    # given an SMSC that refuses one destination / when sending to it / then a permanent error, no text in it
    sender = SmppSender(host="127.0.0.1", port=smsc.port, system_id="esme", password="pw", source_addr="636")
    with pytest.raises(SmsSendError) as refused:
        sender.send(f"+{REFUSED_NUMBER}", "Your code: 123456")
    assert refused.value.permanent is True
    assert str(refused.value) == "SMSC refused: Invalid Destination Address (0x0000000B)"
    assert smsc.next_event("refused") == {"refused": REFUSED_NUMBER}


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_smsc_is_retried(settings: Any, smsc: SmscProcess) -> None:
    # given the SMPP gateway pointed at a port nobody listens on (the SMSC is stopped first)
    smsc.process.terminate()
    smsc.process.wait(timeout=10)
    settings.SELFCARE_SMS_BACKEND = "selfcare.notifications.senders.smpp.SmppSender"
    settings.SELFCARE_SMPP_PORT = smsc.port
    # when an SMS is queued / then the first try fails and the message waits for its retry
    sms = services.queue_sms("+79001234567", template="otp.login", params={"code": "123456"}, language="en")
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == (
        SmsStatus.QUEUED,
        1,
        "SmsSendError: SMSC unreachable: ConnectionError",
    )
    assert OutboundSms.objects.get().text != ""


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("+79001234567", (1, 1, "79001234567")),
        ("636", (0, 1, "636")),
        ("Selfcare Mobile", (5, 0, "Selfcare Mo")),
    ],
)
def test_source_address_kinds(sender: str, expected: tuple[int, int, str]) -> None:
    # given a sender setting / when mapped for submit_sm / then TON, NPI and an address of at most 11 letters
    assert source_address(sender) == expected
