"""One handler renders typed business errors for pages (DESIGN.md §5.5).

Views call `render_business_error` in their `except BusinessError` branch: a full page gets a message
and the form again; an htmx request gets just the message fragment with status 200 for htmx to swap
(htmx does not swap 4xx responses by default).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from selfcare.kit.errors import BusinessError


def render_business_error(request: HttpRequest, exc: BusinessError) -> HttpResponse | None:
    """For htmx: the fragment to swap in. For full pages: adds a message and returns None."""
    if getattr(request, "htmx", False):
        html = render_to_string("web/error_fragment.html", {"error": exc}, request=request)
        return HttpResponse(html)
    messages.error(request, exc.render_message())
    return None
