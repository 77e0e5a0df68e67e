from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, ValidationFailed


class NotABlackListService(BusinessError):
    code = "not_a_black_list_service"
    status = 409
    default_message = _("This service is not a black list.")


# --- Product changes (billing/changes.py, docs/billing.md "Product changes") --------------------------


class TariffClosed(BusinessError):
    code = "tariff_closed"
    status = 409
    default_message = _("This tariff is closed: it cannot be chosen any more.")


class TariffAlreadyCurrent(BusinessError):
    code = "tariff_already_current"
    status = 409
    default_message = _("This is already your tariff.")


class TariffIncompatibleService(BusinessError):
    code = "tariff_incompatible_service"
    status = 409
    default_message = _("%(service)s does not work with this tariff: disconnect it first.")


class InsufficientBalance(BusinessError):
    code = "insufficient_balance"
    status = 402
    default_message = _("There is not enough money on the balance: you need %(missing)s more.")


class LineBlockedForDebt(BusinessError):
    code = "line_blocked_for_debt"
    status = 409
    default_message = _("The line is blocked for debt: top up the balance first.")


class LineBlockedBySubscriber(BusinessError):
    code = "line_blocked_by_subscriber"
    status = 409
    default_message = _("The line is blocked at your request: unblock it first.")


class BlackListNotAvailable(BusinessError):
    code = "black_list_not_available"
    status = 409
    default_message = _("The black list service is not available.")


class ChangeKeyReused(BusinessError):
    code = "idempotency_key_reused"
    status = 409
    default_message = _("This request key was already used for a different change.")


class InvalidRequestKey(ValidationFailed):
    code = "invalid_idempotency_key"
    default_message = _("The Idempotency-Key is missing or not valid.")


# --- Balance adjustments by staff (billing.services.adjust_balance, docs/backoffice.md) --------------


class AdjustmentInvalid(ValidationFailed):
    code = "adjustment_invalid"
    default_message = _("Give a non-zero amount and a reason of at most %(limit)s characters.")


class AdjustmentBelowFloor(BusinessError):
    code = "adjustment_below_floor"
    status = 409
    default_message = _(
        "This debit would leave %(after)s on the balance, below the lowest allowed %(floor)s. "
        "Debit less, or tick “allow below the floor” (down to %(hard_floor)s at most)."
    )


class AdjustmentKeyReused(BusinessError):
    code = "idempotency_key_reused"
    status = 409
    default_message = _("This adjustment form was already used for a different adjustment: open it again.")
