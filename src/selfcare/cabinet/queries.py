"""Reads behind the subscriber pages: the home screen, spending, and the history of money movements
in plain words (docs/cabinet.md).

The cabinet owns no tables. It composes the domains' own reads (`<domain>.queries`), and each page is
built from a fixed, small number of queries whatever the size of the line's history: sums and groups
are computed by the database, never by loading rows into Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from selfcare.billing import queries as billing_queries
from selfcare.billing import services as billing_services
from selfcare.cabinet import formatting
from selfcare.catalog import queries as catalog_queries
from selfcare.kit import clock
from selfcare.kit.i18n import pick_translation
from selfcare.ledger import queries as ledger_queries
from selfcare.lines import queries as lines_queries
from selfcare.payments import queries as payments_queries
from selfcare.usage import queries as usage_queries

BLACK_LIST_KIND = "black_list"
# Money in that is the subscriber's own (the "last top-up"): card top-ups and autopay, bank payments.
CREDIT_KINDS = ("topup", "payment")
# Repaying a promised payment moves money the subscriber already spent: it is not spending again.
NOT_SPENDING_KINDS = ("promised_repay", "promised_collect")

# Transaction kinds of the one-off charges of tariff and service changes (billing.changes).
CHANGE_KINDS = ("tariff_change_fee", "service_connect_fee", "black_list_entry_fee")

HISTORY_FILTERS: dict[str, tuple[Promise, tuple[str, ...]]] = {
    "topups": (gettext_lazy("Top-ups"), ("topup", "payment", "promised_grant")),
    "fees": (gettext_lazy("Tariff and service fees"), ("tariff_fee", "service_fee")),
    "usage": (gettext_lazy("Calls, SMS and data"), ("usage",)),
    "changes": (gettext_lazy("Tariff and service changes"), CHANGE_KINDS),
    "promised": (
        gettext_lazy("Promised payments"),
        ("promised_grant", "promised_repay", "promised_collect", "promised_write_off"),
    ),
}

# The spending categories are billing's: the subscriber cabinet and the company pages show the same.
SPENDING_CATEGORIES = billing_queries.SPENDING_CATEGORIES
_CATEGORY_OF_KIND = billing_queries.SPENDING_CATEGORY_OF_KIND
_CATEGORY_OF_RECORD = billing_queries.SPENDING_CATEGORY_OF_RECORD


def operator_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=operator_tz())


def get_subscriber_line(user: Any) -> Any:
    """The signed-in subscriber's line (with customer, account, balance and tariff), or None."""
    return lines_queries.get_subscriber_line(getattr(user, "msisdn", None) or "")


def get_home_line(user: Any) -> lines_queries.LineCard | None:
    """The signed-in subscriber's line as the home page shows it (one plain SQL statement), or None."""
    return lines_queries.get_line_card(getattr(user, "msisdn", None) or "")


def next_fee_date(fee_minor: int, fee_period: str, *, today: date) -> date | None:
    """The local day the next recurring fee of a product is due (None when it has no fee)."""
    if fee_minor <= 0 or fee_period not in ("daily", "monthly"):
        return None
    return billing_services.period_of(fee_period, today)[1]


# --- Home ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketView:
    id: int
    usage_kind: str
    source: str  # the tariff or service the allowance comes from
    amount: int
    remaining: int
    renews: bool  # a tariff allowance renews with the period; a pack expires
    until: datetime | None
    roaming_zone: str

    @property
    def left_text(self) -> str:
        return formatting.allowance(self.usage_kind, self.remaining)

    @property
    def total_text(self) -> str:
        return formatting.allowance(self.usage_kind, self.amount)

    # What the home page writes of a bucket, composed here rather than by template tags in its loop.
    @property
    def title(self) -> str:
        kind = {"voice": _("Minutes"), "sms": _("SMS")}.get(self.usage_kind) or _("Internet")
        return " · ".join(part for part in (kind, self.source, self.roaming_zone) if part)

    @property
    def left_label(self) -> str:
        return _("%(left)s left of %(total)s") % {"left": self.left_text, "total": self.total_text}

    @property
    def left_html(self) -> SafeString:
        return formatting.html_sentence(
            _("<bdi>%(left)s</bdi> left of <bdi>%(total)s</bdi>"), left=self.left_text, total=self.total_text
        )

    @property
    def until_text(self) -> str:
        if self.until is None:
            return ""
        day = formatting.short_date(self.until)
        return (_("renews %(day)s") if self.renews else _("valid until %(day)s")) % {"day": day}


