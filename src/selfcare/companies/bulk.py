"""Bulk requests: one change (tariff, service, quota, block) applied to many lines of a company.

The flow (docs/companies.md, "Bulk operations"):

1. the admin chooses the lines (by the lines list's filter, by ticking, or by a CSV of numbers:
   `read_numbers_csv` + `find_company_lines`) and the change;
2. `preview_bulk` says, line by line, what the change would cost and why it would be refused, with
   the same preview functions the subscriber cabinet uses (billing.changes), so the preview and the
   run decide alike; it writes nothing;
3. `submit_bulk` stores the request and one item per line, and queues the job after the commit;
4. the job (`run_bulk_request`) applies the change line by line, each in its own transaction
   through the ordinary service (billing.changes / lines.services), and records each line's outcome.

Why line by line: a refusal on one line (an excluded service, a blocked line, the credit limit
reached) must not undo the others, and each line's change posts its own fees. Why it can be re-run:
every change carries the idempotency key `bulk:<request>:<line>`, so a job killed halfway and run
again (the sweep re-queues requests left running) charges no line twice; items already decided are
skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from selfcare.billing import changes
from selfcare.companies.errors import BulkNothingToDo, BulkRequestInvalid
from selfcare.companies.models import (
    BulkAction,
    BulkItem,
    BulkItemStatus,
    BulkRequest,
    BulkStatus,
    Company,
)
from selfcare.identity.services import record_audit
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError
from selfcare.ledger import queries as ledger_queries
from selfcare.lines import queries as lines_queries
from selfcare.lines import services as lines_services
from selfcare.lines.errors import InvalidNumber, LineTerminated

if TYPE_CHECKING:
    from selfcare.catalog.models import Service, Tariff
    from selfcare.lines.models import Line

# A CSV upload or a selection is refused above this many lines (one request is one job).
MAX_LINES_PER_REQUEST = 10_000
# An uploaded CSV is read up to this size (10,000 numbers in any format fit well within it).
MAX_CSV_BYTES = 1_000_000
# A request still running this long after it started is taken to have lost its job (sweep).
STALE_AFTER = timedelta(minutes=15)

BLOCKED_BY_SUBSCRIBER = "blocked_subscriber"
TERMINATED = "terminated"


@dataclass(frozen=True)
class BulkLinePreview:
    line_id: int
    msisdn: str
    holder_name: str
    allowed: bool
    code: str  # the refusal's stable code ("" when allowed)
    message: str  # translated refusal ("" when allowed)
    cost_minor: int  # what the change would charge this line's account now


@dataclass(frozen=True)
class BulkPreview:
    action: str
    lines: list[BulkLinePreview]
    allowed_count: int
    refused_count: int
    total_cost_minor: int
    balance_minor: int
    # What the account may still spend: balance down to its floor (credit limit for postpaid).
    available_minor: int

    @property
    def covered(self) -> bool:
        return self.total_cost_minor <= self.available_minor


@dataclass(frozen=True)
class NumbersFile:
    numbers: list[str]  # normalised E.164, in file order, without repeats
    invalid: list[str]  # rows that are not a phone number, as written


# --- Choosing lines --------------------------------------------------------------------------------


def read_numbers_csv(content: bytes) -> NumbersFile:
    """The numbers of an uploaded CSV: the first column of each row, in any format a person types
    (a header row or other columns are fine). Raises BulkRequestInvalid for a file that is not text."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BulkRequestInvalid(_("The file is not a CSV in UTF-8.")) from exc
    numbers: list[str] = []
    seen: set[str] = set()
    invalid: list[str] = []
    dialect = csv.excel
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t") if text.strip() else csv.excel  # type: ignore[assignment]
    except csv.Error:
        dialect = csv.excel
    for index, row in enumerate(csv.reader(io.StringIO(text), dialect)):
        cell = row[0].strip() if row else ""
        if not cell:
            continue
        try:
            number = lines_services.normalize_number(cell)
        except InvalidNumber:
            if index > 0 or any(ch.isdigit() for ch in cell):
                invalid.append(cell[:40])
            continue  # a header row
        if number not in seen:
            seen.add(number)
            numbers.append(number)
    if len(numbers) > MAX_LINES_PER_REQUEST:
        raise BulkRequestInvalid(
            _("One request may change at most %(limit)s lines."), limit=MAX_LINES_PER_REQUEST
        )
    return NumbersFile(numbers=numbers, invalid=invalid)


