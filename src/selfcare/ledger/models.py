"""The double-entry journal (DESIGN.md §6).

A Transaction owns at least two Postings whose amounts sum to zero. Customer money and system money
(revenue, clearing, promised-payment credit, adjustments) are all LedgerAccounts. Postings and
transactions are append-only: the ORM refuses updates and deletes, and database triggers (migration
0002) refuse them even to raw SQL. Balances are cached on the account and changed only by
`services.post_transaction(s)` under the account's row lock.

Sign convention: a positive customer balance is money the customer has. Debiting a customer is a
negative posting on their account and a positive one on a revenue account.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from selfcare.ledger.errors import ImmutablePosting


class AccountKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    SYSTEM = "system", _("System")


class LedgerAccount(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    balance_minor = models.BigIntegerField(_("balance (minor units)"), default=0)
    # The lowest balance an ordinary debit may leave (0 for prepaid, minus the credit limit for
    # postpaid). None: no floor (system accounts).
    floor_minor = models.BigIntegerField(_("floor (minor units)"), null=True, blank=True)
    # Extra room below the floor for usage that already happened on the network (calls in flight).
    overdraft_minor = models.BigIntegerField(_("usage overdraft (minor units)"), default=0)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overdraft_minor__gte=0), name="ledger_overdraft_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def hard_floor_minor(self) -> int | None:
        return None if self.floor_minor is None else self.floor_minor - self.overdraft_minor


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise ImmutablePosting("ledger rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutablePosting("ledger rows are append-only")


class AppendOnlyModel(models.Model):
    objects: ClassVar[Any] = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutablePosting("ledger rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutablePosting("ledger rows are append-only")


class Transaction(AppendOnlyModel):
    kind = models.CharField(_("kind"), max_length=32)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    # A hash of what was asked, so a key reused for a different operation is refused, not ignored.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    actor = models.CharField(_("actor"), max_length=100)
    # What caused the money to move: a payment, a usage batch, a fee period, a service change...
    cause_type = models.CharField(_("cause"), max_length=32, blank=True)
    cause_id = models.CharField(_("cause id"), max_length=64, blank=True)
    memo = models.CharField(_("memo"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        indexes = [models.Index(fields=["cause_type", "cause_id"], name="ledger_txn_cause")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Posting(AppendOnlyModel):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    # The account's balance right after this posting: statements read opening/closing balances from
    # it without summing history, and `ledger verify` checks it against the cached balance.
    balance_after_minor = models.BigIntegerField(_("balance after (minor units)"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        indexes = [models.Index(fields=["account", "created_at", "id"], name="ledger_posting_account_time")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_minor=0), name="ledger_posting_nonzero")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount_minor}"
