"""Every write about customers, accounts and lines (DESIGN.md §5.2).

Each function runs in one database transaction, locks the row it changes, and writes an audit row
with the state before and after. Money effects of tariff and service changes (fees, previews) are
added by the billing and cabinet features on top of these primitives.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.kit.phone import InvalidPhoneNumber, normalize_msisdn
from selfcare.kit.signing import keyed_hash
from selfcare.ledger import services as ledger
from selfcare.lines.errors import (
    BlackListDuplicate,
    BlackListEntryNotFound,
    BlackListFull,
    BlackListOwnNumber,
    InvalidNumber,
    LineNotBlockedBySubscriber,
    LineTerminated,
    NumberTaken,
    ServiceAlreadyConnected,
    ServiceClosed,
    ServiceExcludes,
    ServiceNotConnected,
    ServiceNotForTariff,
    ServiceRequiredBy,
    ServiceRequires,
    SimCardTaken,
    TariffNotAvailable,
)
from selfcare.lines.models import (
    Account,
    AccountKind,
    BlackListEntry,
    Customer,
    CustomerKind,
    Line,
    LineStatus,
    ServiceAssignment,
    TariffAssignment,
)
from selfcare.notifications.services import queue_sms

if TYPE_CHECKING:
    from selfcare.catalog.models import Region, Service, Tariff


def hash_puk(puk: str) -> str:
    # A keyed hash, not a password hash: PUK checks happen in bulk (applications with many numbers)
    # and the key (never in the database) is what stops a dump from being brute-forced.
    return keyed_hash(settings.SELFCARE_HASH_KEY, "puk", puk.strip())


def check_puk(line: Line, puk: str) -> bool:
    return bool(line.puk_hash) and hmac.compare_digest(line.puk_hash, hash_puk(puk))


def normalize_number(raw: str) -> str:
    try:
        return normalize_msisdn(raw, settings.SELFCARE_PHONE_REGION)
    except InvalidPhoneNumber as exc:
        raise InvalidNumber() from exc


def ledger_code_for(account_number: str) -> str:
    return f"customer:{account_number}"


def create_customer(
    *,
    name: str,
    actor: str,
    kind: str = CustomerKind.INDIVIDUAL,
    email: str = "",
    language: str | None = None,
    tax_id: str = "",
) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.create(
            kind=kind,
            name=name,
            email=email,
            language=language or settings.LANGUAGE_CODE,
            tax_id=tax_id,
            created_at=clock.now(),
        )
        record_audit(
            actor,
            "customer.create",
            subject_type="customer",
            subject_id=customer.pk,
            after={"kind": kind, "name": name},
        )
    return customer


def set_customer_contact(customer: Customer, *, email: str, language: str, actor: str) -> Customer:
    """Set where statements go (`email`, "" for none) and the customer's language; audited.

    The e-mail is checked by the caller's form and again here (django.core.exceptions.ValidationError).
    """
    if email:
        validate_email(email)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        before = {"email": locked.email, "language": locked.language}
        after = {"email": email, "language": language or locked.language}
        if before == after:
            return locked
        locked.email, locked.language = after["email"], after["language"]
        locked.save(update_fields=["email", "language"])
        record_audit(
            actor,
            "customer.contact",
            subject_type="customer",
            subject_id=locked.pk,
            before=before,
            after=after,
        )
    return locked


def open_account(
    customer: Customer,
    *,
    actor: str,
    kind: str = AccountKind.PREPAID,
    credit_limit_minor: int = 0,
    number: str | None = None,
) -> Account:
    """Open a money account for a customer, with its ledger account (floor = minus the credit limit)."""
    if kind == AccountKind.PREPAID and credit_limit_minor:
        raise ValueError("prepaid accounts have no credit limit")
    with transaction.atomic():
        for _attempt in range(5):
            candidate = number or f"{secrets.randbelow(10**10):010d}"
            try:
                with transaction.atomic():
                    ledger_account = ledger.open_account(
                        ledger_code_for(candidate),
                        kind="customer",
                        currency=settings.SELFCARE_CURRENCY,
                        name=customer.name[:200],
                        floor_minor=-credit_limit_minor,
                        overdraft_minor=settings.SELFCARE_USAGE_OVERDRAFT_MINOR
                        if kind == AccountKind.PREPAID
                        else 0,
                    )
                    account = Account.objects.create(
                        number=candidate,
                        customer=customer,
                        kind=kind,
                        credit_limit_minor=credit_limit_minor,
                        currency=settings.SELFCARE_CURRENCY,
                        ledger_account=ledger_account,
                        created_at=clock.now(),
                    )
                break
            except IntegrityError:
                if number:
                    raise
        else:  # pragma: no cover - 5 collisions in 10^10 numbers
            raise RuntimeError("could not allocate an account number")
        record_audit(
            actor,
            "account.open",
            subject_type="account",
            subject_id=account.pk,
            after={"number": account.number, "kind": kind, "credit_limit_minor": credit_limit_minor},
        )
    return account


def set_credit_limit(account: Account, *, credit_limit_minor: int, actor: str) -> Account:
    if account.kind != AccountKind.POSTPAID:
        raise ValueError("only postpaid accounts have a credit limit")
    if credit_limit_minor < 0:
        raise ValueError("a credit limit is not negative")
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        before = locked.credit_limit_minor
        ledger.set_account_limits(
            locked.ledger_account_id, floor_minor=-credit_limit_minor, overdraft_minor=0
        )
        locked.credit_limit_minor = credit_limit_minor
        locked.save(update_fields=["credit_limit_minor"])
        record_audit(
            actor,
            "account.credit_limit",
            subject_type="account",
            subject_id=locked.pk,
            before={"credit_limit_minor": before},
            after={"credit_limit_minor": credit_limit_minor},
        )
    return locked


def activate_line(
    account: Account,
    *,
    msisdn: str,
    iccid: str,
    tariff: Tariff,
    actor: str,
    puk: str = "",
    imsi: str | None = None,
    region: Region | None = None,
    holder_name: str = "",
) -> Line:
    number = normalize_number(msisdn)
    if not tariff.is_active:
        raise TariffNotAvailable()
    now = clock.now()
    try:
        with transaction.atomic():
            line = Line.objects.create(
                msisdn=number,
                iccid=iccid,
                imsi=imsi,
                puk_hash=hash_puk(puk) if puk else "",
                region=region,
                account=account,
                tariff=tariff,
                status=LineStatus.ACTIVE,
                status_changed_at=now,
                holder_name=holder_name,
                activated_at=now,
            )
            TariffAssignment.objects.create(line=line, tariff=tariff, started_at=now, actor=actor)
            record_audit(
                actor,
                "line.activate",
                subject_type="line",
                subject_id=line.pk,
                after={"msisdn": number, "tariff": tariff.code, "account": account.number},
            )
    except IntegrityError as exc:
        # Tell staff which identifier clashes: the number, or the SIM (ICCID/IMSI).
        if Line.objects.filter(msisdn=number).exists():
            raise NumberTaken() from exc
        raise SimCardTaken() from exc
    return line


def _lock_line(line: Line) -> Line:
    locked = Line.objects.select_for_update().select_related("tariff").get(pk=line.pk)
    if locked.status == LineStatus.TERMINATED:
        raise LineTerminated()
    return locked


def set_line_status(line: Line, *, status: str, actor: str, reason: str = "") -> Line:
    with transaction.atomic():
        locked = Line.objects.select_for_update().get(pk=line.pk)
        before = locked.status
        if before == status:
            return locked
        if before == LineStatus.TERMINATED:
            raise LineTerminated()
        locked.status = status
        locked.status_changed_at = clock.now()
        # Entering the subscriber's block remembers what lifting it returns to; leaving it forgets.
        locked.status_before_block = before if status == LineStatus.BLOCKED_BY_SUBSCRIBER else ""
        locked.save(update_fields=["status", "status_changed_at", "status_before_block"])
        record_audit(
            actor,
            "line.status",
            subject_type="line",
            subject_id=locked.pk,
            before={"status": before},
            after={"status": status, "reason": reason},
        )
    return locked


def block_line_voluntarily(line: Line, *, actor: str) -> Line:
    """Block the line at its subscriber's request (lost or stolen phone): status blocked_subscriber.

    A line blocked for debt may be blocked too (its free usage would otherwise still work for whoever
    holds the SIM); lifting the subscriber's block then returns it to blocked for debt. Blocking an
    already blocked line changes nothing and sends nothing. The subscriber is told by SMS, always
    (a security notice: it also warns them when someone else blocked the number).
    """
    with transaction.atomic():
        locked = _lock_line(line)
        if locked.status == LineStatus.BLOCKED_BY_SUBSCRIBER:
            return locked
        before = locked.status
        locked.status = LineStatus.BLOCKED_BY_SUBSCRIBER
        locked.status_before_block = before
        locked.status_changed_at = clock.now()
        locked.save(update_fields=["status", "status_before_block", "status_changed_at"])
        record_audit(
            actor,
            "line.block.subscriber",
            subject_type="line",
            subject_id=locked.pk,
            before={"status": before},
            after={"status": locked.status},
        )
        _notify_line(locked, template="lines.blocked_by_subscriber", actor=actor)
    return locked


def unblock_line_voluntarily(line: Line, *, actor: str) -> Line:
    """Lift the subscriber's own block. It never lifts a block for debt: a line that was blocked for
    debt when the subscriber blocked it goes back to blocked for debt (billing lifts that one when the
    debt is paid). Raises LineNotBlockedBySubscriber when the line is not under the subscriber's block."""
    with transaction.atomic():
        locked = _lock_line(line)
        if locked.status != LineStatus.BLOCKED_BY_SUBSCRIBER:
            raise LineNotBlockedBySubscriber()
        after = (
            LineStatus.BLOCKED_FOR_DEBT
            if locked.status_before_block == LineStatus.BLOCKED_FOR_DEBT
            else LineStatus.ACTIVE
        )
        locked.status = after
        locked.status_before_block = ""
        locked.status_changed_at = clock.now()
        locked.save(update_fields=["status", "status_before_block", "status_changed_at"])
        record_audit(
            actor,
            "line.unblock.subscriber",
            subject_type="line",
            subject_id=locked.pk,
            before={"status": LineStatus.BLOCKED_BY_SUBSCRIBER},
            after={"status": after},
        )
        _notify_line(
            locked,
            template="lines.unblocked_by_subscriber"
            if after == LineStatus.ACTIVE
            else "lines.unblocked_still_in_debt",
            actor=actor,
        )
    return locked