@dataclass(frozen=True)
class ServiceView:
    id: int  # the service's (catalog) id
    code: str
    name: str
    kind: str
    fee_minor: int
    fee_period: str
    connected_at: datetime
    next_fee: date | None

    @property
    def next_fee_text(self) -> str:
        return next_fee_text(self.next_fee)


def next_fee_text(day: date | None) -> str:
    return _("next fee %(day)s") % {"day": formatting.short_date(day)} if day is not None else ""


def _movement_html(movement: ledger_queries.Movement | None) -> SafeString | None:
    if movement is None:
        return None
    return formatting.html_sentence(
        _("<bdi>%(amount)s</bdi> on <bdi>%(day)s</bdi>"),
        amount=formatting.money(abs(movement.amount_minor)),
        day=formatting.short_date(movement.at),
    )


@dataclass
class Home:
    line: Any
    balance_minor: int
    summary: ledger_queries.AccountSummary
    buckets: list[BucketView]
    services: list[ServiceView]
    black_list: list[Any] | None  # None when the Black list service is off
    tariff_next_fee: date | None
    promised: payments_queries.PromisedOffer | None
    promised_rule: Any

    @property
    def low_balance(self) -> bool:
        return self.balance_minor <= 0

    @property
    def promised_eligible(self) -> bool:
        return self.promised is not None and self.promised.eligible

    @property
    def last_topup_html(self) -> SafeString | None:
        return _movement_html(self.summary.last_credit)

    @property
    def last_write_off_html(self) -> SafeString | None:
        return _movement_html(self.summary.last_debit)

    @property
    def tariff_next_fee_text(self) -> str:
        return next_fee_text(self.tariff_next_fee)


# The promised-payment rule as the home page shows it: read at most once a minute per process. Staff
# change it rarely; the promised payment page and the grant itself always read it afresh.
PROMISED_RULE_MAX_AGE_S = 60.0
_promised_rule_cache: list[tuple[float, Any]] = []


def _promised_rule() -> Any:
    now = monotonic()
    cached = _promised_rule_cache[-1] if _promised_rule_cache else None
    if cached is not None and now - cached[0] < PROMISED_RULE_MAX_AGE_S:
        return cached[1]
    rule = payments_queries.get_promised_rule()
    _promised_rule_cache[:] = [(now, rule)]
    return rule


def get_home(line: Any) -> Home:
    """Everything the home screen shows, in at most five queries (the line itself is already read): a
    line with its account, customer, balance and tariff (`get_subscriber_line`), or its card
    (`get_home_line`, what the home page reads)."""
    card = line if isinstance(line, lines_queries.LineCard) else lines_queries.line_card_of(line)
    now = clock.now()
    today = now.astimezone(operator_tz()).date()
    start = day_start(today)
    balance = card.account.balance_minor
    rule = _promised_rule()
    # The offer's own reads only when it can be offered at all: a balance at or above the rule's
    # threshold is never eligible, and most subscribers have one. Its spending window (months of
    # postings) is summed only then.
    offer_possible = rule.enabled and card.account.kind == "prepaid" and balance < rule.min_balance_minor
    summary = ledger_queries.get_account_summary(
        card.account.ledger_account_id,
        day_start=start,
        month_start=start.replace(day=1),
        window_start=(now - timedelta(days=payments_queries.spend_window_days(rule)))
        if offer_possible
        else None,
        credit_kinds=CREDIT_KINDS,
        not_spending_kinds=NOT_SPENDING_KINDS,
    )
    buckets = [
        _bucket_view(bucket)
        for bucket in usage_queries.list_line_bucket_summaries(card.pk, tariff_id=card.tariff_id, at=now)
    ]
    connected, black_list = lines_queries.get_services_and_black_list(
        card.pk, black_list_kind=BLACK_LIST_KIND
    )
    services = [
        ServiceView(
            id=service.service_id,
            code=service.code,
            name=pick_translation(service.name),
            kind=service.kind,
            fee_minor=service.fee_minor,
            fee_period=service.fee_period,
            connected_at=service.connected_at,
            next_fee=next_fee_date(service.fee_minor, service.fee_period, today=today),
        )
        for service in connected
    ]
    offer = None
    if offer_possible:
        offer = payments_queries.promised_offer(
            card, rule=rule, balance_minor=balance, spent_minor=summary.spent_window_minor
        )
    return Home(
        line=line,
        balance_minor=balance,
        summary=summary,
        buckets=buckets,
        services=services,
        black_list=black_list,
        tariff_next_fee=next_fee_date(card.tariff.fee_minor, card.tariff.fee_period, today=today),
        promised=offer,
        promised_rule=rule,
    )


