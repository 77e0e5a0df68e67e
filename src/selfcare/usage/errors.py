from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError


class BatchTooLarge(BusinessError):
    code = "batch_too_large"
    status = 413
    default_message = _("A batch holds at most %(limit)s records.")