def _notify_line(line: Line, *, template: str, actor: str) -> None:
    language = Customer.objects.filter(accounts__lines=line).values_list("language", flat=True).first()
    queue_sms(line.msisdn, template=template, params={}, language=language or "", actor=actor)


def assign_tariff(line: Line, *, tariff: Tariff, actor: str, effective: datetime | None = None) -> Line:
    """Switch the line's tariff from `effective` (default now) and keep the history."""
    if not tariff.is_active:
        raise TariffNotAvailable()
    when = effective or clock.now()
    with transaction.atomic():
        locked = _lock_line(line)
        before = locked.tariff.code
        if locked.tariff_id == tariff.pk:
            return locked
        TariffAssignment.objects.filter(line=locked, ended_at__isnull=True).update(ended_at=when)
        TariffAssignment.objects.create(line=locked, tariff=tariff, started_at=when, actor=actor)
        locked.tariff = tariff
        locked.save(update_fields=["tariff"])
        record_audit(
            actor,
            "line.tariff",
            subject_type="line",
            subject_id=locked.pk,
            before={"tariff": before},
            after={"tariff": tariff.code},
        )
    return locked


def check_service_rules(line: Line, service: Service, connected_ids: set[int]) -> None:
    """Raise the first rule the connection would break: open, allowed tariffs, excludes, requires."""
    if not service.is_offered():
        raise ServiceClosed()
    allowed = {t.pk for t in service.allowed_tariffs.all()}
    if allowed and line.tariff_id not in allowed:
        raise ServiceNotForTariff()
    for other in service.excludes.all():
        if other.pk in connected_ids:
            raise ServiceExcludes(other=other.display_name)
    for required in service.requires.all():
        if required.pk not in connected_ids:
            raise ServiceRequires(required=required.display_name)