def _bucket_source(bucket: Any) -> str:
    if bucket.tariff_id is not None:
        return str(bucket.tariff.display_name)
    return str(bucket.service_assignment.service.display_name)


def _bucket_view(bucket: usage_queries.BucketSummary) -> BucketView:
    # A periodic service's allowance renews like a tariff's; a pack (validity_days) runs out.
    return BucketView(
        id=bucket.id,
        usage_kind=bucket.usage_kind,
        source=pick_translation(bucket.tariff_name if bucket.from_tariff else bucket.service_name),
        amount=bucket.amount,
        remaining=bucket.remaining,
        renews=bucket.from_tariff or not bucket.service_validity_days,
        until=bucket.period_end,
        roaming_zone=pick_translation(bucket.zone_name),
    )


# --- Spending -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySpending:
    day: date
    amount_minor: int


@dataclass(frozen=True)
class CategorySpending:
    code: str
    label: str
    amount_minor: int


@dataclass(frozen=True)
class Spending:
    days: list[DaySpending]  # the last 30 local days, oldest first, today last
    categories: list[CategorySpending]  # this month, every category (zero ones included)
    month_start: date

    @property
    def month_total_minor(self) -> int:
        return sum(c.amount_minor for c in self.categories)

    @property
    def days_total_minor(self) -> int:
        return sum(d.amount_minor for d in self.days)


def get_spending(line: Any, *, days: int = 30) -> Spending:
    """Daily spending of the last `days` days and this month's spending by category (three queries)."""
    now = clock.now()
    today = now.astimezone(operator_tz()).date()
    first_day = today - timedelta(days=days - 1)
    month_first = today.replace(day=1)
    account_id = int(line.account.ledger_account_id)
    rows = ledger_queries.sum_debits_by_day_and_kind(
        account_id,
        since=day_start(min(first_day, month_first)),
        tz=operator_tz(),
        exclude_kinds=NOT_SPENDING_KINDS,
    )
    per_day: dict[date, int] = {}
    per_kind: dict[str, int] = {}
    for day, kind, amount in rows:
        per_day[day] = per_day.get(day, 0) + amount
        if day >= month_first:
            per_kind[kind] = per_kind.get(kind, 0) + amount
    totals = dict.fromkeys((code for code, _label in SPENDING_CATEGORIES), 0)
    usage_total = per_kind.pop("usage", 0)
    if usage_total:
        # A usage charge is one ledger transaction per batch; its records say what it was for.
        charges = usage_queries.sum_charges_by_kind(
            ledger_queries.list_transaction_ids(
                account_id,
                kind="usage",
                since=day_start(month_first),
                until=day_start(today + timedelta(days=1)),
            )
        )
        for record_kind, amount in charges.items():
            totals[_CATEGORY_OF_RECORD.get(record_kind, "other")] += amount
        # Records of an account's other line share its charges; whatever is not explained stays "other".
        totals["other"] += usage_total - sum(charges.values())
    for kind, amount in per_kind.items():
        totals[_CATEGORY_OF_KIND.get(kind, "other")] += amount
    return Spending(
        days=[
            DaySpending(first_day + timedelta(days=i), per_day.get(first_day + timedelta(days=i), 0))
            for i in range(days)
        ],
        categories=[CategorySpending(code, str(label), totals[code]) for code, label in SPENDING_CATEGORIES],
        month_start=month_first,
    )


# --- History: every money movement in plain words ---------------------------------------------------------


