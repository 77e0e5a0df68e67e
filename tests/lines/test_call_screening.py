"""GET /api/v1/network/call-screening: may a call from `caller` reach our line `callee`?

It answers with the rule the rating engine applies to incoming usage (usage/engine/rater.py): deny when
the callee has a Black list service connected and the caller on its list. Each scenario below is also
rated as an incoming call, and the two must agree.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from selfcare.catalog.models import FeePeriod, ServiceKind
from selfcare.identity.services import create_api_key
from selfcare.kit import clock
from selfcare.lines import queries
from selfcare.lines import services as lines_services
from selfcare.usage.services import rate_batch
from tests.factories import TEST_ACTOR, make_line, make_service
from tests.usage.factories import make_numbering, make_payg_tariff, usage

pytestmark = pytest.mark.django_db

SPAMMER = "+79161234567"
FRIEND = "+79161234568"
URL = "/api/v1/network/call-screening"


@pytest.fixture
def world(frozen_clock):
    zones = make_numbering()
    black_list = make_service(
        kind=ServiceKind.BLACK_LIST, fee_minor=150, fee_period=FeePeriod.DAILY, parameters={"capacity": 10}
    )
    line = make_line(tariff=make_payg_tariff(zones))
    lines_services.connect_service(line, service=black_list, actor=TEST_ACTOR)
    lines_services.add_black_list_entry(line, number=SPAMMER, actor=TEST_ACTOR)
    _, key = create_api_key(name="msc", scopes=["screening:read"], actor=TEST_ACTOR)
    return {"line": line, "black_list": black_list, "key": key, "zones": zones}


def screen(client: Client, key: str | None, caller: str, callee: str) -> object:
    headers = {"X-API-Key": key} if key else {}
    return client.get(URL, {"caller": caller, "callee": callee}, headers=headers)


def rated_reason(line, caller: str) -> str:
    """What the rating engine does with an incoming call from `caller` to the line, started now."""
    result = rate_batch([usage(line.msisdn, "voice_in", clock.now(), duration_s=60, counterparty=caller)])
    return result.results[0].reason or result.results[0].status


def test_a_key_with_the_screening_scope_is_required(client: Client, world):
    _, usage_key = create_api_key(name="mediation", scopes=["usage:write"], actor=TEST_ACTOR)
    answers = [
        screen(client, None, SPAMMER, world["line"].msisdn),
        screen(client, "sk_nope_nope", SPAMMER, world["line"].msisdn),
        screen(client, usage_key, SPAMMER, world["line"].msisdn),
    ]
    assert [a.status_code for a in answers] == [401, 401, 403]
    assert all(a["Content-Type"] == "application/problem+json" for a in answers)


def test_a_black_listed_caller_is_denied_and_others_allowed_like_the_rating_engine(client: Client, world):
    line = world["line"]

    # When the network asks about the black-listed caller (written without '+') and another one
    denied = screen(client, world["key"], SPAMMER[1:], line.msisdn)
    allowed = screen(client, world["key"], FRIEND, line.msisdn)

    # Then the first is denied and the second allowed, and rating the same calls agrees
    assert (denied.status_code, denied.json()) == (
        200,
        {"decision": "deny", "reason": "black_listed", "caller": SPAMMER, "callee": line.msisdn},
    )
    assert allowed.json()["decision"] == "allow"
    assert (rated_reason(line, SPAMMER), rated_reason(line, FRIEND)) == ("black_listed", "accepted")


def test_a_switched_off_black_list_lets_every_caller_through_though_its_numbers_are_kept(
    client: Client, world
):
    line = world["line"]
    lines_services.disconnect_service(line, service=world["black_list"], actor=TEST_ACTOR)
    clock.advance(timedelta(minutes=1))
    assert queries.count_black_list(line.pk) == 1

    assert screen(client, world["key"], SPAMMER, line.msisdn).json()["decision"] == "allow"
    assert rated_reason(line, SPAMMER) == "accepted"

    # and connecting it again brings the kept number back into force
    lines_services.connect_service(line, service=world["black_list"], actor=TEST_ACTOR)
    assert screen(client, world["key"], SPAMMER, line.msisdn).json()["decision"] == "deny"
    assert rated_reason(line, SPAMMER) == "black_listed"


def test_the_list_of_another_line_does_not_count(client: Client, world):
    other = make_line(tariff=make_payg_tariff(world["zones"]))
    assert screen(client, world["key"], SPAMMER, other.msisdn).json()["decision"] == "allow"
    assert rated_reason(other, SPAMMER) == "accepted"


def test_a_hidden_caller_is_allowed_and_an_unusable_callee_is_refused(client: Client, world):
    line = world["line"]
    hidden = screen(client, world["key"], "", line.msisdn)
    assert (hidden.status_code, hidden.json()["decision"], hidden.json()["caller"]) == (200, "allow", "")
    bad = screen(client, world["key"], SPAMMER, "not-a-number")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_number")


def test_the_decision_is_one_query(client: Client, world, django_assert_num_queries):
    line = world["line"]
    # The decision itself: one query.
    with django_assert_num_queries(1):
        assert queries.is_call_screened(caller=SPAMMER, callee=line.msisdn, at=clock.now())
    with django_assert_num_queries(1):
        assert not queries.is_call_screened(caller=FRIEND, callee=line.msisdn, at=clock.now())
    # The whole request: the API key, then the decision.
    with django_assert_num_queries(2):
        assert screen(client, world["key"], SPAMMER, line.msisdn).json()["decision"] == "deny"
