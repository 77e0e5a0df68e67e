"""Typed business errors (DESIGN.md §5.5).

Each error has a stable machine `code`, an HTTP status and a translatable message. One handler
(`selfcare.web.errors`) turns them into a page message, an htmx fragment or RFC 9457 problem JSON.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class BusinessError(Exception):
    code: ClassVar[str] = "business_error"
    status: ClassVar[int] = 400
    default_message: ClassVar[str | Promise] = _("The operation cannot be done.")

    def __init__(self, message: str | Promise | None = None, **params: Any) -> None:
        self.params = params
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))

    def render_message(self) -> str:
        text = str(self.message)
        try:
            return text % self.params if self.params else text
        except (KeyError, TypeError, ValueError):
            return text

    def as_problem(self) -> dict[str, Any]:
        return {
            "type": f"https://selfcare.invalid/problems/{self.code}",
            "title": self.render_message(),
            "status": self.status,
            "code": self.code,
        }


class NotFound(BusinessError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(BusinessError):
    code = "conflict"
    status = 409
    default_message = _("The operation conflicts with the current state.")


class ValidationFailed(BusinessError):
    code = "validation_failed"
    status = 422
    default_message = _("The data is not valid.")
