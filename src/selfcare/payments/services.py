"""Every write of the payments domain (docs/payments.md).

Money reaches a balance only here, only through the ledger, and only on a confirmation we trust: a
webhook whose signature we verified (or that the provider's API confirms on re-fetch), or our own
status query. The subscriber's browser coming back says nothing. A payment is credited when its row,
locked, moves to "succeeded", in the same database transaction as the ledger posting, whose
idempotency key is the provider's payment id: redeliveries, races between webhook and reconciliation,
and retries after a crash all find the work done.

A top-up also repays an open promised payment in the same database transaction (exactly once,
by the same lock), so the subscriber never sees a credited top-up without the repayment or twice it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from selfcare.billing import services as billing
from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.kit.errors import ValidationFailed
from selfcare.kit.idempotency import InvalidIdempotencyKey, check_key, fingerprint
from selfcare.kit.money import format_money
from selfcare.ledger import queries as ledger_queries
from selfcare.ledger import services as ledger
from selfcare.lines import queries as lines_queries
from selfcare.lines.services import normalize_number
from selfcare.notifications.services import queue_sms
from selfcare.payments import queries
from selfcare.payments.errors import (
    AmountOutOfRange,
    AutopayInvalid,
    CardNotFound,
    InvalidWebhook,
    LineNotPayable,
    PaymentKeyReused,
    PromisedAmountNotAllowed,
    PromisedNotAvailable,
    ProviderUnavailable,
)
from selfcare.payments.models import (
    FINAL_STATUSES,
    OPEN_PROMISED_STATUSES,
    AlertKind,
    AutopaySettings,
    Payment,
    PaymentAlert,
    PaymentKind,
    PaymentStatus,
    PromisedPayment,
    PromisedStatus,
    SavedCard,
    WebhookEvent,
)
from selfcare.payments.providers import get_provider
from selfcare.payments.providers.base import (
    CardCharge,
    NewPayment,
    PaymentSnapshot,
    ProviderError,
    ProviderStatus,
    WebhookRejected,
)

log = structlog.get_logger(__name__)

# Ledger transaction kinds written here; promised repayments and collections are not "spending".
KIND_TOPUP = "topup"
KIND_PROMISED_GRANT = "promised_grant"
KIND_PROMISED_REPAY = "promised_repay"
KIND_PROMISED_COLLECT = "promised_collect"
KIND_PROMISED_WRITE_OFF = "promised_write_off"
NOT_SPENDING_KINDS = (KIND_PROMISED_REPAY, KIND_PROMISED_COLLECT)

PROMISED_CREDIT_ACCOUNT = "promised:credit"
PROMISED_FEE_ACCOUNT = "revenue:promised_fee"
PROMISED_WRITE_OFF_ACCOUNT = "promised:write_off"


def clearing_account_code(provider: str) -> str:
    return f"clearing:{provider}"


def system_account_id(code: str) -> int:
    account = ledger.open_account(code, kind="system", currency=settings.SELFCARE_CURRENCY, name=code)
    return int(account.pk)


def _money(amount_minor: int, language: str) -> str:
    return format_money(amount_minor, settings.SELFCARE_CURRENCY, language or settings.LANGUAGE_CODE)


def _language_of(user: Any) -> str:
    return (
        (getattr(user, "language", "") or settings.LANGUAGE_CODE)
        if user is not None
        else settings.LANGUAGE_CODE
    )


# =====================================================================================================
# Top-up
# =====================================================================================================


def _checked_key(key: str) -> str:
    try:
        return check_key(key)
    except InvalidIdempotencyKey:
        raise ValidationFailed() from None


def _payable_line(msisdn: str) -> Any:
    line = lines_queries.get_line_by_msisdn(normalize_number(msisdn))
    # Lines blocked for debt must be payable: paying is how they come back.
    if line is None or line.status == "terminated":
        raise LineNotPayable()
    return line


def check_topup_amount(amount_minor: int) -> None:
    low, high = settings.SELFCARE_TOPUP_MIN_MINOR, settings.SELFCARE_TOPUP_MAX_MINOR
    if not low <= amount_minor <= high:
        raise AmountOutOfRange(min=_money(low, ""), max=_money(high, ""))


def return_url_for(payment: Payment) -> str:
    return f"{settings.SELFCARE_PUBLIC_URL}/payments/{payment.public_id}/"


def start_topup(
    payer: Any,
    *,
    msisdn: str,
    amount_minor: int,
    idempotency_key: str,
    actor: str,
    save_card: bool = False,
    replaces_card: SavedCard | None = None,
) -> Payment:
    """Create a card top-up of `msisdn` and open it at the provider; the caller sends the payer to
    `payment.confirmation_url`. The same key returns the same payment (and the same hosted page)."""
    _checked_key(idempotency_key)
    check_topup_amount(amount_minor)
    line = _payable_line(msisdn)
    request_key = f"user:{payer.pk}:{idempotency_key}"
    request_print = fingerprint(
        {"msisdn": line.msisdn, "amount": amount_minor, "save_card": save_card, "kind": PaymentKind.TOPUP}
    )
    payment = _create_once(
        request_key,
        request_print,
        defaults={
            "kind": PaymentKind.TOPUP,
            "payer": payer,
            "account_id": line.account_id,
            "msisdn": line.msisdn,
            "amount_minor": amount_minor,
            "save_card": save_card or replaces_card is not None,
            "replaces_card": replaces_card,
        },
        actor=actor,
    )
    if payment.status == PaymentStatus.CREATED and not payment.provider_payment_id:
        payment = _open_at_provider(payment)
    return payment


def _create_once(request_key: str, request_print: str, *, defaults: dict[str, Any], actor: str) -> Payment:
    existing = Payment.objects.filter(request_key=request_key).first()
    if existing is None:
        now = clock.now()
        try:
            with transaction.atomic():
                existing = Payment.objects.create(
                    request_key=request_key,
                    request_fingerprint=request_print,
                    currency=settings.SELFCARE_CURRENCY,
                    provider=get_provider().name,
                    status=PaymentStatus.CREATED,
                    created_at=now,
                    updated_at=now,
                    **defaults,
                )
                record_audit(
                    actor,
                    f"payment.{defaults['kind']}.create",
                    subject_type="payment",
                    subject_id=existing.public_id,
                    after={"msisdn": existing.msisdn, "amount_minor": existing.amount_minor},
                )
                return existing
        except IntegrityError:
            # A concurrent request with the same key won: answer with its payment.
            existing = Payment.objects.get(request_key=request_key)
    if existing.request_fingerprint != request_print:
        raise PaymentKeyReused()
    return existing


def _open_at_provider(payment: Payment) -> Payment:
    provider = get_provider(payment.provider)
    try:
        # Our payment's id is the provider-side idempotency key: a retry after a timeout finds the
        # provider payment created the first time instead of opening a second one.
        snapshot = provider.create_payment(
            NewPayment(
                reference=str(payment.public_id),
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                description=f"{settings.SELFCARE_OPERATOR_NAME} {payment.msisdn}",
                return_url=return_url_for(payment),
                save_card=payment.save_card,
            )
        )
    except ProviderError as error:
        log.warning("payments.provider_create_failed", payment=str(payment.public_id), error=str(error)[:200])
        raise ProviderUnavailable() from None
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(
        provider_payment_id=snapshot.provider_payment_id,
        confirmation_url=snapshot.confirmation_url,
        status=PaymentStatus.PENDING,
        updated_at=clock.now(),
    )
    payment.refresh_from_db()
    return payment


# =====================================================================================================
# Confirmations: webhooks, status queries, reconciliation
# =====================================================================================================


def receive_webhook(provider_name: str, *, body: bytes, headers: Mapping[str, str]) -> str:
    """Verify and apply one provider notification; returns what happened (for the log and tests).

    Raises InvalidWebhook for anything that fails verification: nothing is recorded or credited.
    """
    if provider_name != get_provider().name:
        raise InvalidWebhook()
    provider = get_provider(provider_name)
    try:
        notice = provider.verify_notice(body, headers)
    except WebhookRejected as rejected:
        # Never the body: whatever it holds came from someone we could not verify.
        log.warning("payments.webhook_rejected", provider=provider_name, reason=str(rejected)[:100])
        raise InvalidWebhook() from None
    except ProviderError:
        raise ProviderUnavailable() from None
    snapshot = notice.payment
    # Redeliveries are common: a plain read answers them without taking the write lock.
    if WebhookEvent.objects.filter(provider=provider_name, event_id=notice.event_id[:200]).exists():
        return "duplicate"
    # So are fresh events about a payment already settled: final statuses never change again.
    if (
        snapshot is not None
        and Payment.objects.filter(
            provider=provider_name,
            provider_payment_id=snapshot.provider_payment_id,
            status__in=FINAL_STATUSES,
        ).exists()
    ):
        return "already_final"
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    provider=provider_name,
                    event_id=notice.event_id[:200],
                    event_type=notice.event_type[:64],
                    provider_payment_id=snapshot.provider_payment_id[:100] if snapshot else "",
                    outcome="received",
                    received_at=clock.now(),
                )
        except IntegrityError:
            return "duplicate"
        if snapshot is None:
            outcome, payment_id = "ignored", None
        else:
            outcome, payment_id = _apply_snapshot(provider_name, snapshot, actor=f"provider:{provider_name}")
        WebhookEvent.objects.filter(pk=event.pk).update(outcome=outcome, payment_id=payment_id)
    log.info("payments.webhook", provider=provider_name, event_id=notice.event_id, outcome=outcome)
    return outcome


def _lock_payment(provider_name: str, snapshot: PaymentSnapshot) -> Payment | None:
    # of=("self",): lock the payment row only, not the account and user rows joined in.
    locked = Payment.objects.select_for_update(of=("self",)).select_related("account", "payer")
    payment = locked.filter(provider=provider_name, provider_payment_id=snapshot.provider_payment_id).first()
    reference = _as_uuid(snapshot.reference)
    if payment is None and reference is not None:
        # The confirmation can overtake our storing of the provider's id (it is created first).
        payment = locked.filter(provider=provider_name, public_id=reference).first()
        if payment is not None and not payment.provider_payment_id:
            payment.provider_payment_id = snapshot.provider_payment_id
            payment.save(update_fields=["provider_payment_id"])
    return payment


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _apply_snapshot(provider_name: str, snapshot: PaymentSnapshot, *, actor: str) -> tuple[str, int | None]:
    """Bring our payment to what the provider says. Runs inside the caller's transaction."""
    payment = _lock_payment(provider_name, snapshot)
    now = clock.now()
    if payment is None:
        if snapshot.status == ProviderStatus.SUCCEEDED:
            _raise_alert(AlertKind.UNKNOWN_PAYMENT, None, provider_name, snapshot)
        return "unknown_payment", None
    if payment.status in FINAL_STATUSES:
        return "already_final", payment.pk
    if snapshot.status == ProviderStatus.PENDING:
        Payment.objects.filter(pk=payment.pk).update(last_checked_at=now)
        return "pending", payment.pk
    if snapshot.status in (ProviderStatus.FAILED, ProviderStatus.CANCELED):
        if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
            return "already_final", payment.pk
        payment.status = (
            PaymentStatus.FAILED if snapshot.status == ProviderStatus.FAILED else PaymentStatus.CANCELED
        )
        payment.failure_code = snapshot.failure_code[:64]
        _copy_card(payment, snapshot)
        payment.updated_at = now
        payment.save()
        record_audit(
            actor,
            "payment.failed",
            subject_type="payment",
            subject_id=payment.public_id,
            after={"failure_code": payment.failure_code},
        )
        if payment.kind == PaymentKind.AUTOPAY:
            _notify_autopay_failed(payment)
        return "failed", payment.pk
    # Succeeded. A failed or cancelled payment may still succeed (the provider's word about money
    # wins); a credited one never changes again (FINAL_STATUSES above).
    if snapshot.amount_minor != payment.amount_minor or snapshot.currency.upper() != payment.currency:
        kind = (
            AlertKind.CURRENCY_MISMATCH
            if snapshot.currency.upper() != payment.currency
            else AlertKind.AMOUNT_MISMATCH
        )
        payment.status = PaymentStatus.REVIEW
        payment.updated_at = now
        payment.save()
        _raise_alert(kind, payment, provider_name, snapshot)
        record_audit(
            actor,
            "payment.review",
            subject_type="payment",
            subject_id=payment.public_id,
            after={"alert": kind, "amount_minor": snapshot.amount_minor, "currency": snapshot.currency},
        )
        return "mismatch", payment.pk
    _credit(payment, actor=actor)
    _copy_card(payment, snapshot)
    payment.status = PaymentStatus.SUCCEEDED
    payment.failure_code = ""
    payment.confirmed_at = now
    payment.updated_at = now
    payment.save()
    if snapshot.card is not None and snapshot.card.token and payment.save_card:
        _save_card(payment, snapshot)
    record_audit(
        actor,
        "payment.credited",
        subject_type="payment",
        subject_id=payment.public_id,
        after={
            "amount_minor": payment.amount_minor,
            "transaction": payment.ledger_transaction_id,
            "promised_repaid_minor": payment.repaid_promised_minor,
        },
    )
    return "credited", payment.pk


