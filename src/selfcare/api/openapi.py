"""The OpenAPI document of /api/v1/, completed and made deterministic.

django-ninja describes each operation from its signature and its `response=` mapping. This module adds
what every operation of the API shares, so that no domain's router can forget it:

- every error response (4xx/5xx) is `application/problem+json` with the `Problem` schema and an example;
- `401` on every operation that needs credentials, `403` on the network API (a key without the scope),
  `422` on every operation that takes parameters or a body (the request's own validation), `400` on every
  operation with a body (one that is not JSON at all cannot be parsed); a rate-limited
  operation lists `429` itself (in its `response=` mapping);
- an example for every request body and every 2xx response with a body, built from the schema (field
  `examples` and defaults first, then a plain value of the type), unless the operation gives its own;
- keys sorted at every level, so the served document and `docs/openapi.json` are byte-for-byte stable.

`selfcare openapi --output docs/openapi.json` writes the document; tests/api/test_openapi.py fails when
the committed copy differs from what the code describes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from selfcare.api.problems import PROBLEM_CONTENT_TYPE

PROBLEM_REF = "#/components/schemas/Problem"

# What a client sees most often under each status; the `code` of a real answer may be more specific.
PROBLEM_EXAMPLES: dict[int, tuple[str, str]] = {
    400: ("business_error", "The operation cannot be done."),
    401: ("unauthorized", "Authentication is required."),
    402: ("insufficient_balance", "There is not enough money on the balance."),
    403: ("insufficient_scope", "The credentials do not allow this operation."),
    404: ("not_found", "Not found."),
    409: ("conflict", "The operation conflicts with the current state."),
    410: ("gone", "It is no longer available."),
    413: ("batch_too_large", "A batch holds at most 10000 records."),
    422: ("validation_failed", "The data is not valid."),
    429: ("too_many_requests", "Too many attempts. Try again later."),
    503: ("payment_provider_unavailable", "The payment provider is not available now. Try again later."),
}

_STRING_FORMATS = {
    "date-time": "2026-03-02T09:00:00+03:00",
    "date": "2026-03-02",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "anna@example.com",
    "uri": "https://selfcare.example/",
}


def problem_example(status: int) -> dict[str, Any]:
    code, title = PROBLEM_EXAMPLES.get(status, (f"http_{status}", HTTPStatus(status).phrase))
    example: dict[str, Any] = {
        "code": code,
        "status": status,
        "title": title,
        "type": f"https://selfcare.invalid/problems/{code}",
    }
    if status == 422:
        example["errors"] = [{"loc": ["body", "payload", "amount_minor"], "msg": "Field required"}]
    return example


def example_of(schema: Mapping[str, Any], components: Mapping[str, Any], depth: int = 0) -> Any:
    """A plausible value of `schema`: its own example, else one built from its parts."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return example_of(components.get(name, {}), components, depth)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            variants = [v for v in schema[key] if v.get("type") != "null"] or schema[key]
            return example_of(variants[0], components, depth)
    if "allOf" in schema:
        return example_of(schema["allOf"][0], components, depth)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 6:
            return {}
        return {
            name: example_of(prop, components, depth + 1)
            for name, prop in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [example_of(schema.get("items", {}), components, depth + 1)]
    if kind == "integer":
        return max(int(schema.get("minimum", 0)), 1)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "string":
        return _STRING_FORMATS.get(str(schema.get("format", "")), "string")
    return None


def _problem_content(status: int) -> dict[str, Any]:
    return {PROBLEM_CONTENT_TYPE: {"example": problem_example(status), "schema": {"$ref": PROBLEM_REF}}}


def _error_response(status: int) -> dict[str, Any]:
    return {"content": _problem_content(status), "description": HTTPStatus(status).phrase}


def _uses_api_key(operation: Mapping[str, Any], schemes: Mapping[str, Any]) -> bool:
    return any(
        schemes.get(name, {}).get("type") == "apiKey"
        for requirement in operation.get("security", [])
        for name in requirement
    )


def _complete_operation(operation: dict[str, Any], components: Mapping[str, Any]) -> None:
    # ninja keys responses by int; JSON (and the document's readers) by string.
    responses: dict[str, Any] = {
        str(status): value for status, value in operation.get("responses", {}).items()
    }
    operation["responses"] = responses
    schemes = components.get("securitySchemes", {})
    schemas = components.get("schemas", {})
    needed: set[int] = set()
    if operation.get("security"):
        needed.add(401)
        if _uses_api_key(operation, schemes):
            needed.add(403)
    if operation.get("parameters") or operation.get("requestBody"):
        needed.add(422)
    if operation.get("requestBody"):
        needed.add(400)  # a body that is not JSON at all: ninja's "Cannot parse request body"
    for status in needed:
        responses.setdefault(str(status), {"description": HTTPStatus(status).phrase})
    for status_text, response in responses.items():
        status = int(status_text)
        if status >= 400:
            response["content"] = _problem_content(status)
            response.setdefault("description", HTTPStatus(status).phrase)
            continue
        for media in response.get("content", {}).values():
            if "schema" in media and "example" not in media and "examples" not in media:
                media["example"] = example_of(media["schema"], schemas)
    body = operation.get("requestBody")
    if body:
        for media in body.get("content", {}).values():
            if "schema" in media and "example" not in media and "examples" not in media:
                media["example"] = example_of(media["schema"], schemas)


def sorted_deep(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): sorted_deep(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [sorted_deep(item) for item in value]
    return value


def complete_schema(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            _complete_operation(operation, components)
    result: dict[str, Any] = sorted_deep(schema)
    return result


class SelfcareAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document is completed (see the module's docstring) and key-sorted."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        completed = complete_schema(dict(schema))
        schema.clear()
        schema.update(completed)
        return schema


def render(api: NinjaAPI, path_prefix: str = "/api/v1") -> str:
    """The document as committed in docs/openapi.json: sorted keys, two-space indent, final newline."""
    return json.dumps(api.get_openapi_schema(path_prefix=path_prefix), indent=2, sort_keys=True) + "\n"
