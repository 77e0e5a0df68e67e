from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, Conflict, NotFound, ValidationFailed


class InvalidNumber(ValidationFailed):
    code = "invalid_number"
    default_message = _("This is not a valid phone number.")


class NumberTaken(Conflict):
    code = "number_taken"
    default_message = _("This number is already in use.")


class SimCardTaken(Conflict):
    code = "sim_card_taken"
    default_message = _("This SIM card (ICCID or IMSI) is already in use.")


class TariffNotAvailable(BusinessError):
    code = "tariff_not_available"
    status = 409
    default_message = _("This tariff is not available.")


class ServiceNotAllowed(BusinessError):
    code = "service_not_allowed"
    status = 409
    default_message = _("This service cannot be connected to this line.")


class ServiceClosed(ServiceNotAllowed):
    code = "service_closed"
    default_message = _("This service is closed for connection.")


class ServiceNotForTariff(ServiceNotAllowed):
    code = "service_not_for_tariff"
    default_message = _("This service is not available on your tariff.")


class ServiceRequiredBy(ServiceNotAllowed):
    code = "service_required_by"
    default_message = _("This service cannot be disconnected while %(dependant)s is connected.")


class ServiceRequires(ServiceNotAllowed):
    code = "service_requires"
    default_message = _("This service needs %(required)s to be connected first.")


class ServiceExcludes(ServiceNotAllowed):
    code = "service_excludes"
    default_message = _("This service cannot work together with %(other)s.")


class ServiceAlreadyConnected(Conflict):
    code = "service_already_connected"
    default_message = _("This service is already connected.")


class ServiceNotConnected(Conflict):
    code = "service_not_connected"
    default_message = _("This service is not connected.")


class LineTerminated(Conflict):
    code = "line_terminated"
    default_message = _("This line is terminated.")


class LineInDebt(Conflict):
    code = "line_in_debt"
    default_message = _(
        "This line is blocked for debt: it cannot move to another account until the debt is paid."
    )


class LineNotBlockedBySubscriber(Conflict):
    code = "line_not_blocked_by_subscriber"
    default_message = _("This line is not blocked at your request.")


class BlackListFull(Conflict):
    code = "black_list_full"
    default_message = _("The black list is full: it holds at most %(capacity)s numbers.")


class BlackListDuplicate(Conflict):
    code = "black_list_duplicate"
    default_message = _("This number is already on your black list.")


class BlackListOwnNumber(ValidationFailed):
    code = "black_list_own_number"
    default_message = _("You cannot put your own number on the black list.")


class BlackListEntryNotFound(NotFound):
    code = "black_list_entry_not_found"
    default_message = _("This number is not on your black list.")


class InvalidQuota(ValidationFailed):
    code = "invalid_quota"
    default_message = _("A quota is an amount of zero or more, or empty for no quota.")
