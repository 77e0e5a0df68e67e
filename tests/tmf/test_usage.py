"""TMF635: the caller's line's usage records as TMF Usage, with what each drew from buckets and cost."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from selfcare.lines import services as lines_services
from selfcare.usage import services as usage_services
from tests.cabinet.factories import at, make_subscriber, usage
from tests.tmf.conftest import World, bearer
from tests.usage.factories import make_bundle_tariff, make_numbering, make_pack

pytestmark = pytest.mark.django_db

BASE = "/tmf-api/usageManagement/v4"
CATALOG = "http://testserver/tmf-api/productCatalogManagement/v4"
BALANCE = "http://testserver/tmf-api/prepayBalanceManagement/v4"


def get(api: Client, auth: dict[str, str], path: str) -> Any:
    response = api.get(BASE + path, headers=auth)
    assert response.status_code == 200, response.content
    return response


def trait(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "valueType": "integer" if isinstance(value, int) else "string", "value": value}


def test_the_list_is_the_callers_usage_newest_first_with_totals(api: Client, world: World):
    response = get(api, world.auth, "/usage")

    records = world.records
    assert [u["id"] for u in response.json()] == [
        str(records[name].pk) for name in ("roaming", "data", "sms_in", "international", "call")
    ]
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("5", "5")


def test_a_call_drawn_from_the_tariffs_minutes(api: Client, world: World):
    record = world.records["call"]
    bucket_id = f"usage-{record.bucket_id}"

    assert get(api, world.auth, f"/usage/{record.pk}").json() == {
        "@type": "Usage",
        "id": str(record.pk),
        "href": f"http://testserver{BASE}/usage/{record.pk}",
        "description": "Outgoing call",
        "usageDate": "2026-03-02T05:00:00Z",
        "usageType": "voice",
        "status": "rated",
        "usageCharacteristic": [
            trait("direction", "outgoing"),
            trait("counterparty", "+79161234567"),
            trait("duration", 125),
            trait("usageClass", "off_net"),
            trait("chargedUnits", 180),
        ],
        "ratedProductUsage": [
            {
                "@type": "SelfcareRatedProductUsage",
                "@baseType": "RatedProductUsage",
                "usageRatingTag": "included usage",
                "ratingDate": "2026-03-02T06:00:00Z",
                "taxIncludedRatingAmount": {"value": 0, "unit": "RUB"},
                "productRef": {
                    "id": f"tariff-{world.tariff.pk}",
                    "href": f"{CATALOG}/productOffering/tariff-{world.tariff.pk}",
                    "name": "Smart",
                    "@referredType": "ProductOffering",
                },
                "bucket": {
                    "id": bucket_id,
                    "href": f"{BALANCE}/bucket/{bucket_id}",
                    "name": "Smart: Voice",
                    "@referredType": "Bucket",
                },
                "quantity": {"amount": 180, "units": "seconds"},
            }
        ],
    }


def test_a_priced_call_abroad_and_a_free_incoming_sms(api: Client, world: World):
    call = get(api, world.auth, f"/usage/{world.records['international'].pk}").json()
    sms = get(api, world.auth, f"/usage/{world.records['sms_in'].pk}").json()

    assert call["usageCharacteristic"] == [
        trait("direction", "outgoing"),
        trait("counterparty", "+4930123456"),
        trait("duration", 61),
        trait("usageClass", "international"),
        trait("zone", "intl-europe"),
        trait("chargedUnits", 120),
    ]
    assert call["ratedProductUsage"] == [
        {
            "@type": "SelfcareRatedProductUsage",
            "@baseType": "RatedProductUsage",
            "usageRatingTag": "usage",
            "ratingDate": "2026-03-02T06:00:00Z",
            "isBilled": True,
            "taxIncludedRatingAmount": {"value": 70, "unit": "RUB"},
            "quantity": {"amount": 120, "units": "seconds"},
        }
    ]
    assert (sms["usageType"], sms["description"], sms["usageCharacteristic"][0]) == (
        "sms",
        "Incoming SMS",
        trait("direction", "incoming"),
    )
    assert [
        (r["usageRatingTag"], r["isBilled"], r["taxIncludedRatingAmount"]["value"])
        for r in sms["ratedProductUsage"]
    ] == [("usage", False, 0)]


def test_a_refused_record_is_rejected_with_its_reason_and_no_rating(api: Client, world: World):
    body = get(api, world.auth, f"/usage/{world.records['roaming'].pk}").json()

    assert (body["status"], body["usageType"]) == ("rejected", "data")
    assert body["usageCharacteristic"] == [
        trait("volume", 1_048_576),
        trait("usageClass", "roaming"),
        trait("zone", "roam-world"),
        trait("roamingZone", "roam-world"),
        trait("refusalReason", "no_rate"),
    ]
    assert "ratedProductUsage" not in body


def test_a_call_that_emptied_two_buckets_shows_each_draw_and_the_priced_rest(api: Client, frozen_clock: Any):
    # given a line with 1 minute on its tariff and a 1-minute pack (the pack is drawn first)
    zones = make_numbering()
    user, line = make_subscriber(zones, tariff=make_bundle_tariff(zones, voice_s=60))
    pack = make_pack(kind="voice_pack", usage_kind="voice", amount=60, validity_days=7)
    lines_services.connect_service(line, service=pack, actor="test")
    usage_services.grant_buckets(line)
    # when a call of 2.5 minutes (3 started minutes) is rated
    usage_services.rate_batch(
        [
            usage(
                line.msisdn,
                "voice_out",
                at("2026-03-02T09:05:00+03:00"),
                duration_s=150,
                counterparty="+79161234567",
            )
        ]
    )

    # then the usage shows the pack's minute, the tariff's minute, and one priced minute
    body = get(api, bearer(user), "/usage").json()[0]
    assert [
        (
            r["usageRatingTag"],
            r.get("bucket", {}).get("name"),
            r["quantity"]["amount"],
            r["taxIncludedRatingAmount"]["value"],
        )
        for r in body["ratedProductUsage"]
    ] == [
        ("included usage", f"{pack.name['en']}: Voice", 60, 0),
        ("included usage", "Tariff " + line.tariff.code + ": Voice", 60, 0),
        ("non included usage", None, 60, 2.5),
    ]


def test_filters_and_paging(api: Client, world: World):
    voice = get(api, world.auth, "/usage?usageType=voice")
    window = get(
        api,
        world.auth,
        "/usage?usageDate.gte=2026-03-02T08:10:00%2B03:00&usageDate.lt=2026-03-02T08:30:00%2B03:00",
    )
    page = get(api, world.auth, "/usage?offset=1&limit=2")
    past = get(api, world.auth, "/usage?offset=10")

    records = world.records
    assert [u["id"] for u in voice.json()] == [str(records["international"].pk), str(records["call"].pk)]
    assert [u["id"] for u in window.json()] == [str(records["sms_in"].pk), str(records["international"].pk)]
    assert ([u["id"] for u in page.json()], page["X-Total-Count"], page["X-Result-Count"]) == (
        [str(records["data"].pk), str(records["sms_in"].pk)],
        "5",
        "2",
    )
    assert (past.json(), past["X-Total-Count"], past["X-Result-Count"]) == ([], "5", "0")


def test_a_filter_we_do_not_support_is_refused_not_ignored(api: Client, world: World):
    unknown = api.get(f"{BASE}/usage?status=rated", headers=world.auth)
    bad_type = api.get(f"{BASE}/usage?usageType=fax", headers=world.auth)
    naive = api.get(f"{BASE}/usage?usageDate.gte=2026-03-02T08:00:00", headers=world.auth)
    out_of_range = api.get(f"{BASE}/usage?usageDate.lt=0001-01-01T00:00:00%2B14:00", headers=world.auth)

    assert [r.status_code for r in (unknown, bad_type, naive, out_of_range)] == [400, 400, 400, 400]
    assert unknown.json() == {
        "code": "bad_filter",
        "reason": "This filter is not supported: status.",
        "status": "400",
    }
    assert bad_type.json()["reason"] == "This filter is not supported: usageType."


def test_attribute_selection_keeps_id_href_and_type(api: Client, world: World):
    body = get(api, world.auth, "/usage?fields=usageType,status&limit=1").json()

    assert body == [
        {
            "@type": "Usage",
            "id": str(world.records["roaming"].pk),
            "href": f"http://testserver{BASE}/usage/{world.records['roaming'].pk}",
            "usageType": "data",
            "status": "rejected",
        }
    ]


def test_another_subscribers_usage_is_not_found_and_not_listed(api: Client, world: World):
    theirs = api.get(f"{BASE}/usage/{world.records['other'].pk}", headers=world.auth)
    mine_for_them = api.get(f"{BASE}/usage/{world.records['call'].pk}", headers=world.other_auth)
    huge = api.get(f"{BASE}/usage/99999999999999999999999", headers=world.auth)

    assert [r.status_code for r in (theirs, mine_for_them, huge)] == [404, 404, 404]
    assert [u["id"] for u in get(api, world.other_auth, "/usage").json()] == [str(world.records["other"].pk)]


def test_a_page_of_usage_costs_the_same_queries_whatever_its_size(
    api: Client, world: World, django_assert_max_num_queries: Any
):
    usage_services.rate_batch(
        [
            usage(
                world.line.msisdn,
                "sms_out",
                at(f"2026-03-02T07:{minute:02d}:00+03:00"),
                counterparty="+79161234567",
            )
            for minute in range(40)
        ]
    )
    auth = world.auth
    with django_assert_max_num_queries(8):
        response = api.get(f"{BASE}/usage?limit=45", headers=auth)
    assert response["X-Result-Count"] == "45"