def find_company_lines(
    company: Company, *, line_ids: Iterable[int] = (), msisdns: Iterable[str] = ()
) -> tuple[list[Line], list[str]]:
    """The company's lines among the given ids or numbers, and the numbers that are not its lines.

    A number of another company or of nobody is reported the same way ("not a line of this
    company"): the answer never says whose a number is.
    """
    wanted_numbers = list(msisdns)
    found = lines_queries.find_account_lines(
        company.account_id, line_ids=list(line_ids), msisdns=wanted_numbers
    )
    present = {line.msisdn for line in found}
    return found, [number for number in wanted_numbers if number not in present]


# --- Preview ---------------------------------------------------------------------------------------


def _check_target(
    action: str, *, tariff: Tariff | None, service: Service | None, quota_minor: int | None = None
) -> None:
    if action not in BulkAction.values:
        raise BulkRequestInvalid(_("This change cannot be made in bulk."))
    if (
        action == BulkAction.SET_QUOTA
        and quota_minor is not None
        and (isinstance(quota_minor, bool) or quota_minor < 0)
    ):
        raise BulkRequestInvalid(_("The quota must be zero or more."))
    if action == BulkAction.CHANGE_TARIFF and tariff is None:
        raise BulkRequestInvalid(_("Choose the tariff."))
    if action in (BulkAction.CONNECT_SERVICE, BulkAction.DISCONNECT_SERVICE) and service is None:
        raise BulkRequestInvalid(_("Choose the service."))


def _preview_line(
    line: Line, action: str, *, tariff: Tariff | None, service: Service | None
) -> BulkLinePreview:
    def refused(code: str, message: str) -> BulkLinePreview:
        return BulkLinePreview(line.pk, line.msisdn, line.holder_name, False, code, message, 0)

    if line.status == TERMINATED:
        return refused(LineTerminated.code, LineTerminated().render_message())
    if action == BulkAction.BLOCK:
        if line.status == BLOCKED_BY_SUBSCRIBER:
            return refused("already_blocked", _("The line is already blocked."))
        return BulkLinePreview(line.pk, line.msisdn, line.holder_name, True, "", "", 0)
    if action == BulkAction.UNBLOCK:
        if line.status != BLOCKED_BY_SUBSCRIBER:
            return refused("not_blocked", _("The line is not blocked."))
        return BulkLinePreview(line.pk, line.msisdn, line.holder_name, True, "", "", 0)
    if action == BulkAction.SET_QUOTA:
        # Setting a quota costs nothing and any live line may have one.
        return BulkLinePreview(line.pk, line.msisdn, line.holder_name, True, "", "", 0)
    if action == BulkAction.CHANGE_TARIFF:
        assert tariff is not None
        preview = changes.preview_tariff_change(line, tariff=tariff)
    elif action == BulkAction.CONNECT_SERVICE:
        assert service is not None
        preview = changes.preview_service_connect(line, service=service)
    else:
        assert service is not None
        preview = changes.preview_service_disconnect(line, service=service)
    return BulkLinePreview(
        line.pk,
        line.msisdn,
        line.holder_name,
        preview.allowed,
        preview.refusal_code,
        preview.refusal_message,
        preview.total_minor if preview.allowed else 0,
    )