@dataclass
class RecordLine:
    """One usage record described for people, with the figures the words come from."""

    id: int
    text: str
    price_minor: int
    started_at: datetime
    kind: str = ""
    counterparty: str = ""
    usage_class: str = ""
    status: str = ""
    how: str = ""  # package, partly, priced, free or refused (what the words say after the comma)
    charged_units: int = 0  # seconds, messages or bytes counted
    package_units: int = 0  # of them, drawn from packages (buckets)
    priced_units: int = 0  # of them, priced beyond the packages
    bucket_id: int | None = None  # the first package drawn from


@dataclass(frozen=True)
class ProductRef:
    """The tariff or service a fee or a change was for."""

    kind: str  # tariff | service
    id: int
    code: str
    name: str


@dataclass
class HistoryItem:
    transaction_id: int
    at: datetime
    amount_minor: int
    balance_after_minor: int
    kind: str
    title: str
    details: list[str] = field(default_factory=list)
    records: list[RecordLine] = field(default_factory=list)
    records_total: int = 0
    payment_public_id: str = ""
    cause_type: str = ""  # the ledger transaction's cause (payment, fee_charge, product_change...)
    cause_id: str = ""
    product: ProductRef | None = None


def list_history(line: Any, *, kinds: Iterable[str] | None, since: date | None, until: date | None) -> Any:
    """The account's postings, newest first (a lazy query to paginate), filtered by kind and local days
    (`until` inclusive)."""
    return ledger_queries.list_account_postings(
        int(line.account.ledger_account_id),
        kinds=kinds,
        since=day_start(since) if since else None,
        until=day_start(until + timedelta(days=1)) if until else None,
    )


def get_history_item(line: Any, transaction_id: int) -> HistoryItem | None:
    posting = ledger_queries.get_account_posting(int(line.account.ledger_account_id), transaction_id)
    if posting is None:
        return None
    return describe_postings([posting], list_up_to=0)[0]


_FEE_PERIOD_TITLES = {
    "daily": gettext_lazy("Daily fee — %(product)s"),
    "monthly": gettext_lazy("Monthly fee — %(product)s"),
}
_KIND_TITLES: dict[str, Promise] = {
    "topup": gettext_lazy("Top-up"),
    "payment": gettext_lazy("Bank payment"),
    "promised_grant": gettext_lazy("Promised payment"),
    "promised_repay": gettext_lazy("Promised payment repaid"),
    "promised_collect": gettext_lazy("Promised payment collected at its due date"),
    "promised_write_off": gettext_lazy("Unpaid promised payment written off"),
    "tariff_fee": gettext_lazy("Tariff fee"),
    "service_fee": gettext_lazy("Service fee"),
    "usage": gettext_lazy("Calls, SMS and data"),
    "tariff_change_fee": gettext_lazy("Tariff change fee"),
    "service_connect_fee": gettext_lazy("Service connection fee"),
    "black_list_entry_fee": gettext_lazy("Black list: number added"),
    "adjustment": gettext_lazy("Balance correction by the operator"),
}


def _demo_code(cause_id: str) -> str:
    """The product code in causes written as "<number>/<product code>/<day>" (the demo's history)."""
    parts = cause_id.split("/")
    return parts[1] if len(parts) == 3 else ""


