from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CabinetConfig(AppConfig):
    name = "selfcare.cabinet"
    label = "cabinet"
    verbose_name = _("Subscriber cabinet")
