"""Writes of call-detail statements: ordering (with a fresh SMS code), generation in the background,
delivery by signed link, and deletion after the retention period (docs/statements.md).

Call detail is personal data and secrecy of communications: only the subscriber who ordered it may
ever download it. The file is written under SELFCARE_STATEMENTS_DIR (never into the database, never
attached to an e-mail), reached only through a link signed for its owner that lives 15 minutes, and
deleted after SELFCARE_STATEMENT_RETENTION_DAYS. Every order, generation, download (and every refused
download) and deletion writes an audit row, never with the contents.
"""

from __future__ import annotations

import base64
import hmac
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from selfcare.identity import services as identity
from selfcare.kit import clock
from selfcare.kit.errors import NotFound
from selfcare.kit.signing import keyed_hash
from selfcare.ledger import services as ledger
from selfcare.ledger.errors import InsufficientFunds
from selfcare.lines import queries as lines_queries
from selfcare.notifications.services import queue_sms
from selfcare.statements.document import StatementChanged, build_statement
from selfcare.statements.errors import (
    InvalidPeriod,
    LinkExpired,
    LinkInvalid,
    LinkNotYours,
    NoCategories,
    NoEmail,
    NoPhone,
    NotReady,
    OrderKeyReused,
    StatementGone,
    UnknownFormat,
    WrongCode,
)
from selfcare.statements.models import Category, Format, OrderStatus, StatementOrder
from selfcare.statements.renderers import RENDERERS
from selfcare.statements.renderers.base import words

log = structlog.get_logger(__name__)

# identity.models.CodePurpose.STATEMENT: the SMS code that confirms an order is good for nothing else.
CODE_PURPOSE = "statement"
FEE_KIND = "statement_fee"
FEE_REFUND_KIND = "statement_fee_refund"
REVENUE_ACCOUNT = "revenue:statements"
INDIVIDUAL = "individual"  # lines.models.CustomerKind.INDIVIDUAL
LINK_PURPOSE = "statement-download"
GENERATION_ATTEMPTS = 3


def _actor(user: Any) -> str:
    return identity.actor_of(user)


def _audit(actor: str, action: str, client: identity.Client | None, order_key: object, **fields: Any) -> None:
    identity.record_audit(
        actor,
        action,
        subject_type="statement_order",
        subject_id=order_key,
        ip=client.ip if client else None,
        user_agent=client.user_agent if client else "",
        **fields,
    )


def own_line(user: Any) -> Any:
    """The signed-in subscriber's line (raises NotFound for a user without one)."""
    line = lines_queries.get_line_by_msisdn(getattr(user, "msisdn", None) or "")
    if line is None:
        raise NotFound()
    return line


def statements_dir() -> Path:
    return Path(settings.SELFCARE_STATEMENTS_DIR)


def local_today() -> date:
    return clock.local_today(settings.TIME_ZONE)


def earliest_day(today: date | None = None) -> date:
    """The first day that may be ordered: SELFCARE_STATEMENT_HISTORY_MONTHS calendar months back."""
    today = today or local_today()
    months = today.year * 12 + today.month - 1 - settings.SELFCARE_STATEMENT_HISTORY_MONTHS
    year, month = divmod(months, 12)
    month += 1
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def email_for(line: Any) -> str:
    """Where statements of this line may be announced by e-mail: the individual customer's own
    address (a company's address is its staff's, not the employee's). "" when there is none.

    There is no notion of a confirmed address yet (docs/statements.md): the e-mail only ever carries
    a link to the cabinet, which asks the owner to sign in, so a wrong address learns nothing."""
    customer = line.account.customer
    return customer.email if customer.kind == INDIVIDUAL and customer.email else ""


def is_own_order(order: StatementOrder) -> bool:
    """Whether the order is of the owner's own line (a subscriber's), not a line they may order for
    (a company admin's order of a company line: the holder is never told, the admin is)."""
    return bool(order.user.msisdn) and order.user.msisdn == order.msisdn


