from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class BackofficeAdminConfig(admin_apps.AdminConfig):
    """Django admin with the operator's back-office site instead of the stock one."""

    default = False
    default_site = "selfcare.backoffice.site.BackofficeSite"


class BackofficeConfig(AppConfig):
    default = True
    name = "selfcare.backoffice"
    verbose_name = _("Back office")
