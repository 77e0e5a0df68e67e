"""The console gateway's short-lived store of sent texts, read by /dev/sms and by tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.cache.backends.filebased import FileBasedCache

from selfcare.notifications.senders.console import STORE_SIZE, ConsoleSender, recent_messages


def test_console_sender_keeps_the_text_and_names_the_message() -> None:
    # given an empty store / when the console gateway sends two messages
    first = ConsoleSender().send("+79001234567", "one")
    second = ConsoleSender().send("+989121234567", "two", reference="sms-2")
    # then both are readable, newest first, with the ids the gateway returned
    assert (first.provider_message_id, second.provider_message_id) == ("console-1", "console-2")
    assert [(m.msisdn, m.text, m.provider_message_id) for m in recent_messages()] == [
        ("+989121234567", "two", "console-2"),
        ("+79001234567", "one", "console-1"),
    ]


def test_the_store_is_bounded_and_keeps_the_newest() -> None:
    # given more messages than the store holds
    for number in range(1, STORE_SIZE + 6):
        ConsoleSender().send("+79001234567", f"message {number}")
    # when reading more than it holds / then only the newest STORE_SIZE are there, newest first
    texts = [m.text for m in recent_messages(limit=STORE_SIZE + 20)]
    assert len(texts) == STORE_SIZE == 50
    assert texts[0] == "message 55"
    assert texts[-1] == "message 6"
    # and a smaller limit gives the newest few
    assert [m.text for m in recent_messages(limit=3)] == ["message 55", "message 54", "message 53"]


def test_the_demo_store_is_files_that_another_process_can_read(settings: Any, tmp_path: Path) -> None:
    # given the store the demo uses without Redis (the worker writes, the web process reads)
    settings.CACHES = {
        **settings.CACHES,
        "sms_console": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "dev-sms"),
        },
    }
    settings.SELFCARE_SMS_CONSOLE_CACHE = "sms_console"
    # when the console gateway sends
    ConsoleSender().send("+79001234567", "Your code: 777888")
    # then the message is in files, read back by a cache object that shares nothing but the directory
    reader = FileBasedCache(str(tmp_path / "dev-sms"), {})
    assert reader.get("notifications:console-sms:seq") == 1
    assert reader.get("notifications:console-sms:1")["text"] == "Your code: 777888"
    assert [m.text for m in recent_messages()] == ["Your code: 777888"]
