"""What every /tmf-api/ operation shares: its own OpenAPI document, owner scope, paging limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from selfcare.identity.models import User
from tests.tmf.conftest import World, bearer

pytestmark = pytest.mark.django_db


def test_the_implemented_subset_is_described_at_its_own_openapi_document(api: Client):
    document = api.get("/tmf-api/openapi.json").json()

    assert document["info"]["title"] == "selfcare TM Forum Open APIs"
    assert "/tmf-api/usageManagement/v4/usage" in document["paths"]
    assert document["paths"]["/tmf-api/prepayBalanceManagement/v4/topupBalance"]["post"]["operationId"] == (
        "createTopupBalance"
    )


def test_a_signed_in_user_without_a_line_has_no_usage_but_sees_the_catalog(api: Client, world: World):
    staff = User.objects.create_user(username="operator", is_staff=True)
    auth = bearer(staff)

    usage = api.get("/tmf-api/usageManagement/v4/usage", headers=auth)
    buckets = api.get("/tmf-api/prepayBalanceManagement/v4/bucket", headers=auth)
    catalog = api.get("/tmf-api/productCatalogManagement/v4/catalog", headers=auth)

    assert [r.status_code for r in (usage, buckets, catalog)] == [404, 404, 200]


def test_a_limit_above_the_maximum_is_capped(api: Client, world: World, settings: Any):
    response = api.get(
        "/tmf-api/productCatalogManagement/v4/productOfferingPrice?limit=100000", headers=world.auth
    )

    assert (response.status_code, response["X-Result-Count"], response["X-Total-Count"]) == (200, "19", "19")


def test_a_revoked_or_forged_token_is_a_401(api: Client, world: World):
    forged = api.get("/tmf-api/usageManagement/v4/usage", headers={"Authorization": "Bearer at_forged"})

    assert (forged.status_code, forged.json()["code"]) == (401, "unauthorized")
