"""The texts of the SMS we send, by template name.

The English source strings are marked with gettext_noop so `makemessages` collects them, and are
translated at send time in the recipient's language (not the language of whoever triggered the send).
`%(operator)s` and `%(help_number)s` are filled from the operator settings unless the caller gives them.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

# Translators: the SMS texts below are sent to subscribers. Keep them short (one SMS holds 70
# characters of Persian or Russian text) and keep every %(name)s placeholder exactly as it is.
MESSAGE_TEXTS: dict[str, str] = {
    "otp.registration": gettext_noop(
        "Your %(operator)s registration code: %(code)s. Do not tell it to anyone."
    ),
    "otp.login": gettext_noop("Your %(operator)s sign-in code: %(code)s. Do not tell it to anyone."),
    "otp.reset": gettext_noop("Your %(operator)s password reset code: %(code)s. Do not tell it to anyone."),
    "otp.confirm": gettext_noop("Your %(operator)s confirmation code: %(code)s. Do not tell it to anyone."),
    "otp.statement": gettext_noop(
        "Your %(operator)s code to order call detail: %(code)s. Do not tell it to anyone."
    ),
    "statements.ready": gettext_noop(
        "%(operator)s: your call detail for %(period)s is ready. Download it in your account."
    ),
    "security.new_sign_in": gettext_noop(
        "%(operator)s: new sign-in to your account from %(device)s. If it was not you, change your password."
    ),
    "security.password_changed": gettext_noop(
        "%(operator)s: your password was changed. If it was not you, call %(help_number)s."
    ),
    "billing.low_balance": gettext_noop(
        "%(operator)s: your balance is %(balance)s. Top up so that your services keep working."
    ),
    "billing.blocked_for_debt": gettext_noop(
        "%(operator)s: the fee of %(amount)s could not be paid, outgoing services are suspended. "
        "Top up to resume them; incoming calls still work."
    ),
    "billing.unblocked": gettext_noop("%(operator)s: your fees are paid and outgoing services work again."),
    "payments.autopay_failed": gettext_noop(
        "%(operator)s: autopay of %(amount)s from your card failed. Top up or check the card in your account."
    ),
    "payments.card_expiring": gettext_noop(
        "%(operator)s: your saved card *%(last4)s expires next month. Replace it in one tap: %(link)s"
    ),
    "payments.promised_granted": gettext_noop(
        "%(operator)s: promised payment of %(amount)s credited. "
        "It is repaid from your next top-up; due %(due)s."
    ),
    "lines.blocked_by_subscriber": gettext_noop(
        "%(operator)s: your number is blocked at your request. If it was not you, call %(help_number)s."
    ),
    "lines.unblocked_by_subscriber": gettext_noop("%(operator)s: your number is unblocked and works again."),
    "lines.unblocked_still_in_debt": gettext_noop(
        "%(operator)s: your block is lifted. Outgoing services stay suspended until you top up."
    ),
    "companies.invitation": gettext_noop(
        "%(operator)s: you are invited to the corporate cabinet of %(company)s. Set your password: %(link)s"
    ),
    "support.answered": gettext_noop(
        "%(operator)s: we have answered your request. Read the answer under Help in your account."
    ),
}

# The templates a subscriber may switch off, by kind (notifications.models.SmsKind). Every template not
# listed is always sent: one-time codes, security notices, the notice that services are suspended for
# debt (the subscriber must learn why calls stopped and how to resume them), the notices of the
# subscriber's own block and unblock (they also warn when someone else did it) and support answers.
OPTIONAL_TEMPLATE_KINDS: dict[str, str] = {
    "billing.low_balance": "low_balance",
    "billing.unblocked": "blocking",
    "payments.autopay_failed": "payments",
    "payments.card_expiring": "payments",
    "payments.promised_granted": "payments",
}
