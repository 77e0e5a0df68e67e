from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LinesConfig(AppConfig):
    name = "selfcare.lines"
    verbose_name = _("Subscribers and lines")