def notify_email_for(user: Any, line: Any) -> str:
    """Where the ready e-mail of an order of `line` by `user` goes: for the user's own line the
    customer's address (email_for); for a line they order as a company admin, their own address."""
    if getattr(user, "msisdn", None) and user.msisdn == line.msisdn:
        return email_for(line)
    return str(getattr(user, "email", "") or "")


def request_order_code(user: Any, *, client: identity.Client) -> None:
    """Send the SMS code that confirms an order (identity's one-time codes, purpose "statement"), to
    the ordering user's own phone (a company admin's too, whatever line they order)."""
    if not getattr(user, "msisdn", None):
        raise NoPhone()
    identity.request_code(user.msisdn or "", purpose=CODE_PURPOSE, client=client, actor=_actor(user))


@dataclass(frozen=True)
class OrderRequest:
    period_start: date
    period_end: date
    categories: tuple[str, ...]
    format: str
    by_email: bool
    line_id: int | None = None


def validate_order(
    *, period_start: date, period_end: date, categories: Sequence[str], fmt: str, by_email: bool
) -> OrderRequest:
    """The order as asked, checked: days within the history window and in order, known categories and
    format. Raises InvalidPeriod, NoCategories, UnknownFormat."""
    today = local_today()
    earliest = earliest_day(today)
    if not (earliest <= period_start <= period_end <= today):
        raise InvalidPeriod(earliest=earliest.isoformat(), latest=today.isoformat())
    chosen = tuple(value for value in Category.values if value in set(categories))
    if not chosen or len(set(categories)) != len(chosen):
        raise NoCategories()
    if fmt not in Format.values:
        raise UnknownFormat()
    return OrderRequest(period_start, period_end, chosen, fmt, by_email)


def _same_request(order: StatementOrder, request: OrderRequest) -> bool:
    return (
        order.period_start == request.period_start
        and order.period_end == request.period_end
        and tuple(order.categories) == request.categories
        and order.format == request.format
        and order.by_email == request.by_email
        and order.line_id == request.line_id
    )


def order_statement(
    user: Any,
    *,
    period_start: date,
    period_end: date,
    categories: Sequence[str],
    fmt: str,
    by_email: bool,
    code: str,
    idempotency_key: str,
    client: identity.Client,
    line: Any = None,
) -> StatementOrder:
    """Order the call detail of the user's line for [period_start, period_end] (local days).

    `line`: another line the caller has already checked the user may order the call detail of (a
    company admin and a line of their company, companies.services.order_line_statement). The user
    stays the order's owner, the only one who may download it; the code, the ready SMS and e-mail go
    to the user, never to the line's holder (notify_email_for).

    Asks a fresh SMS code (request_order_code). A key already used by this user returns that order
    (the code is not asked again: the first request used it); used with a different order it is
    refused. A price set by the operator (SELFCARE_STATEMENT_FEE_MINOR) is posted to the ledger with
    the order, so an order the balance cannot pay is not placed (InsufficientFunds) and nothing
    changes but the spent code. Generation starts once the order is committed.
    """
    actor = _actor(user)
    if line is None:
        line = own_line(user)
    request = validate_order(
        period_start=period_start, period_end=period_end, categories=categories, fmt=fmt, by_email=by_email
    )
    request = replace(request, line_id=line.pk)
    key = f"user:{user.pk}:{idempotency_key}"
    existing = StatementOrder.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if not _same_request(existing, request):
            raise OrderKeyReused()
        return existing
    if by_email and not notify_email_for(user, line):
        raise NoEmail()
    # Outside the order's transaction: a wrong code must count as a wrong attempt even though no
    # order follows (identity limits the attempts per code and per number).
    if not identity.check_code(user.msisdn or "", code, purpose=CODE_PURPOSE, client=client, actor=actor):
        raise WrongCode()
    fee = settings.SELFCARE_STATEMENT_FEE_MINOR
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    public_id = uuid.uuid4()
    try:
        with transaction.atomic():
            txn_id = None
            if fee > 0:
                revenue = _revenue_account()
                txn = ledger.post_transaction(
                    FEE_KIND,
                    legs=[ledger.Leg(line.account.ledger_account_id, -fee), ledger.Leg(revenue.pk, fee)],
                    idempotency_key=f"statement-fee:{public_id}",
                    actor=actor,
                    cause_type="statement_order",
                    cause_id=str(public_id),
                )
                txn_id = txn.pk
            order = StatementOrder.objects.create(
                public_id=public_id,
                user=user,
                line_id=line.pk,
                msisdn=line.msisdn,
                period_start=request.period_start,
                period_end=request.period_end,
                categories=list(request.categories),
                format=request.format,
                language=language,
                by_email=request.by_email,
                fee_minor=max(fee, 0),
                fee_transaction_id=txn_id,
                idempotency_key=key,
                created_at=clock.now(),
            )
            _audit(
                actor,
                "statement.order",
                client,
                order.public_id,
                after={
                    "period": [request.period_start.isoformat(), request.period_end.isoformat()],
                    "categories": list(request.categories),
                    "format": request.format,
                    "by_email": request.by_email,
                    "fee_minor": order.fee_minor,
                    # An order of a line that is not the user's own (a company admin's): which one.
                    **({} if line.msisdn == (user.msisdn or "") else {"line_id": line.pk}),
                },
            )
            order_id = order.pk
            transaction.on_commit(lambda: _queue_generation(order_id), robust=True)
    except InsufficientFunds:
        _audit(actor, "statement.order", client, public_id, outcome="no_funds")
        raise
    return order


