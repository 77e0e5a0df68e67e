"""The OpenAPI document of /api/v1/: committed, complete, and the same as what is served.

The walk below covers every operation the API object has when the suite runs, so routes added by any
domain (the company API included) are checked without touching this file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from selfcare.api.openapi import render
from selfcare.api.urls import api

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
REGENERATE = "SELFCARE_DEBUG=1 uv run selfcare openapi --output docs/openapi.json"
PROBLEM = "application/problem+json"
# Operations anyone may call: liveness, the public help texts, and the sign-in flows themselves.
PUBLIC = {
    "GET /api/v1/ping",
    "GET /api/v1/help/contact",
    "GET /api/v1/help/faq",
    *(
        f"POST /api/v1/auth/{step}"
        for step in (
            "register/start",
            "register/confirm",
            "login",
            "login/confirm",
            "otp/start",
            "otp/confirm",
            "reset/start",
            "reset/confirm",
            "refresh",
        )
    ),
}
# 202/204 answers without a body are documented as such; every other success has a schema.
BODILESS = {"202", "204"}


def operations() -> list[tuple[str, dict[str, Any]]]:
    document = json.loads(render(api))
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_the_committed_document_is_what_the_code_describes():
    # given the document the routers describe now, rendered as the management command writes it
    expected = render(api)
    # when the committed copy is read
    committed = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
    # then they are the same, byte for byte
    assert committed == expected, f"docs/openapi.json is out of date: run `{REGENERATE}` and commit it"


def test_the_served_document_is_the_committed_one():
    # given the published document
    response = Client().get("/api/v1/openapi.json")
    # then it is JSON with sorted keys and the same content as docs/openapi.json
    assert response.status_code == 200
    served = response.json()
    assert served == json.loads(DOCUMENT.read_text(encoding="utf-8")), f"run `{REGENERATE}`"
    assert list(served) == sorted(served)
    assert list(served["paths"]) == sorted(served["paths"])


def test_rendering_is_stable():
    # when the document is rendered twice, then it is the same text
    assert render(api) == render(api)


def test_the_walk_sees_every_route_of_every_router():
    # given every operation the routers added to the API object serve (whatever domain added them)
    served = {
        (method, operation.view_func.__module__, operation.view_func.__name__)
        for _prefix, router in api._routers
        for path_view in router.path_operations.values()
        for operation in path_view.operations
        if operation.include_in_schema
        for method in operation.methods
    }
    # then the document has each of them once
    documented = [
        (name.split()[0], *operation["operationId"].rsplit("_api_", 1)) for name, operation in operations()
    ]
    assert len(documented) == len(set(documented)) == len(served)


@pytest.mark.parametrize(("name", "operation"), operations(), ids=[name for name, _ in operations()])
def test_every_operation_is_fully_described(name: str, operation: dict[str, Any]):
    problems: list[str] = []
    responses: dict[str, Any] = operation["responses"]
    if not operation.get("summary"):
        problems.append("no summary")
    if not operation.get("tags"):
        problems.append("no tags")
    if not operation.get("operationId"):
        problems.append("no operationId")
    successes = {status: r for status, r in responses.items() if status.startswith("2")}
    if not successes:
        problems.append("no 2xx response")
    for status, response in successes.items():
        content = response.get("content", {})
        if not content and status not in BODILESS:
            problems.append(f"{status} has no body schema")
        for media_type, media in content.items():
            if "schema" not in media:
                problems.append(f"{status} {media_type} has no schema")
            if "example" not in media and "examples" not in media:
                problems.append(f"{status} {media_type} has no example")
    for status, response in responses.items():
        if int(status) < 400:
            continue
        media = response.get("content", {}).get(PROBLEM)
        if media is None or set(response["content"]) != {PROBLEM}:
            problems.append(f"{status} is not problem+json only")
            continue
        if media.get("schema") != {"$ref": "#/components/schemas/Problem"}:
            problems.append(f"{status} is not the Problem schema")
        if media.get("example", {}).get("status") != int(status):
            problems.append(f"{status} has no example of its own status")
    body = operation.get("requestBody")
    if body is not None:
        for media_type, media in body.get("content", {}).items():
            if "schema" not in media or "example" not in media:
                problems.append(f"request body {media_type} has no schema or no example")
    if (operation.get("parameters") or body is not None) and "422" not in responses:
        problems.append("takes input but does not document 422")
    if name in PUBLIC:
        if operation.get("security"):
            problems.append("public operation asks for credentials")
    else:
        if not operation.get("security"):
            problems.append("no security requirement (add it, or list the operation as public here)")
        elif "401" not in responses:
            problems.append("needs credentials but does not document 401")
    for parameter in operation.get("parameters", []):
        if (
            parameter["in"] == "header"
            and parameter["name"] == "Idempotency-Key"
            and not parameter["required"]
        ):
            problems.append("Idempotency-Key is optional")
    assert not problems, f"{name}: " + "; ".join(problems)


def test_money_moving_writes_document_the_idempotency_key():
    # given the operations that move money (top-ups, promised payments, paid changes, paid orders)
    money = {
        "POST /api/v1/payments/topups",
        "POST /api/v1/payments/promised",
        "POST /api/v1/changes/tariffs/{tariff_id}",
        "POST /api/v1/changes/services/{service_id}/connect",
        "POST /api/v1/changes/services/{service_id}/disconnect",
        "POST /api/v1/black-list/",
        "POST /api/v1/statements/",
    }
    documented = {
        name
        for name, operation in operations()
        if any(
            p["in"] == "header" and p["name"] == "Idempotency-Key" and p["required"]
            for p in operation.get("parameters", [])
        )
    }
    # then each takes a required Idempotency-Key header
    assert money <= documented, sorted(money - documented)


def test_statuses_every_operation_shares_are_added_to_what_a_router_lists():
    # given the usage push, whose router lists only its answer and the batch limit
    operation = dict(operations())["POST /api/v1/network/usage"]
    # then the document adds 401 and 403 (an API key, with a scope), 422 (it takes a body) and 400 (a
    # body that is not JSON at all)
    assert sorted(operation["responses"]) == ["200", "400", "401", "403", "413", "422"]
    assert operation["responses"]["403"]["content"][PROBLEM]["example"] == {
        "code": "insufficient_scope",
        "status": 403,
        "title": "The credentials do not allow this operation.",
        "type": "https://selfcare.invalid/problems/insufficient_scope",
    }


def test_every_schema_class_has_its_own_name():
    """ninja names OpenAPI components by class name: two classes of one name in two apps would make
    one operation's response point at the other's schema (found by the fuzzer: a tariff list validated
    against the home page's tariff)."""
    from ninja import Schema

    import selfcare.api.urls  # noqa: F401  (every router and its schemas imported)

    def subclasses(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found.append(sub)
            found.extend(subclasses(sub))
        return found

    ours = [c for c in subclasses(Schema) if c.__module__.startswith("selfcare.")]
    by_name: dict[str, set[str]] = {}
    for cls in ours:
        by_name.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__}")
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}
