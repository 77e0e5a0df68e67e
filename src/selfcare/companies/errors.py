"""Typed errors of business applications and invitations.

A number and PUK pair that does not match is one error whatever was wrong (an unknown number, a
wrong PUK, a line without a PUK, a closed line): its message never tells which part it was.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, Conflict, NotFound, ValidationFailed


class InvalidTaxId(ValidationFailed):
    code = "invalid_tax_id"
    default_message = _("This is not a valid tax id. Check the digits.")


class NumberOrPukWrong(ValidationFailed):
    code = "number_or_puk_wrong"
    default_message = _(
        "This number and PUK code do not match. Check both: the PUK is printed on the card the SIM came in."
    )


class NumberNotAvailable(Conflict):
    code = "number_not_available"
    default_message = _("This number already belongs to a company or to another application.")


class NumberNotEligible(Conflict):
    code = "number_not_eligible"
    default_message = _("This number is blocked for debt: pay the debt first, then add it.")


class DuplicateNumber(ValidationFailed):
    code = "duplicate_number"
    default_message = _("This number is listed twice.")


class NumbersRefused(ValidationFailed):
    """Some numbers of an application cannot be taken; `problems` says which and why (by E.164)."""

    code = "numbers_refused"
    default_message = _("Some numbers cannot be added. See the message next to each of them.")

    def __init__(self, problems: dict[str, BusinessError], **params: Any) -> None:
        super().__init__(**params)
        self.problems = problems


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    default_message = _("There is no such application.")


class ApplicationNotPending(Conflict):
    code = "application_not_pending"
    default_message = _("This application has already been decided.")


class InvalidAccountTerms(ValidationFailed):
    code = "invalid_account_terms"
    default_message = _("A postpaid account needs a credit limit of zero or more; a prepaid one has none.")


class RejectionReasonRequired(ValidationFailed):
    code = "rejection_reason_required"
    default_message = _("Write the reason for the rejection: the applicant receives it.")


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    default_message = _("This invitation link is not valid. Check that you opened the whole link.")


class InvitationExpired(Conflict):
    code = "invitation_expired"
    default_message = _(
        "This invitation has expired. Ask the company's administrator or our help line for a new one."
    )


class InvitationAlreadyAccepted(Conflict):
    code = "invitation_already_accepted"
    default_message = _("This invitation has already been accepted. Sign in with your number and password.")


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = _("You are already a member of this company.")


class InvalidInvitation(ValidationFailed):
    code = "invalid_invitation"
    default_message = _("An employee's invitation names their line; other roles name none.")


# --- Bulk requests (companies/bulk.py) --------------------------------------------------------------


class BulkRequestInvalid(ValidationFailed):
    code = "bulk_request_invalid"
    default_message = _("The bulk request is not valid.")


class BulkNothingToDo(BusinessError):
    code = "bulk_nothing_to_do"
    status = 422
    default_message = _("Choose at least one line.")


# --- The corporate cabinet: roles and members -------------------------------------------------------


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


class PersonAlreadyMember(Conflict):
    code = "already_member"
    default_message = _("This person is already a member of the company.")