def describe_postings(postings: Sequence[dict[str, Any]], *, list_up_to: int = 3) -> list[HistoryItem]:
    """Each posting in plain words, linked to its cause, with a fixed number of queries per page: one
    per kind of cause present (payments, fee charges, product names, usage charges)."""
    payment_ids = [
        int(p["transaction__cause_id"])
        for p in postings
        if p["transaction__cause_type"] == "payment" and str(p["transaction__cause_id"]).isdigit()
    ]
    fee_keys = [p["transaction__cause_id"] for p in postings if p["transaction__cause_type"] == "fee_charge"]
    usage_ids = [p["transaction_id"] for p in postings if p["transaction__kind"] == "usage"]
    change_ids = [
        int(p["transaction__cause_id"])
        for p in postings
        if p["transaction__cause_type"] == "product_change" and str(p["transaction__cause_id"]).isdigit()
    ]
    cards = payments_queries.get_payment_cards(payment_ids) if payment_ids else {}
    fees = billing_queries.get_fee_charges_by_keys(fee_keys) if fee_keys else {}
    changes = billing_queries.get_product_changes(change_ids) if change_ids else {}
    codes = [
        _demo_code(p["transaction__cause_id"])
        for p in postings
        if p["transaction__cause_type"] in ("tariff_fee", "service_fee", "service_connect")
    ]
    products_named = [(f.product_kind, f.product_id) for f in fees.values()] + [
        (c.product_kind, c.product_id) for c in changes.values()
    ]
    tariff_ids = [pk for kind, pk in products_named if kind == "tariff"]
    service_ids = [pk for kind, pk in products_named if kind == "service"]
    products = (
        catalog_queries.get_product_names(
            tariff_ids=tariff_ids, service_ids=service_ids, codes=[c for c in codes if c]
        )
        if (tariff_ids or service_ids or any(codes))
        else {}
    )
    charges = usage_queries.summarize_charges(usage_ids, list_up_to=list_up_to) if usage_ids else {}
    items = []
    for posting in postings:
        kind = posting["transaction__kind"]
        cause_type = posting["transaction__cause_type"]
        cause_id = str(posting["transaction__cause_id"])
        item = HistoryItem(
            transaction_id=int(posting["transaction_id"]),
            at=posting["created_at"],
            amount_minor=int(posting["amount_minor"]),
            balance_after_minor=int(posting["balance_after_minor"]),
            kind=kind,
            title=str(_KIND_TITLES.get(kind, kind.replace("_", " ").capitalize())),
            cause_type=str(cause_type or ""),
            cause_id=cause_id if cause_type else "",
        )
        if cause_type == "payment" and cause_id.isdigit() and int(cause_id) in cards:
            payment_kind, brand, last4, public_id = cards[int(cause_id)]
            item.payment_public_id = public_id
            if last4:
                item.title = (
                    _("Autopay by card %(card)s")
                    if payment_kind == "autopay"
                    else _("Top-up by card %(card)s")
                ) % {"card": formatting.isolate(f"{brand} •••• {last4}".strip())}
            else:
                item.title = _("Top-up by card")
        elif cause_type == "payment":
            item.title = _("Top-up by card")
        elif cause_type == "fee_charge" and cause_id in fees:
            fee = fees[cause_id]
            product = products.get((fee.product_kind, fee.product_id))
            item.product = _product_ref(fee.product_kind, product)
            item.title = _fee_title(fee.fee_period, product, kind)
            item.details.append(
                _("Period: from %(start)s to %(end)s")
                % {
                    "start": _short_date(fee.period_start),
                    "end": _short_date(fee.period_end - timedelta(days=1)),
                }
            )
        elif cause_type == "product_change" and cause_id.isdigit() and int(cause_id) in changes:
            change = changes[int(cause_id)]
            product = products.get((change.product_kind, change.product_id))
            item.product = _product_ref(change.product_kind, product)
            item.title = _change_title(kind, change, product)
        elif cause_type in ("tariff_fee", "service_fee", "service_connect"):
            product = products.get(("code", _demo_code(cause_id)))
            item.product = _product_ref("tariff" if cause_type == "tariff_fee" else "service", product)
            if cause_type == "service_connect" and product is not None:
                item.title = _("Connection — %(product)s") % {"product": product.display_name}
            elif product is not None:
                item.title = _fee_title(product.fee_period, product, kind)
        elif cause_type == "black_list_entry" and "/" in cause_id:
            item.title = _("Black list: %(number)s added") % {
                "number": formatting.isolate(formatting.msisdn(cause_id.split("/")[-1]))
            }
        elif kind == "adjustment":
            # Staff write the reason for the subscriber (the back office's form says so).
            item.title = (
                _("Credited by the operator: correction")
                if item.amount_minor > 0
                else _("Debited by the operator: correction")
            )
            if posting.get("transaction__memo"):
                item.details.append(_("Reason: %(reason)s") % {"reason": posting["transaction__memo"]})
        elif kind == "usage":
            summary = charges.get(item.transaction_id)
            if summary is not None:
                item.records_total = summary.count
                item.records = [describe_record(record) for record in summary.records]
                item.title = _usage_title(summary.counts)
        items.append(item)
    return items


