"""Role and ownership checks for every corporate page and API route (docs/companies.md).

A route names a company (`company_id`) and sometimes one of its objects. The member's standing comes
from `queries.get_access` (the one place that resolves company and role); then:

- not signed in: the sign-in page (pages) or 401 (API);
- not a member of that company (a subscriber, staff, another company's people): 404, as if the
  company did not exist;
- a member whose role lacks the permission: 403;
- an object (a line, a member) not of this company, or a line other than an employee's own: 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from selfcare.companies import queries
from selfcare.companies.errors import CompanyNotFound, NotAllowed
from selfcare.companies.queries import CompanyAccess, Permission

CompanyView = Callable[..., HttpResponse]


def company_page(permission: Permission | None = None) -> Callable[[CompanyView], CompanyView]:
    """A page of one company: the view gets the member's CompanyAccess after `request`; `permission`
    None lets every member in (the view then checks what it shows, e.g. an employee's own line)."""

    def decorator(view: CompanyView) -> CompanyView:
        @wraps(view)
        def wrapped(request: HttpRequest, company_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
            access = queries.get_access(request.user, company_id)
            if access is None:
                raise Http404
            if permission is not None and not access.can(permission):
                raise PermissionDenied
            return view(request, access, *args, **kwargs)

        return never_cache(login_required(wrapped))

    return decorator


def page_line(access: CompanyAccess, line_id: int) -> Any:
    """A line the member may see, or 404."""
    line = queries.get_company_line(access, line_id)
    if line is None:
        raise Http404
    return line


def api_access(request: HttpRequest, company_id: int, permission: Permission | None = None) -> CompanyAccess:
    """The caller's standing in the company for an API route: 404 when not a member, 403 when the role
    lacks `permission` (problem+json through the API's handlers)."""
    access = queries.get_access(request.user, company_id)
    if access is None:
        raise CompanyNotFound()
    if permission is not None and not access.can(permission):
        raise NotAllowed()
    return access


def api_line(access: CompanyAccess, line_id: int) -> Any:
    line = queries.get_company_line(access, line_id)
    if line is None:
        raise CompanyNotFound()
    return line
