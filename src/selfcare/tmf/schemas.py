"""The TM Forum resources as we return them: the subset of each Swagger definition that selfcare fills.

Names follow TMF's JSON (camelCase, and `@type`/`@baseType`/`@referredType` through aliases); the
responses are dumped by alias without empty attributes. The authority is TMF's own Swagger files
(docs/tmf/): tests/tmf validates every response against them. Two resources carry documented extension
attributes under their own `@type` (TMF's polymorphism pattern; see docs/tmf.md): a rated usage names
the bucket it drew on, and a top-up carries the payment page to send the payer to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from ninja import Schema
from pydantic import ConfigDict, Field


class TmfSchema(Schema):
    model_config = ConfigDict(populate_by_name=True)


class TypedSchema(TmfSchema):
    # Attributes TMF's definition requires: attribute selection (`fields=`) keeps them, so that a selected
    # resource still validates against the Swagger file (found by schemathesis).
    MANDATORY: ClassVar[frozenset[str]] = frozenset()

    type: str | None = Field(default=None, serialization_alias="@type")
    base_type: str | None = Field(default=None, serialization_alias="@baseType")


class Ref(TmfSchema):
    """The common reference shape (CategoryRef, ProductOfferingRef, BucketRef, PartyAccountRef...)."""

    id: str
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referred_type: str | None = Field(default=None, serialization_alias="@referredType")


class TimePeriod(TmfSchema):
    startDateTime: datetime | None = None
    endDateTime: datetime | None = None


class Money(TmfSchema):
    """An amount in major units as a JSON number (TMF's Money.value): minor units converted exactly
    by the currency's digits at the boundary; amounts stay integers of minor units everywhere else."""

    value: int | float
    unit: str


class Quantity(TmfSchema):
    amount: int | float
    units: str


class Duration(TmfSchema):
    amount: int
    units: str


# --- TMF620 Product Catalog Management ----------------------------------------------------------------


class Catalog(TypedSchema):
    id: str
    href: str
    name: str
    catalogType: str
    lifecycleStatus: str
    category: list[Ref] = []


class Category(TypedSchema):
    id: str
    href: str
    name: str
    isRoot: bool
    lifecycleStatus: str
    productOffering: list[Ref] = []


class ProductOfferingRelationship(TmfSchema):
    id: str
    href: str
    name: str | None = None
    relationshipType: str
    referred_type: str | None = Field(default=None, serialization_alias="@referredType")


class ProductOfferingTerm(TmfSchema):
    name: str
    duration: Duration


class ProductOffering(TypedSchema):
    id: str
    href: str
    name: str
    description: str | None = None
    isBundle: bool = False
    isSellable: bool
    lifecycleStatus: str
    category: list[Ref] = []
    productOfferingPrice: list[Ref] = []
    productOfferingRelationship: list[ProductOfferingRelationship] | None = None
    productOfferingTerm: list[ProductOfferingTerm] | None = None


class ProductOfferingPrice(TypedSchema):
    id: str
    href: str
    name: str
    description: str | None = None
    isBundle: bool = False
    lifecycleStatus: str
    priceType: str
    recurringChargePeriodType: str | None = None
    recurringChargePeriodLength: int | None = None
    price: Money
    unitOfMeasure: Quantity | None = None
    productOfferingTerm: list[ProductOfferingTerm] | None = None


# --- TMF635 Usage Management --------------------------------------------------------------------------


class UsageCharacteristic(TmfSchema):
    name: str
    valueType: str
    value: Any


class RatedProductUsage(TypedSchema):
    usageRatingTag: str
    ratingDate: datetime
    isBilled: bool | None = None
    taxIncludedRatingAmount: Money
    productRef: Ref | None = None
    # Extension attributes of @type SelfcareRatedProductUsage (docs/tmf.md).
    bucket: Ref | None = None
    quantity: Quantity | None = None


class Usage(TypedSchema):
    id: str
    href: str
    description: str | None = None
    usageDate: datetime
    usageType: str
    status: str
    usageCharacteristic: list[UsageCharacteristic] = []
    ratedProductUsage: list[RatedProductUsage] | None = None


# --- TMF654 Prepay Balance Management -----------------------------------------------------------------


class Bucket(TypedSchema):
    id: str
    href: str
    name: str
    description: str | None = None
    isShared: bool | None = None
    usageType: str
    status: str
    remainingValue: Quantity
    remainingValueName: str | None = None
    validFor: TimePeriod | None = None
    partyAccount: Ref
    logicalResource: list[Ref] = []
    product: list[Ref] | None = None


class AccumulatedBalance(TypedSchema):
    MANDATORY: ClassVar[frozenset[str]] = frozenset({"bucket", "name", "totalBalance"})

    id: str
    href: str
    name: str
    totalBalance: Quantity
    bucket: list[Ref]
    partyAccount: Ref
    logicalResource: Ref


class TopupBalance(TypedSchema):
    MANDATORY: ClassVar[frozenset[str]] = frozenset({"status"})

    id: str
    href: str
    status: str
    usageType: str
    amount: Quantity
    isAutoTopup: bool
    requestedDate: datetime
    confirmationDate: datetime | None = None
    reason: str | None = None
    bucket: Ref | None = None
    partyAccount: Ref | None = None
    logicalResource: list[Ref] = []
    # Extension attribute of @type SelfcareTopupBalance: the provider's page the payer opens to pay.
    confirmationUrl: str | None = None


class RefIn(TmfSchema):
    id: str


class QuantityIn(TmfSchema):
    amount: float
    units: str | None = None


class TopupBalanceCreate(TmfSchema):
    """TMF654's TopupBalance_Create: what it requires, and the optional number to credit."""

    amount: QuantityIn
    usageType: str
    bucket: RefIn
    partyAccount: RefIn
    logicalResource: list[RefIn] | None = None
    description: str | None = None


# --- TMF677 Usage Consumption -------------------------------------------------------------------------


class NetworkProduct(TmfSchema):
    id: str
    name: str
    publicIdentifier: str


class UsageVolumeBalance(TmfSchema):
    remainingValue: Quantity
    remainingValueName: str | None = None
    validFor: TimePeriod


class ConsumptionSummary(TmfSchema):
    counterType: str
    level: str
    value: Quantity
    valueName: str | None = None
    consumptionPeriod: TimePeriod


class UsageVolumeProduct(TmfSchema):
    id: str
    name: str
    usageType: str
    isShared: bool
    bucketBalance: list[UsageVolumeBalance]
    bucketCounter: list[ConsumptionSummary]
    product: list[NetworkProduct]


class UsageConsumptionReport(TypedSchema):
    id: str
    href: str
    name: str
    effectiveDate: datetime
    bucket: list[UsageVolumeProduct]
    relatedParty: Ref | None = None


# --- Errors -------------------------------------------------------------------------------------------


class Error(TmfSchema):
    """TMF's Error (TMF620, TMF635, TMF654): `code` and `status` are strings."""

    code: str
    reason: str
    message: str | None = None
    status: str | None = None


class NumericError(TmfSchema):
    """TMF677's Error, whose `code` and `status` are integers."""

    code: int
    reason: str
    message: str | None = None
    status: int | None = None
