"""POST /api/v1/network/usage: API key with the usage:write scope, per-record results, safe resends,
and buckets and balance updated before the response returns."""

from __future__ import annotations

import json

import pytest

from selfcare.identity.services import create_api_key
from selfcare.ledger.queries import get_balance_minor
from selfcare.usage import queries
from selfcare.usage.models import UsageRecord
from tests.factories import TEST_ACTOR, fund, make_line
from tests.usage.factories import make_bundle_tariff, make_numbering

pytestmark = pytest.mark.django_db

URL = "/api/v1/network/usage"


@pytest.fixture
def line(frozen_clock):
    zones = make_numbering()
    line = make_line(tariff=make_bundle_tariff(zones, voice_s=120), msisdn="+79006667788")
    fund(line.account.ledger_account, 10_000)
    return line


def post(client, body, key: str | None):
    headers = {"HTTP_X_API_KEY": key} if key else {}
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def record(record_id: str, **fields):
    base = {
        "source": "msc-1",
        "record_id": record_id,
        "kind": "voice_out",
        "msisdn": "+79006667788",
        "started_at": "2026-03-02T08:30:00+03:00",
        "duration_s": 90,
        "counterparty": "+79161234567",
    }
    return base | fields


def test_a_key_with_the_usage_scope_is_required(client, line):
    # Given keys without and with the scope
    _, other = create_api_key(name="screening", scopes=["screening:read"], actor=TEST_ACTOR)

    # When a batch is pushed without a key, with a wrong one, and with one lacking the scope
    responses = [
        post(client, {"records": [record("c1")]}, None),
        post(client, {"records": [record("c1")]}, "sk_nope_nope"),
        post(client, {"records": [record("c1")]}, other),
    ]

    # Then each is refused as problem+json (unknown callers 401, a known key without the scope 403)
    # and nothing is stored
    assert [r.status_code for r in responses] == [401, 401, 403]
    assert [r.json()["code"] for r in responses] == ["unauthorized", "unauthorized", "insufficient_scope"]
    assert all(r["Content-Type"] == "application/problem+json" for r in responses)
    assert UsageRecord.objects.count() == 0


def test_a_batch_is_rated_and_reflected_before_the_response(client, line):
    # Given a network key
    _, key = create_api_key(name="msc", scopes=["usage:write"], actor=TEST_ACTOR)

    # When a batch with a good call, a call beyond the minutes and a bad record is pushed
    response = post(
        client,
        {
            "records": [
                record("c1"),
                record("c2", started_at="2026-03-02T08:40:00+03:00", duration_s=30),
                record("c3", kind="fax"),
            ]
        },
        key,
    )

    # Then each record has its result
    assert response.status_code == 200
    body = response.json()
    assert body["results"] == [
        {"index": 0, "status": "accepted", "reason": "", "price_minor": 0},
        {"index": 1, "status": "accepted", "reason": "", "price_minor": 250},
        {"index": 2, "status": "rejected", "reason": "invalid_kind", "price_minor": 0},
    ]
    assert (body["accepted"], body["duplicates"], body["rejected"], body["charged_minor"]) == (2, 0, 1, 250)
    # and the buckets and balance already show it
    voice = next(b for b in queries.list_line_buckets(line.pk) if b.usage_kind == "voice")
    assert voice.remaining == 0
    assert get_balance_minor(line.account.ledger_account_id) == 9_750

    # When the same batch is sent again
    again = post(client, {"records": [record("c1"), record("c2", duration_s=30)]}, key)

    # Then it is all duplicates and nothing more is charged
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert get_balance_minor(line.account.ledger_account_id) == 9_750


def test_a_batch_over_the_limit_is_refused(client, line):
    _, key = create_api_key(name="msc", scopes=["usage:write"], actor=TEST_ACTOR)
    response = post(client, {"records": [record(f"c{i}") for i in range(10_001)]}, key)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert UsageRecord.objects.count() == 0