def _product_ref(kind: str, product: Any) -> ProductRef | None:
    if product is None or kind not in ("tariff", "service"):
        return None
    return ProductRef(kind=kind, id=int(product.pk), code=str(product.code), name=str(product.display_name))


def _short_date(day: date) -> str:
    from django.utils.formats import date_format

    return date_format(day, "SHORT_DATE_FORMAT")


def _fee_title(fee_period: str, product: Any, kind: str) -> str:
    name = product.display_name if product is not None else ""
    template = _FEE_PERIOD_TITLES.get(fee_period)
    if template is None or not name:
        return str(_KIND_TITLES.get(kind, kind))
    return str(template) % {"product": name}


def _change_title(kind: str, change: Any, product: Any) -> str:
    name = product.display_name if product is not None else ""
    if kind == "black_list_entry_fee" and change.entry_msisdn:
        return _("Black list: %(number)s added") % {
            "number": formatting.isolate(formatting.msisdn(change.entry_msisdn))
        }
    if kind == "tariff_change_fee" and name:
        return _("Tariff change fee — %(product)s") % {"product": name}
    if kind == "service_connect_fee" and name:
        return _("Connection — %(product)s") % {"product": name}
    return str(_KIND_TITLES.get(kind, kind))


def _usage_title(counts: dict[str, int]) -> str:
    from django.utils.translation import ngettext

    calls = counts.get("voice_out", 0) + counts.get("voice_in", 0)
    sms = counts.get("sms_out", 0) + counts.get("sms_in", 0)
    data = counts.get("data", 0)
    parts = []
    if calls:
        parts.append(
            ngettext("%(count)s call", "%(count)s calls", calls) % {"count": formatting.number(calls)}
        )
    if sms:
        parts.append(formatting.messages(sms))
    if data:
        parts.append(
            ngettext("%(count)s data session", "%(count)s data sessions", data)
            % {"count": formatting.number(data)}
        )
    return _("Calls, SMS and data outside the package: %(what)s") % {"what": ", ".join(parts)}


def describe_record(record: Any) -> RecordLine:
    """A rated record as one sentence: "Call to +7 900 123-45-67, 3 min, outside package"."""
    number = (
        formatting.isolate(formatting.msisdn(record.counterparty))
        if record.counterparty
        else _("a hidden number")
    )
    kind = record.kind
    if kind == "voice_out":
        what = _("Call to %(number)s, %(duration)s") % {
            "number": number,
            "duration": formatting.duration(record.charged_units or record.duration_s),
        }
    elif kind == "voice_in":
        what = _("Call from %(number)s, %(duration)s") % {
            "number": number,
            "duration": formatting.duration(record.charged_units or record.duration_s),
        }
    elif kind == "sms_out":
        what = _("SMS to %(number)s") % {"number": number}
    elif kind == "sms_in":
        what = _("SMS from %(number)s") % {"number": number}
    else:
        what = _("Mobile internet, %(volume)s") % {
            "volume": formatting.volume(record.charged_units or record.volume_bytes)
        }
    if record.usage_class == "roaming":
        what = _("%(what)s, in roaming") % {"what": what}
    if record.status == "refused":
        how_code, how = "refused", _("refused")
    elif record.price_minor and record.bucket_id:
        how_code, how = "partly", _("partly outside package")
    elif record.price_minor:
        how_code, how = "priced", _("outside package")
    elif record.bucket_id:
        how_code, how = "package", _("from the package")
    else:
        how_code, how = "free", _("free")
    charged = int(record.charged_units or 0)
    priced = int(record.priced_units or 0)
    return RecordLine(
        id=int(record.pk),
        text=_("%(what)s, %(how)s") % {"what": what, "how": how},
        price_minor=int(record.price_minor),
        started_at=record.started_at,
        kind=kind,
        counterparty=record.counterparty or "",
        usage_class=record.usage_class or "",
        status=record.status,
        how=how_code,
        charged_units=charged,
        package_units=max(charged - priced, 0) if record.bucket_id is not None else 0,
        priced_units=priced,
        bucket_id=record.bucket_id,
    )


@dataclass(frozen=True)
class Draw:
    bucket_id: int
    source: str
    usage_kind: str
    units: int


