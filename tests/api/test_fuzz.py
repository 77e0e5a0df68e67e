"""schemathesis over /api/v1/ (our own OpenAPI document) and /tmf-api/ (TMF's Swagger files).

Every operation of the document is a test of its own (new routes are fuzzed as soon as they are in the
document), run in-process through Django's WSGI application against the suite's database, with every
check schemathesis has: no server error, statuses, content types, headers and bodies as documented,
negative data rejected, schema-valid data accepted. Generation is bounded (FUZZ_EXAMPLES per operation,
no shrinking, no deadline) and deterministic, so a failure found in CI is found again on a laptop.

The caller is a subscriber with a funded line on a bundle tariff, a data pack and the Black list on offer
(bearer token from identity's services), and a network system with an API key of every scope. The company
operations are fuzzed a second time as a company admin, with generated ids steered to the admin's own
company, lines and members part of the time. docs/api.md tells how to run it and what it covers.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import ignored_auth

from selfcare.api.openapi import render
from selfcare.api.urls import api
from selfcare.companies.models import Membership, Role
from selfcare.identity.models import User
from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.services import create_api_key, issue_api_tokens
from selfcare.lines.models import Line
from selfcare.payments.providers import reset_provider_cache
from selfcare.tmf.api import tmf_api
from tests.cabinet.factories import make_black_list_service, make_subscriber
from tests.companies.factories import make_company, make_member
from tests.conftest import IN_CI
from tests.factories import unique_msisdn
from tests.tmf.conformance import SPEC_DIR, SPECS
from tests.usage.factories import MB, make_numbering, make_pack

# Per operation; CI always runs the default, so the suite's time stays what docs/api.md says.
FUZZ_EXAMPLES = 15 if IN_CI else int(os.environ.get("SELFCARE_FUZZ_EXAMPLES", "15"))
# A refusal by a business rule (not enough money, a tariff not open to this line, a code that is wrong)
# answers schema-valid input with 400, 402, 410 or 422 and a typed code: an accepted outcome for data the
# schema allows, as much as 2xx.
BUSINESS_REFUSALS = ["400", "402", "410", "422"]
APP = ServiceClient(ip="192.0.2.40", user_agent="fuzzer", language="en")
WSGI_APP = WSGIHandler()


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": FUZZ_EXAMPLES,
                "no-shrink": True,
                "deterministic": True,
                "database": "none",
            },
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "429", *BUSINESS_REFUSALS]
                },
            },
        }
    )


def _hypothesis(test: Any) -> Any:
    return settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(test)


own_schema = schemathesis.openapi.from_dict(json.loads(render(api)), config=_config())
own_schema.app = WSGI_APP

# The credentials of the current test's caller, by security scheme; the `caller` fixture fills it in.
CREDENTIALS: dict[str, dict[str, str]] = {}

# schemathesis builds the cases of its examples and coverage phases when the tests are collected, and asks
# the auth provider then, before any fixture ran. It gets a stand-in naming the scheme, which `_call`
# swaps for the caller's credentials; without it those cases would carry schemathesis' own generated
# `Authorization: Bearer ` and never get past the 401.
SCHEME_HEADERS = {"SubscriberBearer": "Authorization", "NetworkApiKey": "X-API-Key"}
LATER = "fuzz-credentials-of:"


def _credentials(scheme: str) -> dict[str, str]:
    return CREDENTIALS.get(scheme) or {SCHEME_HEADERS[scheme]: f"{LATER}{scheme}"}


@own_schema.auth(refresh_interval=None, retry_on=[])
class CallerCredentials:
    """Sends the credentials each operation's security requirement names (bearer token or API key).

    Registered as schemathesis' auth, so that its negative cases and `ignored_auth` check know which
    headers are credentials and try the operation without them."""

    def get(self, case: Any, ctx: Any) -> dict[str, str]:
        headers: dict[str, str] = {}
        for requirement in case.operation.definition.raw.get("security", []):
            for scheme in requirement:
                headers.update(_credentials(scheme))
        return headers

    def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
        case.headers = {**(case.headers or {}), **data}


@dataclass
class Caller:
    user: User
    headers: dict[str, str]


@pytest.fixture
def caller(db: Any, settings: Any) -> Iterator[Caller]:
    settings.SELFCARE_PAYMENT_BACKEND = "fake"
    settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER = False
    settings.ALLOWED_HOSTS = ["*"]
    reset_provider_cache()
    # As Django's test client does: a request must not close the connection that holds the test's
    # transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        zones = make_numbering()
        user, _line = make_subscriber(zones, balance_minor=100_000)
        make_pack(amount=3 * 1024 * MB, validity_days=30)
        make_black_list_service()
        pair = issue_api_tokens(user, device_id="fuzzer-1", client=APP, method="test")
        _, network_key = create_api_key(
            name="fuzzer", scopes=["usage:write", "screening:read"], actor="test:fuzzer"
        )
        CREDENTIALS["SubscriberBearer"] = {"Authorization": f"Bearer {pair.access_token}"}
        CREDENTIALS["NetworkApiKey"] = {"X-API-Key": network_key}
        yield Caller(user=user, headers=dict(CREDENTIALS["SubscriberBearer"]))
    finally:
        CREDENTIALS.clear()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        reset_provider_cache()


def _call(case: Any) -> None:
    for name, value in list((case.headers or {}).items()):
        if isinstance(value, str) and value.startswith(LATER):
            case.headers[name] = CREDENTIALS[value.removeprefix(LATER)][name]
    # when the generated request is sent through the WSGI application
    # then every check passes: no server error, the status, content type, headers and body are the ones
    # the contract documents, bad input is refused and good input is not (schemathesis raises otherwise)
    case.call_and_validate()


@own_schema.parametrize()
@_hypothesis
def test_api_v1(case: Any, caller: Caller) -> None:
    # given a subscriber with a funded line and a network key (the caller fixture)
    _call(case)


# --- /tmf-api/: TMF's own Swagger files are the contract, for the operations we implement ---------------

IMPLEMENTED_TMF = sorted(
    operation["operationId"]
    for methods in tmf_api.get_openapi_schema(path_prefix="")["paths"].values()
    for operation in methods.values()
)


def _tmf_config() -> SchemathesisConfig:
    config = _config()
    # TMF's files define methods we do not implement on the same paths (POST /catalog...): our `Allow`
    # rightly lists only what we serve (and the 405 is TMF's Error), so the check that compares `Allow`
    # with every method the file defines does not apply to a partial implementation.
    config.projects.default.checks.update(excluded_check_names=["allow_header_conformance"])
    return config


def _tmf_schema(api_name: str) -> Any:
    raw = json.loads((SPEC_DIR / SPECS[api_name]).read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_dict(raw, config=_tmf_config()).include(operation_id=IMPLEMENTED_TMF)
    schema.app = WSGI_APP

    @schema.auth(refresh_interval=None, retry_on=[])
    class TmfCredentials:
        """TMF's files declare no security scheme; every operation takes the subscriber's bearer token,
        and a top-up our Idempotency-Key (a transport header TMF leaves to the implementation)."""

        def get(self, case: Any, ctx: Any) -> dict[str, str]:
            headers = dict(_credentials("SubscriberBearer"))
            if case.method.upper() == "POST":
                headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4()}"
            return headers

        def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
            case.headers = {**(case.headers or {}), **data}

    return schema


tmf620 = _tmf_schema("TMF620")
tmf635 = _tmf_schema("TMF635")
tmf654 = _tmf_schema("TMF654")
tmf677 = _tmf_schema("TMF677")


@tmf620.parametrize()
@_hypothesis
def test_tmf620_product_catalog(case: Any, caller: Caller) -> None:
    _call(case)


@tmf635.parametrize()
@_hypothesis
def test_tmf635_usage(case: Any, caller: Caller) -> None:
    _call(case)


@tmf654.parametrize()
@_hypothesis
def test_tmf654_prepay_balance(case: Any, caller: Caller) -> None:
    _call(case)


@tmf677.parametrize()
@_hypothesis
def test_tmf677_usage_consumption(case: Any, caller: Caller) -> None:
    _call(case)


def test_every_implemented_tmf_operation_is_fuzzed():
    # given the operations /tmf-api/ implements, and those the four Swagger files give the fuzzer
    fuzzed = {
        operation.definition.raw["operationId"]
        for schema in (tmf620, tmf635, tmf654, tmf677)
        for result in schema.get_all_operations()
        for operation in [result.ok()]
    }
    # then each implemented one is fuzzed, and nothing else
    assert fuzzed == set(IMPLEMENTED_TMF)


# --- the company operations again, as a company admin ---------------------------------------------------
#
# As the subscriber above, every company route is a 404 (not a member). The admin is a member of a company
# with lines and people, and the ids the fuzzer draws are replaced, part of the time, by that company's own
# (its id, its lines, its memberships, a line's number, a role that exists), so the routes' real answers
# are checked too. Only a value that is already valid for its schema is replaced, by another valid one:
# a negative case stays negative.

MAX_ROW_ID = 2**63 - 1
# What the `company_admin` fixture made, read by the hooks while Hypothesis draws (inside the test).
OWN: dict[str, list[Any]] = {}

company_schema = schemathesis.openapi.from_dict(json.loads(render(api)), config=_config()).include(
    tag="companies"
)
company_schema.app = WSGI_APP
company_schema.auth(refresh_interval=None, retry_on=[])(CallerCredentials)


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


def _valid_text(max_length: int) -> Any:
    return lambda value: isinstance(value, str) and len(value) <= max_length


def _steer(values: dict[str, Any], choices: dict[str, tuple[Any, str]]) -> st.SearchStrategy[dict[str, Any]]:
    """`values` with each field named in `choices` kept or swapped for one of OWN[key], when it is valid."""
    if not isinstance(values, dict):
        return st.just(values)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, (is_valid, key) in choices.items():
        if name in values and is_valid(values[name]) and OWN.get(key):
            # the drawn value half of the time, the company's own the other half
            fields[name] = st.one_of(st.just(values[name]), st.sampled_from(OWN[key]))
    if not fields:
        return st.just(values)
    return st.fixed_dictionaries(fields).map(lambda own: {**values, **own})


@company_schema.hook
def flatmap_path_parameters(ctx: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return _steer(
        path_parameters,
        {
            "company_id": (_valid_id, "company_id"),
            "line_id": (_valid_id, "line_id"),
            "member_id": (_valid_id, "member_id"),
        },
    )


@company_schema.hook
def flatmap_body(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
    return _steer(
        body,
        {
            "role": (_valid_text(16), "role"),
            "line_id": (_valid_id, "line_id"),
            "line": (_valid_text(32), "line_msisdn"),
            "phone": (_valid_text(32), "phone"),
        },
    )


@pytest.fixture
def company_admin(caller: Caller) -> Iterator[User]:
    # The subscriber's fixture sets up the app and the network key; the bearer token becomes the admin's.
    company = make_company(lines=3)
    admin = make_member(company, Role.ADMIN, name="Fuzz Admin")
    make_member(company, Role.VIEWER, name="Fuzz Viewer")
    make_member(company, Role.EMPLOYEE, name="Fuzz Employee")
    pair = issue_api_tokens(admin, device_id="fuzzer-admin", client=APP, method="test")
    CREDENTIALS["SubscriberBearer"] = {"Authorization": f"Bearer {pair.access_token}"}
    lines = list(
        Line.objects.filter(account_id=company.account_id).order_by("id").values_list("id", "msisdn")
    )
    members = Membership.objects.filter(company=company).order_by("id")
    OWN.update(
        company_id=[company.pk],
        line_id=[line_id for line_id, _ in lines],
        line_msisdn=[msisdn for _, msisdn in lines],
        member_id=list(members.values_list("id", flat=True)),
        role=[role.value for role in Role],
        phone=[unique_msisdn(), unique_msisdn()],
    )
    try:
        yield admin
    finally:
        OWN.clear()


@company_schema.parametrize()
@_hypothesis
def test_api_v1_company_admin(case: Any, company_admin: User) -> None:
    # given an admin of a company with three lines, a viewer and an employee (the company_admin fixture)
    _call(case)


def test_every_company_operation_answers_the_admin_as_documented(company_admin: User) -> None:
    # given one schema-valid request per company operation, on the admin's own company and objects
    company_id, line_id = OWN["company_id"][0], OWN["line_id"][0]
    viewer_id = OWN["member_id"][1]
    requests = {
        ("GET", "/api/v1/companies/{company_id}"): ({"company_id": company_id}, None),
        ("GET", "/api/v1/companies/{company_id}/lines"): ({"company_id": company_id}, None),
        ("GET", "/api/v1/companies/{company_id}/lines/{line_id}"): (
            {"company_id": company_id, "line_id": line_id},
            None,
        ),
        ("GET", "/api/v1/companies/{company_id}/members"): ({"company_id": company_id}, None),
        ("POST", "/api/v1/companies/{company_id}/invitations"): (
            {"company_id": company_id},
            {
                "name": "Ivan Petrov",
                "phone": OWN["phone"][0],
                "role": "employee",
                "line": OWN["line_msisdn"][0],
            },
        ),
        ("PATCH", "/api/v1/companies/{company_id}/members/{member_id}"): (
            {"company_id": company_id, "member_id": viewer_id},
            {"role": "accountant"},
        ),
    }
    statuses = {}
    for (method, path), (path_parameters, body) in requests.items():
        operation = company_schema[path][method]
        kwargs: dict[str, Any] = {"path_parameters": path_parameters}
        if body is not None:
            kwargs["body"] = body
        # when the admin sends it with the bearer token
        case = operation.Case(**kwargs)
        response = case.call(headers=CREDENTIALS["SubscriberBearer"])
        # (every check but `ignored_auth`: these credentials are real, not generated ones it can remove)
        case.validate_response(response, excluded_checks=[ignored_auth])
        statuses[(method, path)] = response.status_code
    # then each is answered as documented, with the 2xx of a request the admin may make
    assert set(statuses.values()) <= {200, 201}
    assert statuses[("POST", "/api/v1/companies/{company_id}/invitations")] == 201


def test_every_company_operation_is_fuzzed_as_an_admin():
    # given the operations of the document tagged `companies`
    paths = json.loads(render(api))["paths"]
    company_operations = {
        operation["operationId"]
        for methods in paths.values()
        for operation in methods.values()
        if "companies" in operation.get("tags", [])
    }
    # then the admin's fuzzing covers each of them, and nothing else
    fuzzed = {result.ok().definition.raw["operationId"] for result in company_schema.get_all_operations()}
    assert fuzzed == company_operations
