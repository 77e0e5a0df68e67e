from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from selfcare.kit.errors import BusinessError, Conflict


class InsufficientFunds(BusinessError):
    code = "insufficient_funds"
    status = 402
    default_message = _("There is not enough money on the balance.")


class UnbalancedTransaction(BusinessError):
    code = "unbalanced_transaction"
    status = 500
    default_message = _("A ledger transaction must have at least two postings that sum to zero.")


class CurrencyMismatch(BusinessError):
    code = "currency_mismatch"
    status = 500
    default_message = _("All postings of a transaction must be in the same currency.")


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_message = _("This idempotency key was already used for a different operation.")


class ImmutablePosting(Exception):
    """Raised by the ORM guard: postings and transactions are never changed or deleted."""