def _revenue_account() -> Any:
    return ledger.open_account(REVENUE_ACCOUNT, kind="system", currency=settings.SELFCARE_CURRENCY)


def _queue_generation(order_id: int) -> None:
    from selfcare.statements import tasks

    tasks.generate_statement_later(order_id)


def _progress(order_id: int) -> Any:
    def report(done: int) -> None:
        StatementOrder.objects.filter(pk=order_id).update(rows_done=done)

    return report


def generate_statement(order_id: int) -> StatementOrder | None:
    """Make the document of a queued order (the background job). Returns None when another worker
    has it already (the claim is a conditional update, so one order is never generated twice)."""
    now = clock.now()
    claimed = StatementOrder.objects.filter(pk=order_id, status=OrderStatus.QUEUED).update(
        status=OrderStatus.GENERATING, started_at=now
    )
    if not claimed:
        return None
    order = StatementOrder.objects.select_related("user").get(pk=order_id)
    directory = statements_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = directory / f"{order.public_id}.{order.format}"
    # Each run writes its own partial file: a run taken over by the stalled-order sweep may still be
    # writing when the new one starts.
    partial = directory / f"{order.public_id}.{order.format}.{uuid.uuid4().hex[:8]}.part"
    try:
        line = lines_queries.get_line(order.line_id)
        with translation.override(order.language):
            rows = _render(order, line, partial)
        os.replace(partial, final)
        os.chmod(final, 0o600)
    except Exception as error:
        partial.unlink(missing_ok=True)
        _fail(order, error)
        raise
    ready_at = clock.now()
    with transaction.atomic():
        # Conditional on this run's claim: a run the sweep gave up on and handed to another one
        # (started_at changed) neither marks the order nor notifies; the newer run does.
        if not StatementOrder.objects.filter(
            pk=order.pk, status=OrderStatus.GENERATING, started_at=now
        ).update(
            status=OrderStatus.READY,
            rows_total=rows,
            rows_done=rows,
            file_name=final.name,
            size_bytes=final.stat().st_size,
            ready_at=ready_at,
            expires_at=ready_at + timedelta(days=settings.SELFCARE_STATEMENT_RETENTION_DAYS),
        ):
            return None
        _audit(
            "system:statements",
            "statement.generate",
            None,
            order.public_id,
            after={"format": order.format, "events": rows, "size_bytes": final.stat().st_size},
        )
        order.refresh_from_db()
        _notify_ready(order, line)
    return order


