from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TmfConfig(AppConfig):
    name = "selfcare.tmf"
    label = "tmf"
    verbose_name = _("TM Forum API")
