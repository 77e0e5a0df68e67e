from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class BackofficeSite(admin.AdminSite):
    site_title = _("Selfcare back office")
    index_title = _("Operator back office")
    enable_nav_sidebar = True

    @property
    def site_header(self) -> str:  # type: ignore[override]
        return f"{settings.SELFCARE_OPERATOR_NAME} · {_('back office')}"