def _render(order: StatementOrder, line: Any, path: Path) -> int:
    """Write the document; if records arrived while it was written (its totals and its list of events
    disagree), write it again: the next pass reads them too."""
    renderer = RENDERERS[order.format]
    for _attempt in range(GENERATION_ATTEMPTS):
        statement = build_statement(
            line=line,
            period_start=order.period_start,
            period_end=order.period_end,
            categories=order.categories,
            language=order.language,
            generated_at=clock.now(),
            count_first=order.format == "pdf",
        )
        StatementOrder.objects.filter(pk=order.pk).update(rows_total=statement.rows_total, rows_done=0)
        try:
            written = renderer(statement, path, words(), _progress(order.pk))
        except StatementChanged:
            continue
        if not statement.counted or written == statement.rows_total:
            return written
    raise StatementChanged(f"order {order.pk}: events kept changing while the statement was written")


def _fail(order: StatementOrder, error: Exception) -> None:
    log.error("statement.failed", order=order.pk, error=repr(error))
    with transaction.atomic():
        failure = repr(error)[:200]
        StatementOrder.objects.filter(pk=order.pk).update(status=OrderStatus.FAILED, failure=failure)
        _audit("system:statements", "statement.generate", None, order.public_id, outcome="failed")
        if order.fee_transaction_id is not None:
            # The subscriber paid for a document we could not make: the fee goes back.
            line = lines_queries.get_line(order.line_id)
            customer = line.account.ledger_account_id
            ledger.post_transaction(
                FEE_REFUND_KIND,
                legs=[
                    ledger.Leg(_revenue_account().pk, -order.fee_minor),
                    ledger.Leg(customer, order.fee_minor),
                ],
                idempotency_key=f"statement-fee-refund:{order.public_id}",
                actor="system:statements",
                cause_type="statement_order",
                cause_id=str(order.public_id),
            )


def order_url(order: StatementOrder) -> str:
    return f"{settings.SELFCARE_PUBLIC_URL}{reverse('statements:detail', args=[order.public_id])}"


def _notify_ready(order: StatementOrder, line: Any) -> None:
    period = f"{order.period_start:%d.%m.%Y} - {order.period_end:%d.%m.%Y}"
    # A company admin's order of a company line: the admin is told, not the line's holder.
    recipient = order.msisdn if is_own_order(order) else (order.user.msisdn or "")
    if recipient:
        queue_sms(
            recipient,
            template="statements.ready",
            params={"period": period},
            language=order.language,
            actor="system:statements",
        )
    address = notify_email_for(order.user, line) if order.by_email else ""
    if address:
        order_id = order.pk
        transaction.on_commit(lambda: _send_ready_email(order_id, address), robust=True)


def _send_ready_email(order_id: int, address: str) -> None:
    order = StatementOrder.objects.get(pk=order_id)
    with translation.override(order.language):
        subject = _("%(operator)s: your call detail is ready") % {"operator": settings.SELFCARE_OPERATOR_NAME}
        body = _(
            "Your call detail for %(start)s to %(end)s is ready.\n\n"
            "For your privacy the file is not attached. Sign in to your account to download it "
            "(it is kept for %(days)s days):\n%(link)s\n\n%(operator)s"
        ) % {
            "start": order.period_start.isoformat(),
            "end": order.period_end.isoformat(),
            "days": settings.SELFCARE_STATEMENT_RETENTION_DAYS,
            "link": order_url(order),
            "operator": settings.SELFCARE_OPERATOR_NAME,
        }
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    _audit("system:statements", "statement.email", None, order.public_id, after={"sent": True})


# --- Download links --------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(payload: str) -> str:
    return keyed_hash(settings.SECRET_KEY, LINK_PURPOSE, payload)[:32]


@dataclass(frozen=True)
class DownloadLink:
    token: str
    expires_at: datetime

    @property
    def path(self) -> str:
        return reverse("statements:download", args=[self.token])


def issue_download_link(order: StatementOrder, *, user: Any) -> DownloadLink:
    """A link to the file signed for its owner, valid SELFCARE_STATEMENT_LINK_TTL_S (15 minutes)."""
    if order.user_id != user.pk:
        raise LinkNotYours()
    if order.status == OrderStatus.EXPIRED:
        raise StatementGone()
    if order.status != OrderStatus.READY:
        raise NotReady()
    expires_at = clock.now() + timedelta(seconds=settings.SELFCARE_STATEMENT_LINK_TTL_S)
    payload = f"{order.public_id.hex}.{user.pk}.{int(expires_at.timestamp())}"
    return DownloadLink(f"{_b64(payload.encode())}.{_sign(payload)}", expires_at)


