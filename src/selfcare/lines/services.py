"""Every write about customers, accounts and lines (DESIGN.md §5.2).

Each function runs in one database transaction, locks the row it changes, and writes an audit row
with the state before and after. Money effects of tariff and service changes (fees, previews) are
added by the billing and cabinet features on top of these primitives.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import structlog
from django.conf import settings
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction

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
    InvalidQuota,
    LineInDebt,
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
    LineQuota,
    LineStatus,
    ServiceAssignment,
    TariffAssignment,
)
from selfcare.notifications.services import queue_sms

log = structlog.get_logger(__name__)

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


def lock_lines(line_ids: list[int]) -> list[Line]:
    """The lines with these ids, row-locked until the caller's transaction ends (in id order, so two
    callers locking overlapping sets never deadlock), with their accounts and customers."""
    return list(
        Line.objects.select_for_update()
        .select_related("account__customer")
        .filter(pk__in=line_ids)
        .order_by("pk")
    )


def move_line(line: Line, *, account: Account, actor: str) -> Line:
    """Put the line under another account (a business application approved), keeping its history.

    Only the line's account changes: its tariff and service history, buckets, usage and everything
    already charged stay as they are. Money does not move: what the old account holds (a prepaid
    balance, unpaid fees) stays with the old account, and from now on the line's usage and fees are
    charged to the new one (docs/companies.md). A line blocked for debt is refused (LineInDebt): its
    debt would otherwise be left on an account that no longer has the line to unblock.
    """
    with transaction.atomic():
        locked = _lock_line(line)
        if locked.status == LineStatus.BLOCKED_FOR_DEBT:
            raise LineInDebt()
        if locked.account_id == account.pk:
            return locked
        before = Account.objects.values_list("number", flat=True).get(pk=locked.account_id)
        locked.account = account
        locked.save(update_fields=["account"])
        record_audit(
            actor,
            "line.move",
            subject_type="line",
            subject_id=locked.pk,
            before={"account": before},
            after={"account": account.number},
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


# --- Quotas (docs/usage.md, "Quotas") ---------------------------------------------------------------
# A line's monthly spending quota is checked by the rating engine against the line's spend counter
# (LineQuota.spent_minor), which the services that charge the ledger for a line keep up to date in
# their own transaction: the usage engine, the billing fee job and billing's product changes.

QUOTA_NOTICE_PERCENT = 80

QuotaHook = Callable[[int, int], None]
_quota_hooks: list[QuotaHook] = []


def on_quota_threshold(hook: QuotaHook) -> Callable[[], None]:
    """Call `hook(line_id, percent)` after the commit of a charge that took a line with a quota to
    80 % of it or more, once per line and local calendar month; returns a function that unregisters it.

    How the companies domain tells a company's admins without lines knowing companies (companies
    registers its callback in its AppConfig.ready()). The hook runs after the commit, outside any
    transaction; a rolled-back charge calls nothing; a hook that fails is logged and does not stop
    the others (the money and the "notice sent" mark are committed by then).
    """
    if hook not in _quota_hooks:
        _quota_hooks.append(hook)

    def unregister() -> None:
        if hook in _quota_hooks:
            _quota_hooks.remove(hook)

    return unregister


def _call_quota_hooks(crossed: list[tuple[int, int]]) -> None:
    for hook in list(_quota_hooks):
        for line_id, percent in crossed:
            try:
                hook(line_id, percent)
            except Exception:  # the charge is committed; a reaction to it must not turn into an error
                log.exception(
                    "lines.quota_hook_failed", hook=getattr(hook, "__qualname__", str(hook)), line=line_id
                )


def set_line_quota(line: Line, *, limit_minor: int | None, actor: str) -> LineQuota:
    """Set the line's monthly spending quota (`None`: no quota); audited.

    The quota applies to this month's spend at once: lowering it below what the line has spent bars
    its chargeable outgoing usage now, raising it lifts the bar. The 80 % notice is not sent here but
    by the next charge (and only if this month's notice has not gone yet).
    """
    if limit_minor is not None and (isinstance(limit_minor, bool) or limit_minor < 0):
        raise InvalidQuota()
    now = clock.now()
    with transaction.atomic():
        locked = _lock_line(line)
        # The rating engine may create the row concurrently: insert-or-ignore, then lock it.
        LineQuota.objects.bulk_create(
            [LineQuota(line_id=locked.pk, month=LineQuota.month_of(now), spent_minor=0)],
            ignore_conflicts=True,
        )
        quota = LineQuota.objects.select_for_update().get(line_id=locked.pk)
        before = quota.limit_minor
        if before == limit_minor:
            return quota
        quota.limit_minor = limit_minor
        quota.save(update_fields=["limit_minor"])
        record_audit(
            actor,
            "line.quota",
            subject_type="line",
            subject_id=locked.pk,
            before={"limit_minor": before},
            after={"limit_minor": limit_minor, "spent_minor": quota.spent_in(LineQuota.month_of(now))},
        )
    return quota


def record_line_spend(
    spend: Mapping[int, int], *, at: datetime, quota_lines: Iterable[int] | None = None
) -> list[tuple[int, int]]:
    """Add what the ledger has just charged for each line (line id → minor units) to the lines'
    spend counters of the local month of `at`; returns the (line id, percent) whose 80 % notice this
    charge sends.

    Called by the services that post a line's charges, inside their transaction and under the lock
    of the line's ledger account (the usage engine, the fee job, product changes): no audit row of
    its own, the charge's is the record. One upsert for all the lines, and one conditional update
    marks the lines that reached 80 % of their quota this month and were not noticed yet (so the
    notice goes once per month, whatever the concurrency). `quota_lines`, when the caller knows
    them, limits that update to the lines that have a quota.
    """
    amounts = [(line_id, amount) for line_id, amount in spend.items() if amount]
    if not amounts:
        return []
    month = LineQuota.month_of(at)
    with transaction.atomic():
        _upsert_spend(amounts, month)
        candidates = (
            [line_id for line_id, _ in amounts]
            if quota_lines is None
            else sorted(set(quota_lines) & {line_id for line_id, _ in amounts})
        )
        crossed = _mark_quota_notices(candidates, month) if candidates else []
        if crossed and _quota_hooks:
            transaction.on_commit(lambda: _call_quota_hooks(crossed))
    return crossed


def _quota_table() -> str:
    return connection.ops.quote_name(LineQuota._meta.db_table)


def _upsert_spend(amounts: list[tuple[int, int]], month: date) -> None:
    table = _quota_table()
    # A counter of an earlier month restarts; one of a later month (a worker's clock behind) keeps it.
    on_conflict = (
        "ON CONFLICT (line_id) DO UPDATE SET "
        f"spent_minor = CASE WHEN {table}.month >= excluded.month "
        f"THEN {table}.spent_minor + excluded.spent_minor ELSE excluded.spent_minor END, "
        f"month = CASE WHEN {table}.month >= excluded.month THEN {table}.month ELSE excluded.month END"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (line_id, month, spent_minor) "  # noqa: S608
                "SELECT v.line_id, %s::date, v.amount FROM unnest(%s::bigint[], %s::bigint[]) "
                f"AS v(line_id, amount) {on_conflict}",
                [month, [line_id for line_id, _ in amounts], [amount for _, amount in amounts]],
            )
        else:
            stored = month.isoformat()
            cursor.executemany(
                f"INSERT INTO {table} (line_id, month, spent_minor) VALUES (%s, %s, %s) {on_conflict}",  # noqa: S608
                [(line_id, stored, amount) for line_id, amount in amounts],
            )


def _mark_quota_notices(line_ids: list[int], month: date) -> list[tuple[int, int]]:
    table = _quota_table()
    stored: Any = month if connection.vendor == "postgresql" else month.isoformat()
    crossed: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(line_ids), 5_000):
            chunk = line_ids[start : start + 5_000]
            params: list[Any]
            if connection.vendor == "postgresql":
                condition, params = "line_id = ANY(%s)", [chunk]
            else:
                condition, params = f"line_id IN ({', '.join(['%s'] * len(chunk))})", list(chunk)
            cursor.execute(
                f"UPDATE {table} SET alerted_month = %s WHERE {condition} "  # noqa: S608
                "AND limit_minor > 0 AND month = %s AND spent_minor * 100 >= limit_minor * %s "
                "AND (alerted_month IS NULL OR alerted_month <> %s) "
                "RETURNING line_id, spent_minor, limit_minor",
                [stored, *params, stored, QUOTA_NOTICE_PERCENT, stored],
            )
            crossed.extend((line_id, spent * 100 // limit) for line_id, spent, limit in cursor.fetchall())
    return sorted(crossed)
