from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def operator(request: HttpRequest) -> dict[str, Any]:
    return {
        "operator_name": settings.SELFCARE_OPERATOR_NAME,
        "help_number": settings.SELFCARE_HELP_NUMBER,
        "is_rtl": translation.get_language_bidi(),
        "demo_mode": settings.DEMO,
    }
