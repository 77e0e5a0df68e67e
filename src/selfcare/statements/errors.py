from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, Conflict, NotFound, ValidationFailed


class InvalidPeriod(ValidationFailed):
    code = "invalid_period"
    default_message = _("Choose days from %(earliest)s to %(latest)s, the first not after the last.")


class NoCategories(ValidationFailed):
    code = "no_categories"
    default_message = _("Choose at least one kind of event: calls, SMS, mobile internet or other charges.")


class UnknownFormat(ValidationFailed):
    code = "unknown_format"
    default_message = _("Choose PDF, XLSX or CSV.")


class NoEmail(ValidationFailed):
    code = "no_email"
    default_message = _(
        "There is no e-mail address for statements in your profile: add one, or untick e-mail."
    )


class NoPhone(ValidationFailed):
    code = "no_phone"
    default_message = _("Call detail is confirmed by an SMS code, and your account has no phone number.")


class WrongCode(ValidationFailed):
    code = "invalid_code"
    default_message = _("The code is wrong or has expired. Ask for a new one.")


class OrderKeyReused(Conflict):
    code = "idempotency_conflict"
    default_message = _("This idempotency key was already used for a different order.")


class OrderNotFound(NotFound):
    code = "statement_not_found"
    default_message = _("There is no such call-detail order.")


class NotReady(Conflict):
    code = "statement_not_ready"
    default_message = _("The statement is not ready yet.")


class LinkInvalid(BusinessError):
    code = "link_invalid"
    status = 403
    default_message = _("This download link is not valid.")


class LinkNotYours(BusinessError):
    code = "link_not_yours"
    status = 403
    default_message = _("This download link was issued to someone else.")


class LinkExpired(BusinessError):
    code = "link_expired"
    status = 410
    default_message = _("This download link has expired. Open the order in your account for a new one.")


class StatementGone(BusinessError):
    code = "statement_gone"
    status = 410
    default_message = _("This statement was deleted after its retention period. You can order it again.")
