"""Typed errors of the identity flows. Their messages never say whether a number or account exists."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, NotFound, ValidationFailed


class InvalidPhone(ValidationFailed):
    code = "invalid_number"
    default_message = _("This is not a valid phone number.")


class TooManyRequests(BusinessError):
    code = "too_many_requests"
    status = 429
    default_message = _("Too many requests. Please try again later.")


class ResendTooSoon(TooManyRequests):
    code = "resend_too_soon"
    default_message = _("A code was sent a moment ago. Please wait a minute before asking for another one.")


class LoginDelayed(TooManyRequests):
    code = "login_delayed"
    default_message = _("Too many failed attempts. Please try again in %(seconds)d seconds.")


class InvalidCredentials(BusinessError):
    code = "invalid_credentials"
    status = 401
    default_message = _("The number, alias or password is wrong.")


class InvalidCode(BusinessError):
    code = "invalid_code"
    status = 400
    default_message = _("The code is wrong or has expired. Check it or ask for a new one.")


class InvalidToken(BusinessError):
    code = "invalid_token"
    status = 401
    default_message = _("The token is not valid. Please sign in again.")


class WrongCurrentPassword(BusinessError):
    code = "wrong_current_password"
    status = 400
    default_message = _("The current password is wrong.")


class AliasNotAvailable(ValidationFailed):
    code = "alias_not_available"
    default_message = _(
        "This alias cannot be used. Use 3 to 30 Latin letters, digits, dots, dashes or underscores, "
        "starting with a letter, and not taken by someone else."
    )


class MissingScope(BusinessError):
    """A valid API key that was not given the scope this route needs (403, not 401: the key is known)."""

    code = "insufficient_scope"
    status = 403
    default_message = _("This API key may not do this: it lacks the scope %(scope)s.")


class InvalidEmail(ValidationFailed):
    code = "invalid_email"
    default_message = _("Enter a valid e-mail address, like name@example.com.")


class EmailNotEditable(BusinessError):
    code = "email_not_editable"
    status = 403
    default_message = _("Statements of this line go to your company's address; your company can change it.")


class UnknownLanguage(ValidationFailed):
    code = "unknown_language"
    default_message = _("This language is not offered.")


class UnknownSmsKind(ValidationFailed):
    code = "unknown_sms_kind"
    default_message = _("There is no such kind of SMS.")


class NoLine(NotFound):
    code = "no_line"
    default_message = _("No line belongs to this account.")
