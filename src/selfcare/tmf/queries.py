"""Our reads in TM Forum's shapes: TMF620 (catalog), TMF635 (usage), TMF654 (prepay balance) and
TMF677 (usage consumption).

Everything is read through the other domains' queries (catalog, lines, usage, ledger, payments) and
returned as the schemas of schemas.py; api.py pages, selects fields and renders. docs/tmf.md says how
each of our fields maps to TMF's.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from selfcare.catalog import queries as catalog_queries
from selfcare.kit import clock
from selfcare.kit.errors import NotFound
from selfcare.kit.i18n import pick_translation
from selfcare.kit.money import format_money, to_major
from selfcare.ledger import queries as ledger_queries
from selfcare.lines import queries as lines_queries
from selfcare.payments import queries as payments_queries
from selfcare.tmf.schemas import (
    AccumulatedBalance,
    Bucket,
    Catalog,
    Category,
    ConsumptionSummary,
    Duration,
    Money,
    NetworkProduct,
    ProductOffering,
    ProductOfferingPrice,
    ProductOfferingRelationship,
    ProductOfferingTerm,
    Quantity,
    RatedProductUsage,
    Ref,
    TimePeriod,
    TopupBalance,
    Usage,
    UsageCharacteristic,
    UsageConsumptionReport,
    UsageVolumeBalance,
    UsageVolumeProduct,
)
from selfcare.usage import queries as usage_queries

# The base paths TMF's Swagger files declare.
CATALOG_BASE = "/tmf-api/productCatalogManagement/v4"
USAGE_BASE = "/tmf-api/usageManagement/v4"
BALANCE_BASE = "/tmf-api/prepayBalanceManagement/v4"
CONSUMPTION_BASE = "/tmf-api/usageConsumption/v4"

# Quantities are given in the units we keep (seconds, messages, bytes); prices per unit in the units the
# catalog prices them in (per minute, per message, per megabyte).
UNITS = {"voice": "seconds", "sms": "messages", "data": "bytes"}
PRICE_UNITS = {"voice": "minutes", "sms": "messages", "data": "megabytes"}
RECORD_USAGE_TYPES = {
    "voice_out": "voice",
    "voice_in": "voice",
    "sms_out": "sms",
    "sms_in": "sms",
    "data": "data",
}
USAGE_TYPES = ("voice", "sms", "data")
MONETARY = "monetary"
CHARGE_PERIODS = {"monthly": "month", "daily": "day"}

MB = 1_048_576
GB = 1024 * MB

# Database ids are 64-bit: a longer number in a path is simply not one of ours (and must not reach the
# database, where it would overflow).
_DB_ID = r"[1-9][0-9]{0,17}"


@dataclass(frozen=True)
class Links:
    """Absolute hrefs: `root` is the scheme and host the request came to."""

    root: str

    def catalog(self, resource: str, ident: str) -> str:
        return f"{self.root}{CATALOG_BASE}/{resource}/{ident}"

    def usage(self, ident: str) -> str:
        return f"{self.root}{USAGE_BASE}/usage/{ident}"

    def balance(self, resource: str, ident: str) -> str:
        return f"{self.root}{BALANCE_BASE}/{resource}/{ident}"

    def consumption(self, ident: str) -> str:
        return f"{self.root}{CONSUMPTION_BASE}/usageConsumptionReport/{ident}"


# --- Formatting ---------------------------------------------------------------------------------------


def _locale() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def _number(value: float | int, *, digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=_locale()))


def describe_amount(usage_kind: str, amount: int) -> str:
    """An allowance or a bucket amount for people, in the active language (the cabinet's wording)."""
    if usage_kind == "voice":
        count = int(amount) // 60
        return ngettext("%(count)s min", "%(count)s min", count) % {"count": _number(count)}
    if usage_kind == "data":
        if amount >= GB:
            return _("%(amount)s GB") % {"amount": _number(amount // (GB // 10) / 10, digits=1)}
        return _("%(amount)s MB") % {"amount": _number(amount // MB)}
    return ngettext("%(count)s SMS", "%(count)s SMS", int(amount)) % {"count": _number(int(amount))}


def major(amount_minor: int, currency: str) -> int | float:
    """Minor units as TMF's JSON number of major units: exact (an integer when whole; otherwise the
    float whose shortest text is the decimal amount, as amounts are far below 2**53 minor units)."""
    value = to_major(amount_minor, currency)
    return int(value) if value == value.to_integral_value() else float(value)


def money(amount_minor: int, currency: str) -> Money:
    return Money(value=major(amount_minor, currency), unit=currency)


def _text(texts: Any, fallback: str) -> str:
    return pick_translation(texts) or fallback


# --- The subscriber behind the token ------------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    """The caller's line, with its account and customer (lines.queries.get_subscriber_line)."""

    line: Any

    @property
    def msisdn(self) -> str:
        return str(self.line.msisdn)

    @property
    def digits(self) -> str:
        return self.msisdn.lstrip("+")

    @property
    def account_number(self) -> str:
        return str(self.line.account.number)

    @property
    def currency(self) -> str:
        return str(self.line.account.currency)

    @property
    def money_bucket_id(self) -> str:
        return f"money-{self.account_number}"

    def party_account(self) -> Ref:
        return Ref(id=self.account_number, name=self.account_number, referred_type="BillingAccount")

    def logical_resource(self) -> Ref:
        return Ref(id=self.msisdn, name=self.msisdn, referred_type="MSISDN")


def subscriber_of(user: Any) -> Subscriber:
    """The caller's own line; a user without one (staff, a company user) has nothing here: 404."""
    line = lines_queries.get_subscriber_line(getattr(user, "msisdn", None) or "")
    if line is None:
        raise NotFound()
    return Subscriber(line)


def _db_id(text: str, prefix: str = "") -> int:
    match = re.fullmatch(re.escape(prefix) + f"({_DB_ID})", text)
    if match is None:
        raise NotFound()
    return int(match.group(1))


# =====================================================================================================
# TMF620 Product Catalog
# =====================================================================================================

CATALOG_ID = "selfcare"
TARIFFS, SERVICES = "tariffs", "services"


@dataclass(frozen=True)
class CatalogView:
    catalog: Catalog
    categories: list[Category]
    offerings: list[ProductOffering]
    prices: list[ProductOfferingPrice]


def _category_names() -> dict[str, str]:
    return {TARIFFS: _("Tariffs"), SERVICES: _("Services")}


def _offering_ref(links: Links, kind: str, pk: int, name: str) -> Ref:
    ident = f"{kind}-{pk}"
    return Ref(
        id=ident, href=links.catalog("productOffering", ident), name=name, referred_type="ProductOffering"
    )


def _zone_suffix(zone: Any) -> str:
    return f" ({_text(zone.name, zone.code)})" if zone is not None else ""


def _recurring_fee(
    links: Links, owner: str, fee_minor: int, fee_period: str, currency: str
) -> ProductOfferingPrice | None:
    period = CHARGE_PERIODS.get(fee_period)
    if period is None or fee_minor <= 0:
        return None
    ident = f"{owner}-fee"
    return ProductOfferingPrice(
        type="ProductOfferingPrice",
        id=ident,
        href=links.catalog("productOfferingPrice", ident),
        name=_("Monthly fee") if period == "month" else _("Daily fee"),
        lifecycleStatus="Active",
        priceType="recurring",
        recurringChargePeriodType=period,
        recurringChargePeriodLength=1,
        price=money(fee_minor, currency),
    )


def _one_time(links: Links, ident: str, name: str, amount_minor: int, currency: str) -> ProductOfferingPrice:
    return ProductOfferingPrice(
        type="ProductOfferingPrice",
        id=ident,
        href=links.catalog("productOfferingPrice", ident),
        name=name,
        lifecycleStatus="Active",
        priceType="oneTime",
        price=money(amount_minor, currency),
    )


def _validity_terms(validity_days: int | None) -> list[ProductOfferingTerm] | None:
    if not validity_days:
        return None
    return [ProductOfferingTerm(name="validity", duration=Duration(amount=validity_days, units="days"))]


def _allowance_price(
    links: Links, allowance: Any, *, fee_period: str, validity_days: int | None, currency: str
) -> ProductOfferingPrice:
    ident = f"allowance-{allowance.pk}"
    kind = allowance.usage_kind
    classes = [catalog_queries.usage_class_label(code) for code in allowance.usage_classes or ()]
    period = CHARGE_PERIODS.get(fee_period) if not validity_days else None
    return ProductOfferingPrice(
        type="ProductOfferingPrice",
        id=ident,
        href=links.catalog("productOfferingPrice", ident),
        name=(
            f"{catalog_queries.usage_kind_label(kind)}: {describe_amount(kind, allowance.amount)}"
            f"{_zone_suffix(allowance.zone)}"
        ),
        description=", ".join(classes) or None,
        lifecycleStatus="Active",
        priceType="allowance",
        recurringChargePeriodType=period,
        recurringChargePeriodLength=1 if period else None,
        price=money(0, currency),
        unitOfMeasure=Quantity(amount=allowance.amount, units=UNITS[kind]),
        productOfferingTerm=_validity_terms(validity_days),
    )


def _rate_price(links: Links, rate: Any, currency: str) -> ProductOfferingPrice:
    ident = f"rate-{rate.pk}"
    return ProductOfferingPrice(
        type="ProductOfferingPrice",
        id=ident,
        href=links.catalog("productOfferingPrice", ident),
        name=(
            f"{catalog_queries.usage_kind_label(rate.usage_kind)}, "
            f"{catalog_queries.usage_class_label(rate.usage_class)}{_zone_suffix(rate.zone)}"
        ),
        lifecycleStatus="Active",
        priceType="usage",
        price=money(rate.price_minor, currency),
        unitOfMeasure=Quantity(amount=1, units=PRICE_UNITS[rate.usage_kind]),
    )


def _price_ref(links: Links, price: ProductOfferingPrice) -> Ref:
    return Ref(id=price.id, href=price.href, name=price.name, referred_type="ProductOfferingPrice")


def _lifecycle(is_open: bool) -> str:
    # Launched: on sale; Retired: no longer sold, still in use by those who have it.
    return "Launched" if is_open else "Retired"


def read_catalog(links: Links) -> CatalogView:
    """The whole (small) catalog at once: active tariffs and services and their prices."""
    currency = settings.SELFCARE_CURRENCY
    names = _category_names()
    category_refs = {
        key: Ref(id=key, href=links.catalog("category", key), name=names[key], referred_type="Category")
        for key in (TARIFFS, SERVICES)
    }
    offerings: list[ProductOffering] = []
    prices: list[ProductOfferingPrice] = []
    members: dict[str, list[Ref]] = {TARIFFS: [], SERVICES: []}

    tariffs = catalog_queries.list_catalog_tariffs()
    tariff_refs = {t.pk: _offering_ref(links, "tariff", t.pk, _text(t.name, t.code)) for t in tariffs}
    for tariff in tariffs:
        own: list[ProductOfferingPrice] = []
        fee = _recurring_fee(links, f"tariff-{tariff.pk}", tariff.fee_minor, tariff.fee_period, currency)
        if fee is not None:
            own.append(fee)
        if tariff.change_fee_minor > 0:
            own.append(
                _one_time(
                    links,
                    f"tariff-{tariff.pk}-change",
                    _("Tariff change fee"),
                    tariff.change_fee_minor,
                    currency,
                )
            )
        for allowance in sorted(tariff.allowances.all(), key=lambda a: a.pk):
            own.append(
                _allowance_price(
                    links, allowance, fee_period=tariff.fee_period, validity_days=None, currency=currency
                )
            )
        for rate in sorted(tariff.rates.all(), key=lambda r: r.pk):
            own.append(_rate_price(links, rate, currency))
        ref = tariff_refs[tariff.pk]
        members[TARIFFS].append(ref)
        prices.extend(own)
        offerings.append(
            ProductOffering(
                type="ProductOffering",
                id=ref.id,
                href=str(ref.href),
                name=str(ref.name),
                description=pick_translation(tariff.description) or None,
                isSellable=tariff.is_offered(),
                lifecycleStatus=_lifecycle(tariff.is_open),
                category=[category_refs[TARIFFS]],
                productOfferingPrice=[_price_ref(links, p) for p in own],
            )
        )

    services = catalog_queries.list_catalog_services()
    service_refs = {s.pk: _offering_ref(links, "service", s.pk, _text(s.name, s.code)) for s in services}
    for service in services:
        own = []
        fee = _recurring_fee(links, f"service-{service.pk}", service.fee_minor, service.fee_period, currency)
        if service.connect_fee_minor > 0:
            own.append(
                _one_time(
                    links,
                    f"service-{service.pk}-connect",
                    _("Connection fee"),
                    service.connect_fee_minor,
                    currency,
                )
            )
        if fee is not None:
            own.append(fee)
        for allowance in sorted(service.allowances.all(), key=lambda a: a.pk):
            own.append(
                _allowance_price(
                    links,
                    allowance,
                    fee_period=service.fee_period,
                    validity_days=service.validity_days,
                    currency=currency,
                )
            )
        relationships = [
            *_relationships("requires", (service_refs.get(s.pk) for s in service.requires.all())),
            *_relationships("excludes", (service_refs.get(s.pk) for s in service.excludes.all())),
            *_relationships("optionalFor", (tariff_refs.get(t.pk) for t in service.allowed_tariffs.all())),
        ]
        ref = service_refs[service.pk]
        members[SERVICES].append(ref)
        prices.extend(own)
        offerings.append(
            ProductOffering(
                type="ProductOffering",
                id=ref.id,
                href=str(ref.href),
                name=str(ref.name),
                description=pick_translation(service.description) or None,
                isSellable=service.is_offered(),
                lifecycleStatus=_lifecycle(service.is_open),
                category=[category_refs[SERVICES]],
                productOfferingPrice=[_price_ref(links, p) for p in own],
                productOfferingRelationship=relationships or None,
                productOfferingTerm=_validity_terms(service.validity_days),
            )
        )

    categories = [
        Category(
            type="Category",
            id=key,
            href=str(category_refs[key].href),
            name=names[key],
            isRoot=True,
            lifecycleStatus="Active",
            productOffering=members[key],
        )
        for key in (TARIFFS, SERVICES)
    ]
    catalog = Catalog(
        type="Catalog",
        id=CATALOG_ID,
        href=links.catalog("catalog", CATALOG_ID),
        name=settings.SELFCARE_OPERATOR_NAME,
        catalogType="ProductCatalog",
        lifecycleStatus="Active",
        category=list(category_refs.values()),
    )
    return CatalogView(catalog=catalog, categories=categories, offerings=offerings, prices=prices)


def _relationships(kind: str, refs: Iterable[Ref | None]) -> list[ProductOfferingRelationship]:
    # Relations to archived (inactive) offerings are left out: they are not in the catalog.
    return [
        ProductOfferingRelationship(
            id=ref.id,
            href=str(ref.href),
            name=ref.name,
            relationshipType=kind,
            referred_type="ProductOffering",
        )
        for ref in refs
        if ref is not None
    ]


def find(items: Sequence[Any], ident: str) -> Any:
    for item in items:
        if item.id == ident:
            return item
    raise NotFound()


# =====================================================================================================
# TMF635 Usage
# =====================================================================================================


def _bucket_origin(bucket: Any) -> tuple[str, int, str]:
    """(offering kind, offering id, name) of what a bucket came from: a tariff or a connected service."""
    if bucket.tariff_id is not None:
        return "tariff", int(bucket.tariff_id), _text(bucket.tariff.name, bucket.tariff.code)
    service = bucket.service_assignment.service
    return "service", int(service.pk), _text(service.name, service.code)


def _bucket_ref(links: Links, bucket: Any) -> Ref:
    ident = f"usage-{bucket.pk}"
    return Ref(
        id=ident, href=links.balance("bucket", ident), name=_bucket_name(bucket), referred_type="Bucket"
    )


def _bucket_name(bucket: Any) -> str:
    return f"{_bucket_origin(bucket)[2]}: {catalog_queries.usage_kind_label(bucket.usage_kind)}"


def _characteristic(name: str, value: Any) -> UsageCharacteristic:
    value_type = "integer" if isinstance(value, int) else "string"
    return UsageCharacteristic(name=name, valueType=value_type, value=value)


def _usage(
    record: Any, draws: list[tuple[int, int]], buckets: dict[int, Any], sub: Subscriber, links: Links
) -> Usage:
    usage_type = RECORD_USAGE_TYPES.get(record.kind, "other")
    rated = record.status == "accepted"
    traits: list[UsageCharacteristic] = []
    if usage_type in ("voice", "sms"):
        traits.append(_characteristic("direction", "incoming" if record.kind.endswith("_in") else "outgoing"))
    if record.counterparty:
        traits.append(_characteristic("counterparty", record.counterparty))
    if usage_type == "voice":
        traits.append(_characteristic("duration", int(record.duration_s)))
    if usage_type == "data":
        traits.append(_characteristic("volume", int(record.volume_bytes)))
    if record.usage_class:
        traits.append(_characteristic("usageClass", record.usage_class))
    if record.zone_id is not None and record.zone is not None:
        traits.append(_characteristic("zone", record.zone.code))
    if record.roaming_zone_id is not None and record.roaming_zone is not None:
        traits.append(_characteristic("roamingZone", record.roaming_zone.code))
    if rated:
        traits.append(_characteristic("chargedUnits", int(record.charged_units)))
    elif record.refusal_reason:
        traits.append(_characteristic("refusalReason", record.refusal_reason))

    rated_usage: list[RatedProductUsage] | None = None
    if rated:
        units = UNITS.get(usage_type, "units")
        rated_usage = []
        for bucket_id, drawn in draws:
            bucket = buckets.get(bucket_id)
            kind, pk, name = _bucket_origin(bucket) if bucket is not None else ("", 0, "")
            rated_usage.append(
                RatedProductUsage(
                    type="SelfcareRatedProductUsage",
                    base_type="RatedProductUsage",
                    usageRatingTag="included usage",
                    ratingDate=record.rated_at,
                    taxIncludedRatingAmount=money(0, sub.currency),
                    productRef=_offering_ref(links, kind, pk, name) if bucket is not None else None,
                    bucket=_bucket_ref(links, bucket) if bucket is not None else None,
                    quantity=Quantity(amount=drawn, units=units),
                )
            )
        if record.priced_units or record.price_minor or not draws:
            rated_usage.append(
                RatedProductUsage(
                    type="SelfcareRatedProductUsage",
                    base_type="RatedProductUsage",
                    usageRatingTag="non included usage" if draws else "usage",
                    ratingDate=record.rated_at,
                    isBilled=record.transaction_id is not None,
                    taxIncludedRatingAmount=money(record.price_minor, sub.currency),
                    quantity=Quantity(amount=record.priced_units, units=units),
                )
            )
    return Usage(
        type="Usage",
        id=str(record.pk),
        href=links.usage(str(record.pk)),
        description=str(record.get_kind_display()),
        usageDate=record.started_at,
        usageType=usage_type,
        status="rated" if rated else "rejected",
        usageCharacteristic=traits,
        ratedProductUsage=rated_usage,
    )


def _usages(records: list[Any], sub: Subscriber, links: Links) -> list[Usage]:
    draws = usage_queries.list_record_draws(records)
    buckets = usage_queries.get_buckets({bucket for found in draws.values() for bucket, _units in found})
    return [_usage(record, draws[record.pk], buckets, sub, links) for record in records]


def list_usage(
    sub: Subscriber,
    links: Links,
    *,
    offset: int,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
    usage_type: str | None = None,
) -> tuple[int, list[Usage]]:
    """(how many match, this page of them), newest first."""
    kinds = None
    if usage_type is not None:
        kinds = [kind for kind, of_type in RECORD_USAGE_TYPES.items() if of_type == usage_type]
    query = usage_queries.list_line_usage(sub.line.pk, since=since, until=until, kinds=kinds)
    total = query.count()
    records = list(query[offset : offset + limit]) if limit and offset < total else []
    return total, _usages(records, sub, links)


def get_usage(sub: Subscriber, links: Links, ident: str) -> Usage:
    record = usage_queries.get_line_record(_db_id(ident), line_ids=[sub.line.pk])
    if record is None:
        raise NotFound()
    return _usages([record], sub, links)[0]


# =====================================================================================================
# TMF654 Prepay Balance
# =====================================================================================================


def _money_bucket(sub: Subscriber, links: Links) -> Bucket:
    balance = ledger_queries.get_balance_minor(sub.line.account.ledger_account_id)
    return Bucket(
        type="Bucket",
        id=sub.money_bucket_id,
        href=links.balance("bucket", sub.money_bucket_id),
        name=_("Balance"),
        usageType=MONETARY,
        status="active",
        remainingValue=Quantity(amount=major(balance, sub.currency), units=sub.currency),
        remainingValueName=format_money(balance, sub.currency, _locale()),
        partyAccount=sub.party_account(),
        logicalResource=[sub.logical_resource()],
    )


def _usage_bucket(bucket: Any, sub: Subscriber, links: Links, *, active: bool) -> Bucket:
    kind, pk, name = _bucket_origin(bucket)
    ref = _bucket_ref(links, bucket)
    return Bucket(
        type="Bucket",
        id=ref.id,
        href=str(ref.href),
        name=str(ref.name),
        isShared=False,
        usageType=bucket.usage_kind,
        status="active" if active else "expired",
        remainingValue=Quantity(amount=bucket.remaining, units=UNITS[bucket.usage_kind]),
        remainingValueName=describe_amount(bucket.usage_kind, bucket.remaining),
        validFor=TimePeriod(startDateTime=bucket.period_start, endDateTime=bucket.period_end),
        partyAccount=sub.party_account(),
        logicalResource=[sub.logical_resource()],
        product=[_offering_ref(links, kind, pk, name)],
    )


def list_buckets(sub: Subscriber, links: Links) -> list[Bucket]:
    """The money balance first, then the allowances the line can draw on now, in consumption order."""
    return [
        _money_bucket(sub, links),
        *(_usage_bucket(b, sub, links, active=True) for b in usage_queries.list_line_buckets(sub.line.pk)),
    ]


def get_bucket(sub: Subscriber, links: Links, ident: str) -> Bucket:
    if ident == sub.money_bucket_id:
        return _money_bucket(sub, links)
    pk = _db_id(ident, "usage-")
    bucket = usage_queries.get_buckets([pk]).get(pk)
    if bucket is None or bucket.line_id != sub.line.pk:
        raise NotFound()
    current = {b.pk for b in usage_queries.list_line_buckets(sub.line.pk)}
    return _usage_bucket(bucket, sub, links, active=bucket.pk in current)


def list_accumulated_balances(sub: Subscriber, links: Links) -> list[AccumulatedBalance]:
    """One aggregate per usage type the line has now: money, then voice, SMS and data allowances."""
    current = usage_queries.list_line_buckets(sub.line.pk)
    money_bucket = _money_bucket(sub, links)
    balances = [
        AccumulatedBalance(
            type="AccumulatedBalance",
            id=f"{sub.digits}-{MONETARY}",
            href=links.balance("accumulatedBalance", f"{sub.digits}-{MONETARY}"),
            name=money_bucket.name,
            totalBalance=money_bucket.remainingValue,
            bucket=[
                Ref(
                    id=money_bucket.id, href=money_bucket.href, name=money_bucket.name, referred_type="Bucket"
                )
            ],
            partyAccount=sub.party_account(),
            logicalResource=sub.logical_resource(),
        )
    ]
    for usage_type in USAGE_TYPES:
        of_type = [b for b in current if b.usage_kind == usage_type]
        if not of_type:
            continue
        ident = f"{sub.digits}-{usage_type}"
        balances.append(
            AccumulatedBalance(
                type="AccumulatedBalance",
                id=ident,
                href=links.balance("accumulatedBalance", ident),
                name=catalog_queries.usage_kind_label(usage_type),
                totalBalance=Quantity(amount=sum(b.remaining for b in of_type), units=UNITS[usage_type]),
                bucket=[_bucket_ref(links, b) for b in of_type],
                partyAccount=sub.party_account(),
                logicalResource=sub.logical_resource(),
            )
        )
    return balances


# TMF's ActionStatusType has created, completed, failed and cancelled; a payment under staff review
# (the provider confirmed something else than asked) is not completed yet.
TOPUP_STATUSES = {
    "created": "created",
    "pending": "created",
    "review": "created",
    "succeeded": "completed",
    "failed": "failed",
    "canceled": "cancelled",
}


def topup_balance(payment: Any, sub: Subscriber, links: Links) -> TopupBalance:
    ident = str(payment.public_id)
    own = payment.account_id == sub.line.account_id
    status = TOPUP_STATUSES.get(payment.status, "created")
    return TopupBalance(
        type="SelfcareTopupBalance",
        base_type="TopupBalance",
        id=ident,
        href=links.balance("topupBalance", ident),
        status=status,
        usageType=MONETARY,
        amount=Quantity(amount=major(payment.amount_minor, payment.currency), units=payment.currency),
        isAutoTopup=payment.kind == "autopay",
        requestedDate=payment.created_at,
        confirmationDate=payment.confirmed_at,
        reason=payment.failure_code or None,
        # A top-up of someone else's number names their number only, never their account.
        bucket=(
            Ref(
                id=sub.money_bucket_id,
                href=links.balance("bucket", sub.money_bucket_id),
                referred_type="Bucket",
            )
            if own
            else None
        ),
        partyAccount=sub.party_account() if own else None,
        logicalResource=[Ref(id=payment.msisdn, name=payment.msisdn, referred_type="MSISDN")],
        confirmationUrl=(payment.confirmation_url or None) if status == "created" else None,
    )


def list_topups(
    user: Any, sub: Subscriber, links: Links, *, offset: int, limit: int
) -> tuple[int, list[TopupBalance]]:
    """The caller's card top-ups and autopays, and those made to their account, newest first."""
    total = payments_queries.count_payments(user, account_id=sub.line.account_id)
    rows = (
        list(payments_queries.list_payments(user, account_id=sub.line.account_id, limit=offset + limit))[
            offset:
        ]
        if limit and offset < total
        else []
    )
    return total, [topup_balance(p, sub, links) for p in rows]


def get_topup(user: Any, sub: Subscriber, links: Links, ident: str) -> TopupBalance:
    try:
        public_id = uuid.UUID(ident)
    except ValueError:
        raise NotFound() from None
    payment = payments_queries.get_payment_for(user, public_id, account_id=sub.line.account_id)
    return topup_balance(payment, sub, links)


# =====================================================================================================
# TMF677 Usage Consumption
# =====================================================================================================


def consumption_report(sub: Subscriber, links: Links) -> UsageConsumptionReport:
    """The line's allowances now: what is left of each bucket until it ends, and what was used of it
    since it started. Computed at each request (TMF677's synchronous GET form), never stored."""
    now = clock.now()
    line_product = NetworkProduct(id=sub.digits, name=sub.msisdn, publicIdentifier=sub.msisdn)
    buckets = []
    for bucket in usage_queries.list_line_buckets(sub.line.pk, at=now):
        units = UNITS[bucket.usage_kind]
        buckets.append(
            UsageVolumeProduct(
                id=f"usage-{bucket.pk}",
                name=_bucket_name(bucket),
                usageType=bucket.usage_kind,
                isShared=False,
                bucketBalance=[
                    UsageVolumeBalance(
                        remainingValue=Quantity(amount=bucket.remaining, units=units),
                        remainingValueName=describe_amount(bucket.usage_kind, bucket.remaining),
                        validFor=TimePeriod(startDateTime=now, endDateTime=bucket.period_end),
                    )
                ],
                bucketCounter=[
                    ConsumptionSummary(
                        counterType="used",
                        level="global",
                        value=Quantity(amount=bucket.used, units=units),
                        valueName=describe_amount(bucket.usage_kind, bucket.used),
                        consumptionPeriod=TimePeriod(startDateTime=bucket.period_start, endDateTime=now),
                    )
                ],
                product=[line_product],
            )
        )
    return UsageConsumptionReport(
        type="UsageConsumptionReport",
        id=sub.digits,
        href=links.consumption(sub.digits),
        name=sub.msisdn,
        effectiveDate=now,
        bucket=buckets,
        relatedParty=Ref(id=sub.account_number, role="owner", referred_type="BillingAccount"),
    )