def _copy_card(payment: Payment, snapshot: PaymentSnapshot) -> None:
    if snapshot.card is not None:
        payment.card_last4 = snapshot.card.last4[-4:]
        payment.card_brand = snapshot.card.brand[:20]


def _raise_alert(kind: str, payment: Payment | None, provider_name: str, snapshot: PaymentSnapshot) -> None:
    details = {
        "reported_amount_minor": snapshot.amount_minor,
        "reported_currency": snapshot.currency,
        "expected_amount_minor": payment.amount_minor if payment else None,
        "expected_currency": payment.currency if payment else None,
        "reference": snapshot.reference,
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                PaymentAlert.objects.create(
                    kind=kind,
                    payment=payment,
                    provider=provider_name,
                    provider_payment_id=snapshot.provider_payment_id[:100],
                    details=details,
                    created_at=clock.now(),
                )
        except IntegrityError:
            return
    log.error(
        "payments.alert", kind=kind, provider=provider_name, provider_payment_id=snapshot.provider_payment_id
    )


def _credit(payment: Payment, *, actor: str) -> None:
    """Post the top-up and the promised-payment repayment it owes, in one ledger batch."""
    customer = int(payment.account.ledger_account_id)
    clearing = system_account_id(clearing_account_code(payment.provider))
    # The account row lock: the balance read below stays true until we post.
    ledger_queries.lock_spending_room([customer])
    balance_after_topup = ledger_queries.get_balance_minor(customer) + payment.amount_minor
    entries = [
        ledger.Entry(
            kind=KIND_TOPUP,
            idempotency_key=f"payment:{payment.provider}:{payment.provider_payment_id}",
            legs=[ledger.Leg(customer, payment.amount_minor), ledger.Leg(clearing, -payment.amount_minor)],
            actor=actor,
            cause_type="payment",
            cause_id=str(payment.pk),
            memo=payment.msisdn,
        )
    ]
    repaid = 0
    promised = _lock_open_promised(int(payment.account_id))
    if promised is not None:
        repaid = min(promised.outstanding_minor, max(0, balance_after_topup))
        if repaid:
            entries.append(
                ledger.Entry(
                    kind=KIND_PROMISED_REPAY,
                    idempotency_key=f"promised-repay:{promised.pk}:payment:{payment.pk}",
                    legs=[
                        ledger.Leg(customer, -repaid),
                        ledger.Leg(system_account_id(PROMISED_CREDIT_ACCOUNT), repaid),
                    ],
                    actor=actor,
                    cause_type="promised_payment",
                    cause_id=str(promised.pk),
                )
            )
            _reduce_promised(promised, repaid, actor=actor, how="repaid_by_topup")
    posted = ledger.post_transactions(entries)
    payment.ledger_transaction_id = posted[0].pk
    payment.repaid_promised_minor = repaid
    # After commit, not inside: settling takes the fee job's locks in its own order (docs/billing.md).
    account_id = int(payment.account_id)
    transaction.on_commit(lambda: _settle_debts_after_credit(account_id))


def _settle_debts_after_credit(account_id: int) -> None:
    """Charge what the account owes and unblock its lines blocked for debt, now that money arrived.

    A failure here must not fail the (already committed) credit: the billing sweep settles later.
    """
    try:
        billing.settle_debts(account_id, actor="system:payments")
    except Exception:  # the credit is committed; the periodic sweep retries the settlement
        log.exception("settle_debts_after_credit_failed", account_id=account_id)


def refresh_payment(payment: Payment, *, actor: str = "system:reconcile") -> str:
    """Ask the provider about one payment (server to server) and apply the answer."""
    if not payment.provider_payment_id:
        return "not_opened"
    try:
        snapshot = get_provider(payment.provider).fetch_payment(payment.provider_payment_id)
    except ProviderError as error:
        log.warning("payments.status_query_failed", payment=str(payment.public_id), error=str(error)[:200])
        return "provider_error"
    with transaction.atomic():
        outcome, _pk = _apply_snapshot(payment.provider, snapshot, actor=actor)
    return outcome


def reconcile_pending(*, limit: int = 500) -> dict[str, int]:
    """Settle payments nobody confirmed in time: ask the provider about each one.

    Pending longer than SELFCARE_PAYMENT_RECONCILE_AFTER_MIN: status query. Never opened at the
    provider, or still pending after SELFCARE_PAYMENT_EXPIRE_AFTER_MIN: given up (a confirmation that
    still comes later is credited all the same).
    """
    now = clock.now()
    query_before = now - timedelta(minutes=settings.SELFCARE_PAYMENT_RECONCILE_AFTER_MIN)
    expire_before = now - timedelta(minutes=settings.SELFCARE_PAYMENT_EXPIRE_AFTER_MIN)
    counts: dict[str, int] = {}
    stale = Payment.objects.filter(
        status__in=[PaymentStatus.CREATED, PaymentStatus.PENDING], created_at__lt=query_before
    ).order_by("created_at")[:limit]
    for payment in stale:
        outcome = refresh_payment(payment)
        if outcome in ("pending", "not_opened", "provider_error") and payment.created_at < expire_before:
            outcome = _expire(payment)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _expire(payment: Payment) -> str:
    with transaction.atomic():
        changed = Payment.objects.filter(
            pk=payment.pk, status__in=[PaymentStatus.CREATED, PaymentStatus.PENDING]
        ).update(status=PaymentStatus.CANCELED, failure_code="expired", updated_at=clock.now())
        if changed:
            record_audit(
                "system:reconcile", "payment.expired", subject_type="payment", subject_id=payment.public_id
            )
    return "expired" if changed else "already_final"


def resolve_alert(alert: PaymentAlert, *, resolution: str, actor: str) -> PaymentAlert:
    with transaction.atomic():
        PaymentAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
            resolved_at=clock.now(), resolution=resolution[:300]
        )
        record_audit(
            actor,
            "payment_alert.resolve",
            subject_type="payment_alert",
            subject_id=alert.pk,
            after={"resolution": resolution[:300]},
        )
    alert.refresh_from_db()
    return alert


