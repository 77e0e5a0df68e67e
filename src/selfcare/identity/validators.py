"""Password rules of NIST SP 800-63B: length, not common, not the subscriber's own number. No composition
rules (they make passwords worse, not stronger)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Argon2 hashes any length; the cap only keeps a request from making the server hash megabytes.
PASSWORD_MAX_LENGTH = 256


def normalize_password(password: str) -> str:
    """NFKC, so the same password typed on two keyboards (composed or decomposed letters) matches."""
    return unicodedata.normalize("NFKC", password)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class SubscriberPasswordValidator:
    """At most PASSWORD_MAX_LENGTH characters, and not containing the user's number (in any of its
    usual spellings: with the country code, or the national part of at least 7 digits)."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > PASSWORD_MAX_LENGTH:
            raise ValidationError(
                _("The password is too long: at most %(max)d characters."),
                code="password_too_long",
                params={"max": PASSWORD_MAX_LENGTH},
            )
        msisdn = getattr(user, "msisdn", None) or ""
        if msisdn and self._contains_number(password, msisdn):
            raise ValidationError(
                _("The password must not contain your phone number."), code="password_has_number"
            )

    @staticmethod
    def _contains_number(password: str, msisdn: str) -> bool:
        number = _digits(msisdn)
        password_digits = _digits(password)
        # The last 7 digits are what people type when they "use their number" (national part without
        # the operator code would be shorter and match too much).
        return len(number) >= 7 and (number in password_digits or number[-7:] in password_digits)

    def get_help_text(self) -> str:
        return str(_("Your password must not contain your phone number."))
