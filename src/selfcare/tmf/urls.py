"""URLs under /tmf-api/: the TMF NinjaAPI, with TMF's Error for what it does not serve.

A path TMF defines with a method we do not implement (PATCH, DELETE, POST on the catalog...) answers
405 and a path we do not serve at all 404, both in TMF's Error shape rather than Django's plain pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from selfcare.tmf.api import tmf_api, tmf_error
from selfcare.tmf.errors import NotImplementedOperation


def _tmf_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
            return response
        refused = NotImplementedOperation()
        answer = tmf_error(request, 405, code=refused.code, reason=refused.render_message())
        answer["Allow"] = response.get("Allow", "")
        return answer

    return wrapper


def _with_tmf_errors(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    wrapped: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern = URLPattern(
                pattern.pattern, _tmf_not_allowed(pattern.callback), pattern.default_args, pattern.name
            )
        wrapped.append(pattern)
    return wrapped


@csrf_exempt
def not_served(request: HttpRequest, rest: str = "") -> HttpResponse:
    return tmf_error(request, 404, code="not_found", reason=gettext("Not found."))


_api_patterns, _api_app, _api_namespace = tmf_api.urls

# Mounted as `path("tmf-api/", urls)`: ninja's own app and namespace, so its docs page finds its schema.
urls = (
    [*_with_tmf_errors(list(_api_patterns)), re_path(r"^(?P<rest>.*)$", not_served, name="not-served")],
    _api_app,
    _api_namespace,
)