# =====================================================================================================
# Saved cards and autopay
# =====================================================================================================


def _save_card(payment: Payment, snapshot: PaymentSnapshot) -> None:
    card = snapshot.card
    assert card is not None
    saved = SavedCard.objects.filter(
        provider=payment.provider, token=card.token, removed_at__isnull=True
    ).first()
    if saved is None:
        saved = SavedCard.objects.create(
            account_id=payment.account_id,
            owner_id=int(payment.payer_id or 0),
            provider=payment.provider,
            token=card.token,
            last4=card.last4[-4:],
            brand=card.brand[:20],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            created_at=clock.now(),
        )
        record_audit(
            f"user:{payment.payer_id}",
            "card.save",
            subject_type="saved_card",
            subject_id=saved.pk,
            after={"last4": saved.last4, "brand": saved.brand},
        )
    payment.saved_card = saved
    payment.save(update_fields=["saved_card"])
    old = payment.replaces_card
    if old is not None and old.pk != saved.pk:
        AutopaySettings.objects.filter(card=old).update(card=saved, updated_at=clock.now())
        _remove_card(old, actor=f"user:{payment.payer_id}")


def remove_card(owner: Any, *, card_id: int, actor: str) -> None:
    card = SavedCard.objects.filter(pk=card_id, owner=owner, removed_at__isnull=True).first()
    if card is None:
        raise CardNotFound()
    with transaction.atomic():
        AutopaySettings.objects.filter(card=card).update(enabled=False, updated_at=clock.now())
        _remove_card(card, actor=actor)


