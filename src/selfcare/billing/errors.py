from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError


class NotABlackListService(BusinessError):
    code = "not_a_black_list_service"
    status = 409
    default_message = _("This service is not a black list.")