def connected_service_ids(line: Line) -> set[int]:
    return set(
        ServiceAssignment.objects.filter(line=line, disconnected_at__isnull=True).values_list(
            "service_id", flat=True
        )
    )


def connect_service(line: Line, *, service: Service, actor: str) -> ServiceAssignment:
    with transaction.atomic():
        locked = _lock_line(line)
        connected = connected_service_ids(locked)
        if service.pk in connected:
            raise ServiceAlreadyConnected()
        check_service_rules(locked, service, connected)
        assignment = ServiceAssignment.objects.create(
            line=locked, service=service, connected_at=clock.now(), actor=actor
        )
        record_audit(
            actor,
            "line.service.connect",
            subject_type="line",
            subject_id=locked.pk,
            after={"service": service.code},
        )
    return assignment


def check_service_disconnect(line: Line, service: Service) -> None:
    """Raise why the service cannot be disconnected: it is not connected, or another connected
    service requires it."""
    if not ServiceAssignment.objects.filter(
        line=line, service=service, disconnected_at__isnull=True
    ).exists():
        raise ServiceNotConnected()
    dependant = (
        ServiceAssignment.objects.filter(line=line, disconnected_at__isnull=True, service__requires=service)
        .select_related("service")
        .order_by("connected_at", "id")
        .first()
    )
    if dependant is not None:
        raise ServiceRequiredBy(dependant=dependant.service.display_name)


