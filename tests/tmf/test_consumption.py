"""TMF677: what is left of each allowance and what was used of it, computed at the request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from selfcare.kit import clock
from tests.tmf.conftest import World

pytestmark = pytest.mark.django_db

BASE = "/tmf-api/usageConsumption/v4"
GB = 1024**3


def get(api: Client, auth: dict[str, str], path: str) -> Any:
    response = api.get(BASE + path, headers=auth)
    assert response.status_code == 200, response.content
    return response


def test_the_report_has_each_bucket_left_and_used(api: Client, world: World):
    # given an hour after the usage
    clock.advance(timedelta(hours=1))
    digits = world.line.msisdn[1:]
    line = {"id": digits, "name": world.line.msisdn, "publicIdentifier": world.line.msisdn}

    response = get(api, world.auth, "/usageConsumptionReport")

    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("1", "1")
    (report,) = response.json()
    buckets = report.pop("bucket")
    assert report == {
        "@type": "UsageConsumptionReport",
        "id": digits,
        "href": f"http://testserver{BASE}/usageConsumptionReport/{digits}",
        "name": world.line.msisdn,
        "effectiveDate": "2026-03-02T07:00:00Z",
        "relatedParty": {"id": world.line.account.number, "role": "owner", "@referredType": "BillingAccount"},
    }
    voice = world.records["call"].bucket_id
    assert buckets[1] == {
        "id": f"usage-{voice}",
        "name": "Smart: Voice",
        "usageType": "voice",
        "isShared": False,
        "bucketBalance": [
            {
                "remainingValue": {"amount": 17_820, "units": "seconds"},
                "remainingValueName": "297 min",
                "validFor": {"startDateTime": "2026-03-02T07:00:00Z", "endDateTime": "2026-03-31T21:00:00Z"},
            }
        ],
        "bucketCounter": [
            {
                "counterType": "used",
                "level": "global",
                "value": {"amount": 180, "units": "seconds"},
                "valueName": "3 min",
                "consumptionPeriod": {
                    "startDateTime": "2026-02-28T21:00:00Z",
                    "endDateTime": "2026-03-02T07:00:00Z",
                },
            }
        ],
        "product": [line],
    }
    assert [
        (
            b["name"],
            b["bucketBalance"][0]["remainingValue"]["amount"],
            b["bucketCounter"][0]["value"]["amount"],
        )
        for b in buckets
    ] == [
        ("3 GB: Data", 3 * GB, 0),
        ("Smart: Voice", 17_820, 180),
        ("Smart: SMS", 100, 0),
        ("Smart: Data", 10 * GB - 5_324_800, 5_324_800),
    ]


def test_the_report_by_id_is_the_same_and_only_the_callers(api: Client, world: World):
    digits = world.line.msisdn[1:]

    listed = get(api, world.auth, "/usageConsumptionReport").json()[0]
    one = get(api, world.auth, f"/usageConsumptionReport/{digits}").json()
    theirs = api.get(f"{BASE}/usageConsumptionReport/{digits}", headers=world.other_auth)

    assert one == listed
    assert (theirs.status_code, theirs.json()) == (404, {"code": 404, "reason": "Not found.", "status": 404})


def test_attribute_selection_and_paging(api: Client, world: World):
    digits = world.line.msisdn[1:]

    selected = get(api, world.auth, "/usageConsumptionReport?fields=effectiveDate").json()
    past = get(api, world.auth, "/usageConsumptionReport?offset=1")

    assert selected == [
        {
            "@type": "UsageConsumptionReport",
            "id": digits,
            "href": f"http://testserver{BASE}/usageConsumptionReport/{digits}",
            "effectiveDate": "2026-03-02T06:00:00Z",
        }
    ]
    assert (past.json(), past["X-Total-Count"], past["X-Result-Count"]) == ([], "1", "0")


def test_errors_here_have_integer_codes(api: Client, world: World):
    bad = api.get(f"{BASE}/usageConsumptionReport?limit=-1", headers=world.auth)
    anonymous = api.get(f"{BASE}/usageConsumptionReport")

    assert bad.json() == {
        "code": 400,
        "reason": "The offset and the limit must be whole numbers, not negative.",
        "status": 400,
    }
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, 401)
