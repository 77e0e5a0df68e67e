from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, Conflict, ValidationFailed


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


class LineNotBlockedBySubscriber(Conflict):
    code = "line_not_blocked_by_subscriber"
    default_message = _("This line is not blocked at your request.")
