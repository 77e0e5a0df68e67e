from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import Conflict, NotFound, ValidationFailed


class InvalidPeriod(ValidationFailed):
    code = "invalid_period"
    default_message = _("Choose days up to %(latest)s, the first not after the last.")


class MonthNotClosed(ValidationFailed):
    code = "month_not_closed"
    default_message = _("The month %(month)s is not over yet: its documents are issued after it ends.")


class CompanyNotFound(NotFound):
    # Also what a person without the admin or accountant role in the company is told: nothing about a
    # company's documents is revealed to someone who may not see them.
    code = "company_not_found"
    default_message = _("There is no such company, or you may not see its documents.")


class DocumentNotFound(NotFound):
    code = "document_not_found"
    default_message = _("There is no such document.")


class DocumentNotReady(Conflict):
    code = "document_not_ready"
    default_message = _("The document is not ready yet.")
