"""Typed errors of the corporate cabinet (docs/companies.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, Conflict, NotFound, ValidationFailed


class NotAllowed(BusinessError):
    """The member's role does not allow this (their own company's object, so the page exists)."""

    code = "forbidden"
    status = 403
    default_message = _("Your role in this company does not allow this.")


class CompanyNotFound(NotFound):
    code = "not_found"


class LastAdmin(Conflict):
    code = "last_admin"
    default_message = _("A company must keep at least one administrator.")


class InvalidRole(ValidationFailed):
    code = "invalid_role"
    default_message = _("This role does not exist.")


class EmployeeNeedsLine(ValidationFailed):
    code = "employee_needs_line"
    default_message = _("An employee must be given one of the company's lines.")


class InvalidInvitationPhone(ValidationFailed):
    code = "invalid_number"
    default_message = _("This is not a valid phone number.")


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = _("This person is already a member of the company.")
