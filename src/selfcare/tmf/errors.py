"""Refusals of the TMF endpoints (kit/errors.py conventions: a stable code and a translated message)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError


class BadPaging(BusinessError):
    code = "bad_paging"
    status = 400
    default_message = _("The offset and the limit must be whole numbers, not negative.")


class BadFilter(BusinessError):
    code = "bad_filter"
    status = 400
    default_message = _("This filter is not supported: %(name)s.")


class NotMonetary(BusinessError):
    code = "not_monetary"
    status = 400
    default_message = _("Only the money balance can be topped up (usageType monetary).")


class WrongCurrency(BusinessError):
    code = "wrong_currency"
    status = 400
    default_message = _("The amount must be in %(currency)s.")


class InvalidTopupAmount(BusinessError):
    code = "invalid_amount"
    status = 400
    default_message = _("The amount is not a valid amount of %(currency)s.")


class UnknownBalance(BusinessError):
    """A top-up naming a bucket or an account that is not the caller's own money balance."""

    code = "unknown_balance"
    status = 400
    default_message = _("There is no such bucket or account of yours.")


class MissingIdempotencyKey(BusinessError):
    code = "idempotency_key_required"
    status = 400
    default_message = _("The Idempotency-Key is missing or not valid.")


class NotImplementedOperation(BusinessError):
    code = "not_implemented"
    status = 405
    default_message = _("This operation is not implemented.")
