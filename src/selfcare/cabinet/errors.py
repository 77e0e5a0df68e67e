"""Typed refusals of the cabinet's API (kit.errors): rendered as problem+json."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import ValidationFailed


class PeriodBackwards(ValidationFailed):
    code = "period_backwards"
    default_message = _("The start of the period is after its end.")