def preview_bulk(
    company: Company,
    *,
    lines: Sequence[Line],
    action: str,
    tariff: Tariff | None = None,
    service: Service | None = None,
    quota_minor: int | None = None,
) -> BulkPreview:
    """What the change would do to each line, and its total cost against what the account may
    spend. Each line is judged on its own as it is now (the run re-checks each line under its lock,
    so a line the balance no longer covers by the time its turn comes is refused then)."""
    _check_target(action, tariff=tariff, service=service, quota_minor=quota_minor)
    if not lines:
        raise BulkNothingToDo()
    if len(lines) > MAX_LINES_PER_REQUEST:
        raise BulkRequestInvalid(
            _("One request may change at most %(limit)s lines."), limit=MAX_LINES_PER_REQUEST
        )
    items = [_preview_line(line, action, tariff=tariff, service=service) for line in lines]
    balance, floor = ledger_queries.get_balance_and_floor(company.account.ledger_account_id)
    allowed = [item for item in items if item.allowed]
    return BulkPreview(
        action=action,
        lines=items,
        allowed_count=len(allowed),
        refused_count=len(items) - len(allowed),
        total_cost_minor=sum(item.cost_minor for item in allowed),
        balance_minor=balance,
        available_minor=balance - (floor or 0),
    )


# --- Submit and run --------------------------------------------------------------------------------


def submit_bulk(
    company: Company,
    *,
    lines: Sequence[Line],
    action: str,
    actor: str,
    tariff: Tariff | None = None,
    service: Service | None = None,
    quota_minor: int | None = None,
    selection: str = "",
) -> BulkRequest:
    """Store the request with one pending item per line and queue its job after the commit.

    With `set_quota`, `quota_minor` is the monthly quota to set on every line (None removes it)."""
    _check_target(action, tariff=tariff, service=service, quota_minor=quota_minor)
    if action != BulkAction.SET_QUOTA:
        quota_minor = None
    if not lines:
        raise BulkNothingToDo()
    if len(lines) > MAX_LINES_PER_REQUEST:
        raise BulkRequestInvalid(
            _("One request may change at most %(limit)s lines."), limit=MAX_LINES_PER_REQUEST
        )
    foreign = [line.pk for line in lines if line.account_id != company.account_id]
    if foreign:
        raise BulkRequestInvalid(_("Some of the chosen lines are not lines of this company."))
    unique_lines = list({line.pk: line for line in lines}.values())
    with transaction.atomic():
        request = BulkRequest.objects.create(
            company=company,
            action=action,
            tariff=tariff,
            service=service,
            quota_minor=quota_minor,
            selection=selection[:200],
            requested_by=actor,
            total=len(unique_lines),
            created_at=clock.now(),
        )
        BulkItem.objects.bulk_create(
            [BulkItem(request=request, line_id=line.pk) for line in unique_lines], batch_size=1000
        )
        record_audit(
            actor,
            "company.bulk.submit",
            subject_type="company",
            subject_id=company.pk,
            after={
                "request": request.pk,
                "action": action,
                "tariff": tariff.pk if tariff else None,
                "service": service.pk if service else None,
                "quota_minor": quota_minor,
                "lines": len(unique_lines),
                "selection": request.selection,
            },
        )
        transaction.on_commit(lambda: _queue(request.pk))
    return request


def _queue(request_id: int) -> None:
    from selfcare.companies.tasks import run_bulk_request_later

    run_bulk_request_later(request_id)


def _apply_to_line(request: BulkRequest, line: Line) -> int:
    """Apply the request's change to one line; returns what it charged. Raises the refusal."""
    actor = request.requested_by
    key = f"bulk:{request.pk}:{line.pk}"
    if request.action == BulkAction.CHANGE_TARIFF:
        assert request.tariff is not None
        return changes.change_tariff(
            line, tariff=request.tariff, actor=actor, idempotency_key=key
        ).total_minor
    if request.action == BulkAction.CONNECT_SERVICE:
        assert request.service is not None
        return changes.connect_service(
            line, service=request.service, actor=actor, idempotency_key=key
        ).total_minor
    if request.action == BulkAction.DISCONNECT_SERVICE:
        assert request.service is not None
        return changes.disconnect_service(
            line, service=request.service, actor=actor, idempotency_key=key
        ).total_minor
    if request.action == BulkAction.SET_QUOTA:
        lines_services.set_line_quota(line, limit_minor=request.quota_minor, actor=actor)
        return 0
    if request.action == BulkAction.BLOCK:
        lines_services.block_line_voluntarily(line, actor=actor)
        return 0
    if request.action == BulkAction.UNBLOCK:
        lines_services.unblock_line_voluntarily(line, actor=actor)
        return 0
    raise BulkRequestInvalid(_("This change cannot be made in bulk."))