@dataclass(frozen=True)
class RecordExplanation:
    record: Any
    line: RecordLine
    usage_class: str
    zone: str
    draws: list[Draw]
    priced_units: int
    price_minor: int


def explain_line_record(line: Any, record_id: int) -> RecordExplanation | None:
    """A rated record of one of the account's lines with what it drew and what it cost, or None."""
    record = usage_queries.get_line_record(record_id, line_ids=[line.pk])
    if record is None:
        return None
    explanation = usage_queries.explain_record(record)
    buckets = usage_queries.get_buckets(bucket_id for bucket_id, _units in explanation.draws)
    draws = []
    for bucket_id, units in explanation.draws:
        bucket = buckets.get(bucket_id)
        draws.append(
            Draw(
                bucket_id=bucket_id,
                source=_bucket_source(bucket) if bucket is not None else "",
                usage_kind=bucket.usage_kind if bucket is not None else "",
                units=units,
            )
        )
    zone = record.zone.display_name if record.zone is not None else ""
    return RecordExplanation(
        record=record,
        line=describe_record(record),
        usage_class=catalog_queries.usage_class_label(record.usage_class) if record.usage_class else "",
        zone=zone,
        draws=draws,
        priced_units=explanation.priced_units,
        price_minor=explanation.price_minor,
    )


def list_charge_records(line: Any, transaction_id: int) -> Any:
    """The records of a usage charge (a lazy query to paginate)."""
    return usage_queries.list_charged_records(transaction_id)


def list_recent_contacts(line: Any, *, limit: int = 10) -> list[Any]:
    return usage_queries.list_recent_contacts(line.pk, since=clock.now() - timedelta(days=30), limit=limit)


def list_black_listed_numbers(line: Any) -> set[str]:
    return {entry.msisdn for entry in lines_queries.list_black_list(line.pk)}


# --- Tariff comparison -------------------------------------------------------------------------------------

_RATE_LABELS: dict[tuple[str, str], Promise] = {
    ("voice", "on_net"): gettext_lazy("Calls to our numbers, a minute"),
    ("voice", "off_net"): gettext_lazy("Calls to other mobile networks, a minute"),
    ("voice", "landline"): gettext_lazy("Calls to landlines, a minute"),
    ("sms", "on_net"): gettext_lazy("SMS to our numbers"),
    ("sms", "off_net"): gettext_lazy("SMS to other networks"),
    ("data", "home"): gettext_lazy("Internet beyond the package, a MB"),
}
_KIND_LABELS: dict[str, Promise] = {
    "voice": gettext_lazy("Minutes"),
    "sms": gettext_lazy("SMS"),
    "data": gettext_lazy("Internet"),
}


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    cells: list[str]


def compare_tariffs(choices: Sequence[Any]) -> list[ComparisonRow]:
    """The rows of a side-by-side comparison (one column per tariff): the fee, what is included per
    period, the main prices beyond it and the change fee, each cell already written for people."""

    def fee(tariff: Any) -> str:
        if tariff.fee_minor and tariff.fee_period == "daily":
            return _("%(amount)s a day") % {"amount": formatting.isolate(formatting.money(tariff.fee_minor))}
        if tariff.fee_minor and tariff.fee_period == "monthly":
            return _("%(amount)s a month") % {
                "amount": formatting.isolate(formatting.money(tariff.fee_minor))
            }
        return _("no recurring fee")

    rows = [ComparisonRow(_("Fee"), [fee(choice.tariff) for choice in choices])]
    for kind, label in _KIND_LABELS.items():
        cells = []
        for choice in choices:
            amounts = [a.amount for a in choice.card.allowances if a.usage_kind == kind and not a.zone_code]
            cells.append(formatting.allowance(kind, sum(amounts)) if amounts else "—")
        rows.append(ComparisonRow(str(label), cells))
    for key, label in _RATE_LABELS.items():
        cells = [
            formatting.money(choice.card.main_rates[key]) if key in choice.card.main_rates else "—"
            for choice in choices
        ]
        rows.append(ComparisonRow(str(label), cells))
    rows.append(
        ComparisonRow(
            _("Change fee now"),
            ["—" if choice.is_current else formatting.money(choice.change_fee_minor) for choice in choices],
        )
    )
    return rows