def _remove_card(card: SavedCard, *, actor: str) -> None:
    SavedCard.objects.filter(pk=card.pk, removed_at__isnull=True).update(removed_at=clock.now())
    record_audit(actor, "card.remove", subject_type="saved_card", subject_id=card.pk)


def set_autopay(
    owner: Any,
    *,
    card_id: int,
    threshold_minor: int,
    amount_minor: int,
    max_per_month: int,
    enabled: bool,
    actor: str,
) -> AutopaySettings:
    line = _payable_line(owner.msisdn or "")
    card = SavedCard.objects.filter(
        pk=card_id, owner=owner, account_id=line.account_id, removed_at__isnull=True
    ).first()
    if card is None:
        raise CardNotFound()
    check_topup_amount(amount_minor)
    if threshold_minor < 0 or not 1 <= max_per_month <= settings.SELFCARE_AUTOPAY_MAX_PER_MONTH:
        raise AutopayInvalid()
    with transaction.atomic():
        previous = (
            AutopaySettings.objects.filter(account_id=line.account_id)
            .values("enabled", "threshold_minor", "amount_minor", "max_per_month", "card_id")
            .first()
        )
        before = dict(previous) if previous else None
        row, _created = AutopaySettings.objects.update_or_create(
            account_id=line.account_id,
            defaults={
                "owner": owner,
                "card": card,
                "msisdn": line.msisdn,
                "enabled": enabled,
                "threshold_minor": threshold_minor,
                "amount_minor": amount_minor,
                "max_per_month": max_per_month,
                "updated_at": clock.now(),
            },
        )
        record_audit(
            actor,
            "autopay.set",
            subject_type="autopay",
            subject_id=row.pk,
            before=before,
            after={
                "enabled": enabled,
                "threshold_minor": threshold_minor,
                "amount_minor": amount_minor,
                "max_per_month": max_per_month,
                "card_id": card.pk,
            },
        )
    return row


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def check_autopay(account_id: int) -> Payment | None:
    """Top up the account from its saved card if its balance is below the autopay threshold.

    Safe to call after every charge and from any number of workers at once: the n-th autopay of a
    month has one idempotency key, so concurrent calls make one payment; at most `max_per_month`
    attempts a month, and none while an earlier one is still unconfirmed.
    """
    row = (
        AutopaySettings.objects.select_related("card", "owner")
        .filter(account_id=account_id, enabled=True)
        .first()
    )
    if row is None or row.card.removed_at is not None:
        return None
    line = lines_queries.get_line_by_msisdn(row.msisdn)
    if line is None or line.account_id != account_id:
        return None
    balance = ledger_queries.get_balance_minor(int(line.account.ledger_account_id))
    if balance >= row.threshold_minor:
        return None
    month_start = _month_start(clock.now())
    this_month = Payment.objects.filter(
        account_id=account_id, kind=PaymentKind.AUTOPAY, created_at__gte=month_start
    )
    if this_month.filter(status__in=[PaymentStatus.CREATED, PaymentStatus.PENDING]).exists():
        return None
    attempts = this_month.count()
    if attempts >= row.max_per_month:
        return None
    payment = _create_once(
        f"autopay:{account_id}:{month_start:%Y-%m}:{attempts + 1}",
        fingerprint({"autopay": account_id, "n": attempts + 1}),
        defaults={
            "kind": PaymentKind.AUTOPAY,
            "payer": row.owner,
            "account_id": account_id,
            "msisdn": row.msisdn,
            "amount_minor": row.amount_minor,
            "saved_card": row.card,
        },
        actor="system:autopay",
    )
    if payment.status != PaymentStatus.CREATED or payment.provider_payment_id:
        return payment
    try:
        snapshot = get_provider(payment.provider).charge_card(
            CardCharge(
                reference=str(payment.public_id),
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                description=f"{settings.SELFCARE_OPERATOR_NAME} autopay {payment.msisdn}",
                card_token=row.card.token,
            )
        )
    except ProviderError as error:
        # Left "created": the reconciliation job gives it up, and the next check may try again.
        log.warning("payments.autopay_provider_error", payment=str(payment.public_id), error=str(error)[:200])
        return payment
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, provider_payment_id__isnull=True).update(
            provider_payment_id=snapshot.provider_payment_id,
            status=PaymentStatus.PENDING,
            updated_at=clock.now(),
        )
        _apply_snapshot(payment.provider, snapshot, actor="system:autopay")
    payment.refresh_from_db()
    return payment


