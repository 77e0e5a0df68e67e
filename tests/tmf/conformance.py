"""Checking our responses against TM Forum's own Swagger files (the copies committed in docs/tmf/).

`assert_conforms` looks the operation up in the Swagger file by method and path template, requires the
response's status code to be one the operation documents, validates the body with `jsonschema` against
the schema documented for that status (`$ref`s resolved inside the same file) and checks the documented
headers (X-Total-Count, X-Result-Count) are present and integers. Formats are checked too: `date-time`
as RFC 3339 (with an offset) and `uri` as absolute.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker

SPEC_DIR = Path(__file__).resolve().parents[2] / "docs" / "tmf"
SPECS = {
    "TMF620": "TMF620-ProductCatalog-v4.1.0.swagger.json",
    "TMF635": "TMF635-UsageManagement-v4.0.0.swagger.json",
    "TMF654": "TMF654-PrepayBalance-v4.0.0.swagger.json",
    "TMF677": "TMF677-UsageConsumption-v4.0.0.swagger.json",
}

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        raise ValueError(f"{value!r} has no time")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no offset")
    return True


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@functools.cache
def spec(api: str) -> dict[str, Any]:
    return dict(json.loads((SPEC_DIR / SPECS[api]).read_text(encoding="utf-8")))


def base_path(api: str) -> str:
    return str(spec(api)["basePath"]).rstrip("/")


def operation(api: str, method: str, template: str) -> dict[str, Any]:
    paths = spec(api)["paths"]
    assert template in paths, f"{api} defines no path {template}"
    assert method.lower() in paths[template], f"{api} defines no {method.upper()} {template}"
    return dict(paths[template][method.lower()])


def operation_ids(api: str) -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path template) of every operation the Swagger file defines."""
    return {
        op["operationId"]: (method.upper(), template)
        for template, ops in spec(api)["paths"].items()
        for method, op in ops.items()
    }


def validator(api: str, schema: dict[str, Any]) -> Draft4Validator:
    # The schema is checked inside a document that carries the file's definitions, so that each
    # "#/definitions/..." reference resolves within the same Swagger file.
    return Draft4Validator(
        {"definitions": spec(api)["definitions"], "allOf": [schema]}, format_checker=FORMATS
    )


def violations(api: str, schema: dict[str, Any], body: Any) -> list[str]:
    found = validator(api, schema).iter_errors(body)
    return sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in found
    )


def assert_conforms(api: str, method: str, template: str, response: Any) -> Any:
    """Assert the response is one TMF documents for the operation; returns the parsed body."""
    documented = operation(api, method, template)["responses"]
    status = str(response.status_code)
    assert status in documented, (
        f"{method.upper()} {template} answered {status}, which {api} does not document "
        f"({sorted(documented)}): {response.content[:300]!r}"
    )
    entry = documented[status]
    body = json.loads(response.content) if response.content else None
    if "schema" in entry:
        assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
        problems = violations(api, entry["schema"], body)
        assert not problems, f"{method.upper()} {template} ({status}) breaks {api}:\n" + "\n".join(problems)
    for header, declared in entry.get("headers", {}).items():
        assert response.has_header(header), f"{method.upper()} {template}: no {header} header"
        if declared.get("type") == "integer":
            assert response[header].isdigit(), f"{header}: {response[header]!r}"
    return body
