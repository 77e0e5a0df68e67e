"""RFC 9457 problem details: the one error shape of the JSON API (DESIGN.md §8)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from selfcare.kit.errors import BusinessError

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_response(api: NinjaAPI, request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    response = api.create_response(request, body, status=body["status"])
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    return response


def _problem(code: str, title: str, status: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://selfcare.invalid/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        **extra,
    }


def install_problem_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(BusinessError)
    def business_error(request: HttpRequest, exc: BusinessError) -> HttpResponse:
        return problem_response(api, request, exc.as_problem())

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        from django.utils.translation import gettext

        errors = [
            {"loc": [str(part) for part in error.get("loc", [])], "msg": str(error.get("msg", ""))}
            for error in exc.errors
        ]
        return problem_response(
            api, request, _problem("validation_failed", gettext("The data is not valid."), 422, errors=errors)
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        from django.utils.translation import gettext

        return problem_response(
            api, request, _problem("unauthorized", gettext("Authentication is required."), 401)
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem_response(api, request, _problem(f"http_{exc.status_code}", str(exc), exc.status_code))