def sweep_autopay() -> int:
    """The periodic safety net for charges that did not call check_autopay themselves."""
    started = 0
    for account_id in AutopaySettings.objects.filter(enabled=True).values_list("account_id", flat=True):
        if check_autopay(int(account_id)) is not None:
            started += 1
    return started


def _notify_autopay_failed(payment: Payment) -> None:
    language = _language_of(payment.payer)
    queue_sms(
        payment.msisdn,
        template="payments.autopay_failed",
        params={"amount": _money(payment.amount_minor, language)},
        language=language,
        actor="system:autopay",
    )


def announce_expiring_cards() -> int:
    """Tell owners, once, that a saved card expires at the end of next month (with the page to replace it)."""
    today = timezone.localdate(clock.now())
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    label = f"{next_month:%Y-%m}"
    cards = (
        SavedCard.objects.filter(
            removed_at__isnull=True, exp_year=next_month.year, exp_month=next_month.month
        )
        .exclude(expiry_announced_for=label)
        .select_related("owner")
    )
    sent = 0
    for card in cards:
        with transaction.atomic():
            if (
                not SavedCard.objects.filter(pk=card.pk)
                .exclude(expiry_announced_for=label)
                .update(expiry_announced_for=label)
            ):
                continue
            if card.owner.msisdn:
                language = _language_of(card.owner)
                queue_sms(
                    card.owner.msisdn,
                    template="payments.card_expiring",
                    params={"last4": card.last4, "link": f"{settings.SELFCARE_PUBLIC_URL}/payments/cards/"},
                    language=language,
                    actor="system:cards",
                )
                sent += 1
    return sent


