"""TMF620: our tariffs and services as product offerings and their prices, in the caller's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.tmf.conftest import World

pytestmark = pytest.mark.django_db

BASE = "/tmf-api/productCatalogManagement/v4"
HREF = f"http://testserver{BASE}"


def get(api: Client, world: World, path: str, *, language: str = "en") -> Any:
    response = api.get(BASE + path, headers={**world.auth, "Accept-Language": language})
    assert response.status_code == 200, response.content
    return response.json()


def ref(kind: str, ident: str, name: str, referred: str) -> dict[str, str]:
    return {"id": ident, "href": f"{HREF}/{kind}/{ident}", "name": name, "@referredType": referred}


def test_the_catalog_has_two_root_categories(api: Client, world: World):
    catalog = get(api, world, "/catalog")

    assert catalog == [
        {
            "@type": "Catalog",
            "id": "selfcare",
            "href": f"{HREF}/catalog/selfcare",
            "name": "Selfcare Mobile",
            "catalogType": "ProductCatalog",
            "lifecycleStatus": "Active",
            "category": [
                ref("category", "tariffs", "Tariffs", "Category"),
                ref("category", "services", "Services", "Category"),
            ],
        }
    ]


def test_categories_list_the_active_offerings_in_catalog_order(api: Client, world: World):
    tariffs, services = get(api, world, "/category")

    assert [o["id"] for o in tariffs["productOffering"]] == [f"tariff-{world.tariff.pk}"]
    assert [o["name"] for o in services["productOffering"]] == ["Night data", "3 GB", "Rival pack"]
    assert get(api, world, "/category/services") == services


def test_a_tariff_is_an_offering_with_its_fee_change_fee_allowances_and_rates(api: Client, world: World):
    # when the tariff is read as an offering
    offering = get(api, world, f"/productOffering/tariff-{world.tariff.pk}")

    # then it is sellable, in the tariffs category, and lists its prices by reference
    prices = offering.pop("productOfferingPrice")
    assert offering == {
        "@type": "ProductOffering",
        "id": f"tariff-{world.tariff.pk}",
        "href": f"{HREF}/productOffering/tariff-{world.tariff.pk}",
        "name": "Smart",
        "description": "Minutes, SMS and data for a month",
        "isBundle": False,
        "isSellable": True,
        "lifecycleStatus": "Launched",
        "category": [ref("category", "tariffs", "Tariffs", "Category")],
    }
    allowances = [a.pk for a in world.tariff.allowances.order_by("pk")]
    rates = [r.pk for r in world.tariff.rates.order_by("pk")]
    assert [p["id"] for p in prices] == [
        f"tariff-{world.tariff.pk}-fee",
        f"tariff-{world.tariff.pk}-change",
        *(f"allowance-{pk}" for pk in allowances),
        *(f"rate-{pk}" for pk in rates),
    ]
    assert [p["name"] for p in prices[:5]] == [
        "Monthly fee",
        "Tariff change fee",
        "Voice: 300 min",
        "SMS: 100 SMS",
        "Data: 10 GB",
    ]


def test_prices_say_what_is_paid_how_often_and_per_what(api: Client, world: World):
    tariff = world.tariff
    voice, sms, data = (a.pk for a in tariff.allowances.order_by("pk"))
    off_net = tariff.rates.get(usage_kind="voice", usage_class="off_net", zone=None).pk
    roaming_data = tariff.rates.get(usage_kind="data", usage_class="roaming").pk
    common = {"@type": "ProductOfferingPrice", "isBundle": False, "lifecycleStatus": "Active"}

    def price(ident: str) -> Any:
        return get(api, world, f"/productOfferingPrice/{ident}")

    assert price(f"tariff-{tariff.pk}-fee") == {
        **common,
        "id": f"tariff-{tariff.pk}-fee",
        "href": f"{HREF}/productOfferingPrice/tariff-{tariff.pk}-fee",
        "name": "Monthly fee",
        "priceType": "recurring",
        "recurringChargePeriodType": "month",
        "recurringChargePeriodLength": 1,
        "price": {"value": 450, "unit": "RUB"},
    }
    assert price(f"tariff-{tariff.pk}-change") == {
        **common,
        "id": f"tariff-{tariff.pk}-change",
        "href": f"{HREF}/productOfferingPrice/tariff-{tariff.pk}-change",
        "name": "Tariff change fee",
        "priceType": "oneTime",
        "price": {"value": 50, "unit": "RUB"},
    }
    assert price(f"allowance-{voice}") == {
        **common,
        "id": f"allowance-{voice}",
        "href": f"{HREF}/productOfferingPrice/allowance-{voice}",
        "name": "Voice: 300 min",
        "priceType": "allowance",
        "recurringChargePeriodType": "month",
        "recurringChargePeriodLength": 1,
        "price": {"value": 0, "unit": "RUB"},
        "unitOfMeasure": {"amount": 18_000, "units": "seconds"},
    }
    assert price(f"allowance-{sms}")["unitOfMeasure"] == {"amount": 100, "units": "messages"}
    assert price(f"allowance-{data}")["unitOfMeasure"] == {"amount": 10 * 1024**3, "units": "bytes"}
    assert price(f"rate-{off_net}") == {
        **common,
        "id": f"rate-{off_net}",
        "href": f"{HREF}/productOfferingPrice/rate-{off_net}",
        "name": "Voice, Other mobile networks",
        "priceType": "usage",
        "price": {"value": 2.5, "unit": "RUB"},
        "unitOfMeasure": {"amount": 1, "units": "minutes"},
    }
    assert (price(f"rate-{roaming_data}")["name"], price(f"rate-{roaming_data}")["price"]) == (
        "Data, Roaming (Roaming Europe)",
        {"value": 90, "unit": "RUB"},
    )


def test_services_carry_their_rules_validity_and_one_time_fees(api: Client, world: World):
    pack = get(api, world, f"/productOffering/service-{world.pack.pk}")
    addon = get(api, world, f"/productOffering/service-{world.addon.pk}")
    rival = get(api, world, f"/productOffering/service-{world.rival.pk}")

    # the pack: a connection fee and 3 GB valid 30 days; it cannot be had with the rival pack
    assert [p["name"] for p in pack["productOfferingPrice"]] == ["Connection fee", "Data: 3 GB"]
    assert pack["productOfferingTerm"] == [{"name": "validity", "duration": {"amount": 30, "units": "days"}}]
    assert pack["productOfferingRelationship"] == [
        {
            **ref("productOffering", f"service-{world.rival.pk}", "Rival pack", "ProductOffering"),
            "relationshipType": "excludes",
        }
    ]
    allowance = world.pack.allowances.get()
    pack_data = get(api, world, f"/productOfferingPrice/allowance-{allowance.pk}")
    assert "recurringChargePeriodType" not in pack_data
    assert pack_data["productOfferingTerm"] == pack["productOfferingTerm"]
    connect = get(api, world, f"/productOfferingPrice/service-{world.pack.pk}-connect")
    assert (connect["priceType"], connect["price"]) == ("oneTime", {"value": 199, "unit": "RUB"})

    # the add-on: a daily fee, needs the pack, offered only on Smart (the archived tariff is left out)
    assert [p["name"] for p in addon["productOfferingPrice"]] == ["Daily fee"]
    fee = get(api, world, f"/productOfferingPrice/service-{world.addon.pk}-fee")
    assert (fee["recurringChargePeriodType"], fee["price"]) == ("day", {"value": 10.5, "unit": "RUB"})
    assert addon["productOfferingRelationship"] == [
        {
            **ref("productOffering", f"service-{world.pack.pk}", "3 GB", "ProductOffering"),
            "relationshipType": "requires",
        },
        {
            **ref("productOffering", f"tariff-{world.tariff.pk}", "Smart", "ProductOffering"),
            "relationshipType": "optionalFor",
        },
    ]

    # the rival pack is no longer sold
    assert (rival["isSellable"], rival["lifecycleStatus"]) == (False, "Retired")


def test_archived_offerings_are_not_in_the_catalog(api: Client, world: World):
    offerings = get(api, world, "/productOffering")
    missing = api.get(f"{BASE}/productOffering/tariff-{world.archived.pk}", headers=world.auth)

    assert f"tariff-{world.archived.pk}" not in [o["id"] for o in offerings]
    assert missing.status_code == 404


def test_names_follow_accept_language(api: Client, world: World):
    ru = get(api, world, f"/productOffering/service-{world.pack.pk}", language="ru")
    fa = get(api, world, f"/productOffering/tariff-{world.tariff.pk}", language="fa")

    assert (ru["name"], ru["category"][0]["name"]) == ("3 ГБ", "Услуги")
    assert [p["name"] for p in ru["productOfferingPrice"]] == ["Плата за подключение", "Интернет: 3 ГБ"]
    assert (fa["name"], fa["category"][0]["name"], fa["productOfferingPrice"][0]["name"]) == (
        "هوشمند",
        "تعرفه‌ها",  # noqa: RUF001
        "هزینه ماهانه",
    )
    # a text without a Russian version falls back to English
    assert (
        get(api, world, f"/productOffering/service-{world.addon.pk}", language="ru")["name"] == "Night data"
    )


def test_the_whole_catalog_is_read_in_a_fixed_number_of_queries(
    api: Client, world: World, django_assert_max_num_queries: Any
):
    auth = world.auth
    with django_assert_max_num_queries(12):
        response = api.get(f"{BASE}/productOfferingPrice", headers=auth)
    assert response["X-Total-Count"] == "19"