def open_download(token: str, *, user: Any, client: identity.Client) -> tuple[StatementOrder, Path]:
    """The order and the file a link gives, if the signed-in `user` may have it; each refusal is audited.

    A link whose signature does not match (tampered, or made up) → LinkInvalid (403); someone else's
    link → LinkNotYours (403); an expired link → LinkExpired (410); a file already deleted →
    StatementGone (410). Checked in that order: nothing about an order is told to a stranger.
    """
    actor = _actor(user)
    body, _dot, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        public_hex, owner_id, expires_s = payload.split(".")
        valid = hmac.compare_digest(signature, _sign(payload))
        public_id = uuid.UUID(hex=public_hex)
    except (ValueError, UnicodeDecodeError):
        valid, public_id = False, None
    if not valid or public_id is None:
        _audit(actor, "statement.download", client, "", outcome="bad_signature")
        raise LinkInvalid()
    order = StatementOrder.objects.filter(public_id=public_id).first()
    if order is None:  # pragma: no cover - a valid signature names an order we made
        _audit(actor, "statement.download", client, public_id, outcome="bad_signature")
        raise LinkInvalid()
    if str(user.pk) != owner_id or order.user_id != user.pk:
        _audit(actor, "statement.download", client, order.public_id, outcome="not_owner")
        raise LinkNotYours()
    if int(expires_s) <= int(clock.now().timestamp()):
        _audit(actor, "statement.download", client, order.public_id, outcome="expired")
        raise LinkExpired()
    path = statements_dir() / order.file_name if order.file_name else None
    if order.status != OrderStatus.READY or path is None or not path.is_file():
        _audit(actor, "statement.download", client, order.public_id, outcome="gone")
        raise StatementGone()
    _audit(actor, "statement.download", client, order.public_id, after={"size_bytes": order.size_bytes})
    return order, path


# --- Lost jobs ----------------------------------------------------------------------------------------

# An order still queued this long after it was placed lost its job (the queue or a worker died).
QUEUED_STALE_AFTER = timedelta(minutes=10)
# A generation still running this long after it started lost its worker: the largest statement (a
# million events in PDF) takes a few minutes (docs/performance.md), so an hour is far beyond it.
GENERATING_STALE_AFTER = timedelta(hours=1)


def requeue_stalled_statements() -> int:
    """Queue again the orders whose job was lost (the periodic sweep); returns how many.

    Queueing twice is harmless: generation claims the order by a conditional update, so only one
    run makes it. A stalled generation goes back to queued first, which is what the claim expects."""
    now = clock.now()
    StatementOrder.objects.filter(
        status=OrderStatus.GENERATING, started_at__lt=now - GENERATING_STALE_AFTER
    ).update(status=OrderStatus.QUEUED)
    stalled = list(
        StatementOrder.objects.filter(
            status=OrderStatus.QUEUED, created_at__lt=now - QUEUED_STALE_AFTER
        ).values_list("pk", "public_id")
    )
    for order_id, public_id in stalled:
        _audit("system:statements", "statement.requeue", None, public_id)
        _queue_generation(order_id)
    return len(stalled)


# --- Retention ----------------------------------------------------------------------------------------


def purge_expired_statements() -> int:
    """Delete the files whose retention period is over (the periodic job); returns how many."""
    now = clock.now()
    purged = 0
    for order in StatementOrder.objects.filter(status=OrderStatus.READY, expires_at__lte=now).order_by("pk"):
        with transaction.atomic():
            # Conditional: two purges running at once delete and audit each file once.
            if not StatementOrder.objects.filter(pk=order.pk, status=OrderStatus.READY).update(
                status=OrderStatus.EXPIRED, deleted_at=now
            ):
                continue
            if order.file_name:
                (statements_dir() / order.file_name).unlink(missing_ok=True)
            _audit("system:statements", "statement.purge", None, order.public_id)
            purged += 1
    return purged
