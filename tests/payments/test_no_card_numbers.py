"""SAQ A: no card number is ever kept. After top-ups with every test card (and a mistyped one),
a saved card and an autopay, no Luhn-valid 13-19 digit number is anywhere in the database or the
logs. ICCIDs (89...) carry a Luhn check digit by standard and are not card numbers: they are skipped.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client

from selfcare.payments import services
from selfcare.payments.providers.fake import acquirer
from tests.payments.conftest import deliver_all
from tests.payments.factories import DECLINE, INSUFFICIENT, SUCCESS, THREE_DS, make_subscriber
from tests.payments.test_views import pay_on_hosted_page, signed_in, start_on_page

pytestmark = pytest.mark.django_db(transaction=True)

DIGIT_RUNS = re.compile(r"(?<!\d)\d{13,19}(?!\d)")
# Hashes, tokens and ids written in hex (session keys, token hashes, request ids): a long one often holds
# 13 decimal digits in a row by chance, and one in ten of those passes the Luhn check. They are not
# card numbers, so they are taken out before the scan (a card number is never written inside one).
HEX_WORDS = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{20,}(?![0-9A-Za-z])")


def card_like_numbers(text: str) -> list[str]:
    text = HEX_WORDS.sub(" ", text)
    return [n for n in DIGIT_RUNS.findall(text) if acquirer.luhn_valid(n) and not n.startswith("89")]


def database_dump() -> str:
    rows: list[str] = []
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields]
        rows.extend(repr(row) for row in model._default_manager.values_list(*fields))
    return "\n".join(rows)


def test_no_card_number_reaches_the_database_or_the_logs(capfd: Any, caplog: Any):
    # (the scanner does find a card number when there is one, and passes over hex hashes and ICCIDs)
    assert card_like_numbers(f"pan={SUCCESS};iccid=8970100000000000018") == [SUCCESS]
    assert card_like_numbers(f"token_hash=ab{SUCCESS}cdef0123456789") == []

    # given a subscriber paying with every test card on the hosted page, saving one card
    user, line = make_subscriber()
    client: Client = signed_in(user)
    for card in (SUCCESS, DECLINE, INSUFFICIENT, THREE_DS, "4242 4242 4242 4241"):
        payment, _token = start_on_page(client, "100", save_card="on")
        answer = client.post(
            f"/fake-acquirer/pay/{payment.provider_payment_id}/",
            {"number": card, "expiry": "12/30", "cvc": "123"},
        )
        if answer.status_code == 302 and "challenge" in answer["Location"]:
            client.post(answer["Location"], {"action": "confirm"})
    pay_on_hosted_page(client, start_on_page(client, "100")[0], SUCCESS)
    deliver_all(client)
    services.set_autopay(
        user,
        card_id=user_card_id(user),
        threshold_minor=50_000,
        amount_minor=10_000,
        max_per_month=2,
        enabled=True,
        actor="test",
    )
    services.check_autopay(line.account_id)

    # then no card number is in any table, in what was logged, or in the data directory's files
    assert card_like_numbers(database_dump()) == []
    captured = capfd.readouterr()
    assert card_like_numbers(captured.out + captured.err + caplog.text) == []
    for path in settings.DATA_DIR.rglob("*.log"):
        assert card_like_numbers(path.read_text(errors="replace")) == [], path


def user_card_id(user: Any) -> int:
    from selfcare.payments.models import SavedCard

    return int(SavedCard.objects.filter(owner=user).values_list("pk", flat=True).first() or 0)
