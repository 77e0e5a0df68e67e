"""Black-listed callers: refused while the Black list service is connected, and only then."""

from __future__ import annotations

import pytest

from selfcare.kit import clock
from selfcare.lines import services as lines
from selfcare.lines.models import BlackListEntry
from selfcare.usage import services
from tests.factories import TEST_ACTOR, fund, make_line, make_service
from tests.scenarios.conftest import at
from tests.usage.factories import make_payg_tariff, usage

pytestmark = pytest.mark.django_db

PEST = "+79161111111"
FRIEND = "+79162222222"


def test_black_listed_callers(zones, story):
    # Given a line with a black-listed number, and the Black list service connected at 09:00
    with story("2026-03-02T09:00:00"):
        line = make_line(tariff=make_payg_tariff(zones), msisdn="+79005556677")
        fund(line.account.ledger_account, 10_000)
        BlackListEntry.objects.create(line=line, msisdn=PEST, created_at=clock.now())
        black_list = make_service(kind="black_list")
        lines.connect_service(line, service=black_list, actor=TEST_ACTOR)

    # When calls and SMS arrive, one of them from before the service was on
    with story("2026-03-02T23:00:00"):
        result = services.rate_batch(
            [
                usage(line.msisdn, "voice_in", at("2026-03-02T08:30:00"), record_id="c0", duration_s=30,
                      counterparty=PEST),
                usage(line.msisdn, "voice_in", at("2026-03-02T10:00:00"), record_id="c1", duration_s=30,
                      counterparty=PEST),
                usage(line.msisdn, "sms_in", at("2026-03-02T10:01:00"), record_id="s1", counterparty=PEST),
                usage(line.msisdn, "voice_in", at("2026-03-02T10:02:00"), record_id="c2", duration_s=30,
                      counterparty=FRIEND),
                usage(line.msisdn, "voice_out", at("2026-03-02T10:03:00"), record_id="c3", duration_s=60,
                      counterparty=PEST),
            ]
        )  # fmt: skip

    # Then only what the listed number sends while the service is on is refused; calling it is fine
    assert [(r.status, r.reason, r.price_minor) for r in result.results] == [
        ("accepted", "", 0),
        ("rejected", "black_listed", 0),
        ("rejected", "black_listed", 0),
        ("accepted", "", 0),
        ("accepted", "", 250),
    ]

    # When the service is disconnected, the listed number gets through again
    with story("2026-03-03T09:00:00"):
        lines.disconnect_service(line, service=black_list, actor=TEST_ACTOR)
    with story("2026-03-03T23:00:00"):
        result = services.rate_batch(
            [usage(line.msisdn, "voice_in", at("2026-03-03T10:00:00"), record_id="c4", duration_s=30,
                   counterparty=PEST)]
        )  # fmt: skip
    assert [(r.status, r.reason) for r in result.results] == [("accepted", "")]