def run_bulk_request(request_id: int) -> BulkRequest:
    """The job: apply the change to every pending line, recording each outcome. Safe to run twice
    and after a crash (items decided are skipped; each change is idempotent by its key)."""
    now = clock.now()
    claimed = BulkRequest.objects.filter(pk=request_id, status=BulkStatus.QUEUED).update(
        status=BulkStatus.RUNNING, started_at=now
    )
    request = BulkRequest.objects.select_related("company", "tariff", "service").get(pk=request_id)
    if not claimed and request.status != BulkStatus.RUNNING:
        return request  # done already
    # The ids first, then each item on its own: no read cursor stays open across the writes (on
    # SQLite a statement left open would pin an old snapshot, and the next write could not begin).
    pending_ids = list(
        BulkItem.objects.filter(request_id=request_id, status=BulkItemStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for item_id in pending_ids:
        item = BulkItem.objects.select_related("line").get(pk=item_id)
        if item.status == BulkItemStatus.PENDING:
            _run_item(request, item)
    BulkRequest.objects.filter(pk=request_id, status=BulkStatus.RUNNING).update(
        status=BulkStatus.DONE, finished_at=clock.now()
    )
    request.refresh_from_db()
    record_audit(
        "system:bulk",
        "company.bulk.done",
        subject_type="company",
        subject_id=request.company_id,
        after={
            "request": request.pk,
            "succeeded": request.succeeded,
            "failed": request.failed,
            "charged_minor": request.charged_minor,
        },
    )
    return request


def _run_item(request: BulkRequest, item: BulkItem) -> None:
    line = item.line
    refusal: BusinessError | None = None
    charged = 0
    if line.account_id != request.company.account_id:
        # The line left the company between the request and its turn: not ours to change any more.
        refusal = BulkRequestInvalid(_("The line is no longer a line of this company."))
    elif line.status == TERMINATED:
        refusal = LineTerminated()
    else:
        try:
            charged = _apply_to_line(request, line)
        except BusinessError as exc:
            refusal = exc
    with transaction.atomic():
        decided = BulkItem.objects.filter(pk=item.pk, status=BulkItemStatus.PENDING).update(
            status=BulkItemStatus.FAILED if refusal else BulkItemStatus.SUCCEEDED,
            code=refusal.code if refusal else "",
            message=refusal.render_message()[:300] if refusal else "",
            charged_minor=charged,
            processed_at=clock.now(),
        )
        if decided:
            BulkRequest.objects.filter(pk=request.pk).update(
                succeeded=F("succeeded") + (0 if refusal else 1),
                failed=F("failed") + (1 if refusal else 0),
                charged_minor=F("charged_minor") + charged,
            )


def requeue_stale_bulk_requests() -> int:
    """Queue again the requests whose job was lost (still queued or running long after)."""
    cutoff = clock.now() - STALE_AFTER
    stale = list(
        BulkRequest.objects.filter(status__in=[BulkStatus.QUEUED, BulkStatus.RUNNING], created_at__lt=cutoff)
        .filter(finished_at__isnull=True)
        .values_list("pk", flat=True)
    )
    for request_id in stale:
        BulkRequest.objects.filter(pk=request_id, status=BulkStatus.RUNNING).update(status=BulkStatus.QUEUED)
        _queue(request_id)
    return len(stale)


# --- Reads -----------------------------------------------------------------------------------------


def list_bulk_requests(company: Company, *, limit: int = 50) -> list[BulkRequest]:
    """The request history ("История заявок"), newest first."""
    return list(
        BulkRequest.objects.filter(company=company)
        .select_related("tariff", "service")
        .order_by("-created_at", "-pk")[:limit]
    )


def get_bulk_request(company: Company, request_id: int) -> BulkRequest | None:
    return (
        BulkRequest.objects.filter(company=company, pk=request_id).select_related("tariff", "service").first()
    )


def list_bulk_items(request: BulkRequest) -> list[BulkItem]:
    """The per-line report, in the order the lines were chosen."""
    return list(BulkItem.objects.filter(request=request).select_related("line").order_by("pk"))
