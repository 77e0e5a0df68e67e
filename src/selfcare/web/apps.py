from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The site frame: landing pages, health and metrics endpoints, CSP and request logging."""

    name = "selfcare.web"
    verbose_name = _("Web")
