from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompaniesConfig(AppConfig):
    name = "selfcare.companies"
    verbose_name = _("Companies")

    def ready(self) -> None:
        # Quotas: lines marks a line's 80 % notice and calls this after the charge's commit (an explicit
        # hook, not a Django signal; docs/usage.md "Quotas"). Lines cannot import companies:
        # companies depends on lines.
        from selfcare.companies import services
        from selfcare.lines import services as lines_services

        lines_services.on_quota_threshold(services.notify_quota_threshold)
