from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, Conflict, NotFound, ValidationFailed


class AmountOutOfRange(ValidationFailed):
    code = "amount_out_of_range"
    default_message = _("The amount must be between %(min)s and %(max)s.")


class LineNotPayable(BusinessError):
    code = "line_not_payable"
    status = 422
    default_message = _("This number cannot be topped up.")


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    default_message = _("There is no such payment.")


class PaymentKeyReused(Conflict):
    code = "idempotency_conflict"
    default_message = _("This idempotency key was already used for a different payment.")


class ProviderUnavailable(BusinessError):
    code = "payment_provider_unavailable"
    status = 503
    default_message = _("The payment service is not answering. Please try again in a few minutes.")


class InvalidWebhook(BusinessError):
    code = "invalid_webhook"
    status = 400
    default_message = _("The notification is not valid.")


class CardNotFound(NotFound):
    code = "card_not_found"
    default_message = _("There is no such saved card.")


class AutopayInvalid(ValidationFailed):
    code = "autopay_invalid"
    default_message = _("These autopay settings are not valid.")


class PromisedNotAvailable(BusinessError):
    code = "promised_not_available"
    status = 422
    default_message = _("A promised payment is not available: %(reason)s")


class PromisedAmountNotAllowed(ValidationFailed):
    code = "promised_amount_not_allowed"
    default_message = _("This amount is not offered.")