# =====================================================================================================
# Promised payment
# =====================================================================================================


def _lock_open_promised(account_id: int) -> PromisedPayment | None:
    return (
        PromisedPayment.objects.select_for_update()
        .filter(account_id=account_id, status__in=OPEN_PROMISED_STATUSES)
        .order_by("granted_at")
        .first()
    )


def _reduce_promised(promised: PromisedPayment, amount_minor: int, *, actor: str, how: str) -> None:
    before = promised.outstanding_minor
    promised.outstanding_minor -= amount_minor
    if promised.outstanding_minor == 0:
        promised.status = PromisedStatus.REPAID
        promised.closed_at = clock.now()
    promised.save(update_fields=["outstanding_minor", "status", "closed_at"])
    record_audit(
        actor,
        f"promised.{how}",
        subject_type="promised_payment",
        subject_id=promised.pk,
        before={"outstanding_minor": before},
        after={"outstanding_minor": promised.outstanding_minor},
    )


def request_promised(user: Any, *, amount_minor: int, idempotency_key: str, actor: str) -> PromisedPayment:
    """Grant a promised payment to the user's line now, on the conditions shown by `promised_offer`."""
    _checked_key(idempotency_key)
    line = _payable_line(user.msisdn or "")
    customer = int(line.account.ledger_account_id)
    request_key = f"user:{user.pk}:{idempotency_key}"
    with transaction.atomic():
        # One decision per account at a time: concurrent requests queue here and see each other.
        ledger_queries.lock_spending_room([customer])
        existing = PromisedPayment.objects.filter(request_key=request_key).first()
        if existing is not None:
            if existing.amount_minor != amount_minor:
                raise PaymentKeyReused()
            return existing
        offer = queries.promised_offer(line)
        if not offer.eligible:
            raise PromisedNotAvailable(reason=str(offer.reasons[0]))
        tier = next((t for t in offer.tiers if t.amount_minor == amount_minor), None)
        if tier is None:
            raise PromisedAmountNotAllowed()
        now = clock.now()
        promised = PromisedPayment.objects.create(
            account_id=line.account_id,
            msisdn=line.msisdn,
            requested_by=actor,
            request_key=request_key,
            amount_minor=tier.amount_minor,
            fee_minor=tier.fee_minor,
            outstanding_minor=tier.amount_minor,
            status=PromisedStatus.ACTIVE,
            granted_at=now,
            due_at=offer.due_at,
        )
        legs = [
            ledger.Leg(customer, tier.amount_minor - tier.fee_minor),
            ledger.Leg(system_account_id(PROMISED_CREDIT_ACCOUNT), -tier.amount_minor),
        ]
        if tier.fee_minor:
            legs.append(ledger.Leg(system_account_id(PROMISED_FEE_ACCOUNT), tier.fee_minor))
        txn = ledger.post_transaction(
            KIND_PROMISED_GRANT,
            legs=legs,
            idempotency_key=f"promised-grant:{promised.pk}",
            actor=actor,
            cause_type="promised_payment",
            cause_id=str(promised.pk),
        )
        promised.grant_transaction_id = txn.pk
        promised.save(update_fields=["grant_transaction_id"])
        record_audit(
            actor,
            "promised.grant",
            subject_type="promised_payment",
            subject_id=promised.pk,
            after={
                "amount_minor": tier.amount_minor,
                "fee_minor": tier.fee_minor,
                "due_at": promised.due_at.isoformat(),
            },
        )
        language = _language_of(user)
        queue_sms(
            line.msisdn,
            template="payments.promised_granted",
            params={
                "amount": _money(tier.amount_minor, language),
                "due": timezone.localtime(promised.due_at).strftime("%d.%m.%Y %H:%M"),
            },
            language=language,
            actor=actor,
        )
    return promised