def disconnect_service(line: Line, *, service: Service, actor: str) -> ServiceAssignment:
    with transaction.atomic():
        locked = _lock_line(line)
        check_service_disconnect(locked, service)
        assignment = (
            ServiceAssignment.objects.select_for_update()
            .filter(line=locked, service=service, disconnected_at__isnull=True)
            .get()
        )
        assignment.disconnected_at = clock.now()
        assignment.save(update_fields=["disconnected_at"])
        record_audit(
            actor,
            "line.service.disconnect",
            subject_type="line",
            subject_id=locked.pk,
            before={"service": service.code},
        )
    return assignment


# --- Black list ---------------------------------------------------------------------------------------
# The money (entry fee, connecting the Black list service with the first number) is billing's:
# billing.changes.add_black_list_number calls add_black_list_entry inside its own transaction.


def add_black_list_entry(
    line: Line, *, number: str, actor: str, capacity: int | None = None, note: str = ""
) -> BlackListEntry:
    """Put a number (any common format; stored E.164) on the line's black list.

    Refused: an invalid number, the line's own number, a number already listed, a full list
    (`capacity` entries, counting the ones kept while the service is off).
    """
    msisdn = normalize_number(number)
    with transaction.atomic():
        locked = _lock_line(line)
        check_black_list_entry(locked, msisdn, capacity=capacity)
        entry = BlackListEntry.objects.create(
            line=locked, msisdn=msisdn, note=note.strip()[:100], created_at=clock.now()
        )
        record_audit(
            actor,
            "line.black_list.add",
            subject_type="line",
            subject_id=locked.pk,
            after={"msisdn": msisdn, "note": entry.note, "entry": entry.pk},
        )
    return entry


def check_black_list_entry(line: Line, msisdn: str, *, capacity: int | None) -> None:
    """Raise the first rule adding `msisdn` (E.164) to the line's black list would break."""
    if msisdn == line.msisdn:
        raise BlackListOwnNumber()
    if BlackListEntry.objects.filter(line_id=line.pk, msisdn=msisdn).exists():
        raise BlackListDuplicate()
    if capacity is not None and BlackListEntry.objects.filter(line_id=line.pk).count() >= capacity:
        raise BlackListFull(capacity=capacity)


def remove_black_list_entry(line: Line, *, entry_id: int, actor: str) -> None:
    """Take a number off the line's black list (no refund of its entry fee)."""
    with transaction.atomic():
        locked = _lock_line(line)
        entry = BlackListEntry.objects.filter(pk=entry_id, line_id=locked.pk).first()
        if entry is None:
            raise BlackListEntryNotFound()
        entry.delete()
        record_audit(
            actor,
            "line.black_list.remove",
            subject_type="line",
            subject_id=locked.pk,
            before={"msisdn": entry.msisdn, "note": entry.note, "entry": entry_id},
        )


def purge_black_lists(*, service_ids: set[int], older_than: datetime, actor: str = "system:lines") -> int:
    """Delete the black lists of lines whose black list (one of `service_ids`) has been off since
    before `older_than`: the numbers are kept that long so that reconnecting brings them back.

    Returns how many entries were deleted.
    """
    if not service_ids:
        return 0
    with transaction.atomic():
        switched_on = ServiceAssignment.objects.filter(
            service_id__in=service_ids, disconnected_at__isnull=True
        ).values("line_id")
        recently_off = ServiceAssignment.objects.filter(
            service_id__in=service_ids, disconnected_at__gte=older_than
        ).values("line_id")
        stale = BlackListEntry.objects.exclude(line_id__in=switched_on).exclude(line_id__in=recently_off)
        lines = sorted(set(stale.values_list("line_id", flat=True)))
        deleted, _ = stale.delete()
        if deleted:
            record_audit(
                actor,
                "line.black_list.purge",
                after={"entries": deleted, "lines": lines[:1000], "older_than": older_than.isoformat()},
            )
    return deleted
