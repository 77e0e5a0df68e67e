"""Every implemented TMF operation answers what TM Forum's Swagger files document: each success and
each error body validates against the file's schema for that operation and status (tests/tmf/conformance.py),
and the operations we serve are exactly the ones listed here and in docs/tmf.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from django.test import Client

from selfcare.payments.models import Payment
from selfcare.tmf.api import tmf_api
from tests.payments.factories import start
from tests.tmf.conformance import assert_conforms, base_path, operation_ids, spec, violations
from tests.tmf.conftest import World

pytestmark = pytest.mark.django_db


class Op(NamedTuple):
    api: str
    operation_id: str
    method: str
    template: str
    path: Callable[[World, Payment], str]


OPERATIONS = [
    Op("TMF620", "listCatalog", "GET", "/catalog", lambda w, p: "/catalog"),
    Op("TMF620", "retrieveCatalog", "GET", "/catalog/{id}", lambda w, p: "/catalog/selfcare"),
    Op("TMF620", "listCategory", "GET", "/category", lambda w, p: "/category"),
    Op("TMF620", "retrieveCategory", "GET", "/category/{id}", lambda w, p: "/category/services"),
    Op("TMF620", "listProductOffering", "GET", "/productOffering", lambda w, p: "/productOffering"),
    Op(
        "TMF620",
        "retrieveProductOffering",
        "GET",
        "/productOffering/{id}",
        lambda w, p: f"/productOffering/service-{w.pack.pk}",
    ),
    Op(
        "TMF620",
        "listProductOfferingPrice",
        "GET",
        "/productOfferingPrice",
        lambda w, p: "/productOfferingPrice",
    ),
    Op(
        "TMF620",
        "retrieveProductOfferingPrice",
        "GET",
        "/productOfferingPrice/{id}",
        lambda w, p: f"/productOfferingPrice/tariff-{w.tariff.pk}-fee",
    ),
    Op("TMF635", "listUsage", "GET", "/usage", lambda w, p: "/usage"),
    Op(
        "TMF635",
        "retrieveUsage",
        "GET",
        "/usage/{id}",
        lambda w, p: f"/usage/{w.records['international'].pk}",
    ),
    Op("TMF654", "listBucket", "GET", "/bucket", lambda w, p: "/bucket"),
    Op(
        "TMF654",
        "retrieveBucket",
        "GET",
        "/bucket/{id}",
        lambda w, p: f"/bucket/money-{w.line.account.number}",
    ),
    Op("TMF654", "listAccumulatedBalance", "GET", "/accumulatedBalance", lambda w, p: "/accumulatedBalance"),
    Op(
        "TMF654",
        "retrieveAccumulatedBalance",
        "GET",
        "/accumulatedBalance/{id}",
        lambda w, p: f"/accumulatedBalance/{w.line.msisdn[1:]}-data",
    ),
    Op("TMF654", "listTopupBalance", "GET", "/topupBalance", lambda w, p: "/topupBalance"),
    Op(
        "TMF654",
        "retrieveTopupBalance",
        "GET",
        "/topupBalance/{id}",
        lambda w, p: f"/topupBalance/{p.public_id}",
    ),
    Op("TMF654", "createTopupBalance", "POST", "/topupBalance", lambda w, p: "/topupBalance"),
    Op(
        "TMF677",
        "listUsageConsumptionReport",
        "GET",
        "/usageConsumptionReport",
        lambda w, p: "/usageConsumptionReport",
    ),
    Op(
        "TMF677",
        "retrieveUsageConsumptionReport",
        "GET",
        "/usageConsumptionReport/{id}",
        lambda w, p: f"/usageConsumptionReport/{w.line.msisdn[1:]}",
    ),
]
BY_ID = {op.operation_id: op for op in OPERATIONS}


def topup_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": {"amount": 250.5, "units": "RUB"},
        "usageType": "monetary",
        "bucket": {"id": f"money-{world.line.account.number}"},
        "partyAccount": {"id": world.line.account.number},
    }
    body.update(overrides)
    return body


def call(
    api: Client, op: Op, world: World, payment: Payment, *, headers: dict[str, str], path: str = ""
) -> Any:
    url = base_path(op.api) + (path or op.path(world, payment))
    if op.method == "POST":
        return api.post(
            url,
            topup_body(world),
            content_type="application/json",
            headers={**headers, "Idempotency-Key": "conformance-1"},
        )
    return api.get(url, headers=headers)


@pytest.fixture
def payment(world: World) -> Payment:
    return start(world.user, world.line, amount_minor=30_000, key="earlier-topup")


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_every_implemented_operation_answers_as_tmf_documents(
    api: Client, world: World, payment: Payment, op: Op
):
    # when the subscriber calls the operation
    response = call(api, op, world, payment, headers=world.auth)

    # then it succeeds, and the body (every item of a list) validates against TMF's schema
    assert response.status_code == (201 if op.method == "POST" else 200), response.content
    body = assert_conforms(op.api, op.method, op.template, response)
    assert body, "an empty answer would prove nothing"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_without_a_token_every_operation_answers_a_tmf_401(
    api: Client, world: World, payment: Payment, op: Op
):
    response = call(api, op, world, payment, headers={})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert_conforms(op.api, op.method, op.template, response)
    assert Payment.objects.count() == 1


RETRIEVES = [op for op in OPERATIONS if op.template.endswith("{id}")]


@pytest.mark.parametrize("op", RETRIEVES, ids=lambda op: op.operation_id)
def test_retrieving_what_is_not_there_answers_a_tmf_404(api: Client, world: World, payment: Payment, op: Op):
    response = call(
        api, op, world, payment, headers=world.auth, path=op.template.replace("{id}", "nothing-1")
    )

    assert response.status_code == 404
    body = assert_conforms(op.api, op.method, op.template, response)
    assert body["reason"] == "Not found."


@pytest.mark.parametrize(
    "op_id",
    [
        "retrieveUsage",
        "retrieveBucket",
        "retrieveAccumulatedBalance",
        "retrieveTopupBalance",
        "retrieveUsageConsumptionReport",
    ],
)
def test_another_subscribers_resource_answers_a_tmf_404(
    api: Client, world: World, payment: Payment, op_id: str
):
    # given a resource of the first subscriber, asked for by the second one
    op = BY_ID[op_id]
    response = call(api, op, world, payment, headers=world.other_auth)

    assert response.status_code == 404
    assert_conforms(op.api, op.method, op.template, response)


LISTS = [op for op in OPERATIONS if op.operation_id.startswith("list")]


@pytest.mark.parametrize("op", LISTS, ids=lambda op: op.operation_id)
@pytest.mark.parametrize("query", ["offset=-1", "limit=-5", "offset=first", "colour=blue"])
def test_bad_paging_or_an_unknown_filter_answers_a_tmf_400(
    api: Client, world: World, payment: Payment, op: Op, query: str
):
    response = call(api, op, world, payment, headers=world.auth, path=f"{op.path(world, payment)}?{query}")

    assert response.status_code == 400
    assert_conforms(op.api, op.method, op.template, response)


@pytest.mark.parametrize(
    "body",
    [
        {"usageType": "data"},
        {"amount": {"amount": 10.001, "units": "RUB"}},
        {"amount": {"amount": 100, "units": "EUR"}},
        {"amount": {"amount": 0.5, "units": "RUB"}},
        {"bucket": {"id": "usage-1"}},
        {"amount": "a lot"},
    ],
    ids=[
        "not-monetary",
        "too-many-decimals",
        "other-currency",
        "below-minimum",
        "not-the-money-bucket",
        "not-a-quantity",
    ],
)
def test_a_refused_topup_answers_a_tmf_400_and_starts_nothing(
    api: Client, world: World, body: dict[str, Any]
):
    response = api.post(
        base_path("TMF654") + "/topupBalance",
        topup_body(world, **body),
        content_type="application/json",
        headers={**world.auth, "Idempotency-Key": "refused-1"},
    )

    assert response.status_code == 400
    assert_conforms("TMF654", "POST", "/topupBalance", response)
    assert Payment.objects.count() == 0


def test_a_key_reused_for_another_amount_answers_a_tmf_409(api: Client, world: World):
    url = base_path("TMF654") + "/topupBalance"
    headers = {**world.auth, "Idempotency-Key": "same-key"}
    first = api.post(url, topup_body(world), content_type="application/json", headers=headers)
    again = api.post(
        url,
        topup_body(world, amount={"amount": 999, "units": "RUB"}),
        content_type="application/json",
        headers=headers,
    )

    assert (first.status_code, again.status_code) == (201, 409)
    assert_conforms("TMF654", "POST", "/topupBalance", again)
    assert list(Payment.objects.values_list("amount_minor", flat=True)) == [25_050]


NOT_IMPLEMENTED = [
    ("TMF620", "POST", "/catalog", "/catalog"),
    ("TMF620", "DELETE", "/productOffering/{id}", "/productOffering/tariff-1"),
    ("TMF620", "PATCH", "/productOfferingPrice/{id}", "/productOfferingPrice/rate-1"),
    ("TMF635", "POST", "/usage", "/usage"),
    ("TMF635", "PATCH", "/usage/{id}", "/usage/1"),
    ("TMF635", "DELETE", "/usage/{id}", "/usage/1"),
    ("TMF654", "PATCH", "/topupBalance/{id}", "/topupBalance/00000000-0000-0000-0000-000000000000"),
    ("TMF654", "DELETE", "/topupBalance/{id}", "/topupBalance/00000000-0000-0000-0000-000000000000"),
    ("TMF677", "DELETE", "/usageConsumptionReport/{id}", "/usageConsumptionReport/1"),
]


@pytest.mark.parametrize(("api_name", "method", "template", "path"), NOT_IMPLEMENTED)
def test_an_operation_not_implemented_answers_a_tmf_405(
    api: Client, world: World, api_name: str, method: str, template: str, path: str
):
    response = api.generic(
        method, base_path(api_name) + path, "{}", content_type="application/json", headers=world.auth
    )

    assert response.status_code == 405
    body = assert_conforms(api_name, method, template, response)
    assert body["reason"] == "This operation is not implemented."
    assert response["Allow"]


def test_a_path_outside_the_implemented_ones_answers_a_tmf_404(api: Client, world: World):
    response = api.get(base_path("TMF654") + "/transferBalance", headers=world.auth)

    assert response.status_code == 404
    assert_conforms("TMF654", "GET", "/transferBalance", response)


def test_the_operations_served_are_exactly_these_and_are_tmf_operations():
    # given what our API document says it serves
    served = {
        (op["operationId"], method.upper(), path)
        for path, ops in tmf_api.get_openapi_schema(path_prefix="")["paths"].items()
        for method, op in ops.items()
    }
    listed = {
        (op.operation_id, op.method, base_path(op.api).removeprefix("/tmf-api") + op.template)
        for op in OPERATIONS
    }

    # then it is the table above, and each is the same method and path in TMF's own file
    assert served == listed
    for op in OPERATIONS:
        assert operation_ids(op.api)[op.operation_id] == (op.method, op.template)


def test_docs_list_every_implemented_operation():
    text = (Path(__file__).resolve().parents[2] / "docs" / "tmf.md").read_text(encoding="utf-8")
    implemented = set(re.findall(r"^\| `(\w+)` \| (?:GET|POST) ", text, flags=re.MULTILINE))
    assert implemented == set(BY_ID)


def test_the_schema_check_catches_what_tmf_does_not_allow():
    # given bodies that break TMF635's Usage in three ways: an unknown status, a date without an
    # offset, and a characteristic without its required value
    schema = {"$ref": "#/definitions/Usage"}
    bad = [
        {"id": "1", "status": "eaten"},
        {"id": "1", "usageDate": "2026-03-02T09:00:00"},
        {"id": "1", "usageCharacteristic": [{"name": "duration"}]},
    ]

    # then each is caught, and a good one is not
    assert [len(violations("TMF635", schema, body)) for body in bad] == [1, 1, 1]
    assert (
        violations("TMF635", schema, {"id": "1", "status": "rated", "usageDate": "2026-03-02T09:00:00Z"})
        == []
    )
    assert spec("TMF677")["definitions"]["Error"]["properties"]["code"]["type"] == "integer"
