"""Typed business errors of companies (DESIGN.md §5.5)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, ValidationFailed

# --- Bulk requests (companies/bulk.py) --------------------------------------------------------------


class BulkRequestInvalid(ValidationFailed):
    code = "bulk_request_invalid"
    default_message = _("The bulk request is not valid.")


class BulkNothingToDo(BusinessError):
    code = "bulk_nothing_to_do"
    status = 422
    default_message = _("Choose at least one line.")
