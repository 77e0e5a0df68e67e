from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "selfcare.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # Autopay right after a charge: the ledger calls this after each commit that lowered a
        # customer balance (an explicit hook, not a Django signal; docs/payments.md). Billing and
        # usage cannot call payments themselves: payments already depends on them.
        from selfcare.ledger import services as ledger
        from selfcare.payments import tasks

        ledger.on_balance_fell(tasks.queue_autopay_checks)