def settle_due_promised(*, limit: int = 1000) -> dict[str, int]:
    """At the end of the term: take what the balance has; a remainder stays owed (overdue) and is
    repaid from later top-ups; after the rule's write-off period it is written off."""
    now = clock.now()
    rule = queries.get_promised_rule()
    counts = {"repaid": 0, "overdue": 0, "written_off": 0}
    due = list(
        PromisedPayment.objects.filter(status=PromisedStatus.ACTIVE, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        counts[_collect_promised(pk)] += 1
    write_off_before = now - timedelta(days=rule.write_off_after_days)
    stale = list(
        PromisedPayment.objects.filter(
            status=PromisedStatus.OVERDUE, due_at__lte=write_off_before
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in stale:
        if _write_off_promised(pk):
            counts["written_off"] += 1
    return counts


def _collect_promised(pk: int) -> str:
    actor = "system:promised"
    with transaction.atomic():
        promised = PromisedPayment.objects.select_related("account").get(pk=pk)
        customer = int(promised.account.ledger_account_id)
        ledger_queries.lock_spending_room([customer])
        promised = PromisedPayment.objects.select_for_update().get(pk=pk)
        if promised.status != PromisedStatus.ACTIVE:
            return "repaid" if promised.status == PromisedStatus.REPAID else "overdue"
        collected = min(promised.outstanding_minor, max(0, ledger_queries.get_balance_minor(customer)))
        if collected:
            ledger.post_transaction(
                KIND_PROMISED_COLLECT,
                legs=[
                    ledger.Leg(customer, -collected),
                    ledger.Leg(system_account_id(PROMISED_CREDIT_ACCOUNT), collected),
                ],
                idempotency_key=f"promised-collect:{promised.pk}",
                actor=actor,
                cause_type="promised_payment",
                cause_id=str(promised.pk),
            )
            _reduce_promised(promised, collected, actor=actor, how="collected")
        if promised.outstanding_minor:
            promised.status = PromisedStatus.OVERDUE
            promised.save(update_fields=["status"])
            record_audit(
                actor,
                "promised.overdue",
                subject_type="promised_payment",
                subject_id=promised.pk,
                after={"outstanding_minor": promised.outstanding_minor},
            )
            return "overdue"
    return "repaid"


def _write_off_promised(pk: int) -> bool:
    actor = "system:promised"
    with transaction.atomic():
        promised = PromisedPayment.objects.select_for_update().get(pk=pk)
        if promised.status != PromisedStatus.OVERDUE or not promised.outstanding_minor:
            return False
        remainder = promised.outstanding_minor
        ledger.post_transaction(
            KIND_PROMISED_WRITE_OFF,
            legs=[
                ledger.Leg(system_account_id(PROMISED_CREDIT_ACCOUNT), remainder),
                ledger.Leg(system_account_id(PROMISED_WRITE_OFF_ACCOUNT), -remainder),
            ],
            idempotency_key=f"promised-write-off:{promised.pk}",
            actor=actor,
            cause_type="promised_payment",
            cause_id=str(promised.pk),
        )
        promised.outstanding_minor = 0
        promised.written_off_minor = remainder
        promised.status = PromisedStatus.WRITTEN_OFF
        promised.closed_at = clock.now()
        promised.save(update_fields=["outstanding_minor", "written_off_minor", "status", "closed_at"])
        record_audit(
            actor,
            "promised.write_off",
            subject_type="promised_payment",
            subject_id=promised.pk,
            after={"written_off_minor": remainder},
        )
    return True
