"""/tmf-api/: TM Forum Open API compatibility endpoints (TMF620, TMF635, TMF654, TMF677).

A NinjaAPI of its own, beside /api/v1/: the base paths, operation ids, query parameters (`fields`,
`offset`, `limit`), list headers (`X-Total-Count`, `X-Result-Count`) and error shape (TMF's Error) are
TMF's. Every operation needs a subscriber's bearer token (as /api/v1/) and shows only what is the
caller's own: another subscriber's usage, bucket or top-up is "not found". docs/tmf.md lists what is
implemented and how our data maps onto TMF's resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Header, NinjaAPI, Query, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel

from selfcare.identity.auth import SubscriberBearer
from selfcare.kit.errors import BusinessError, NotFound
from selfcare.tmf import queries, services
from selfcare.tmf.errors import BadFilter, BadPaging, MissingIdempotencyKey
from selfcare.tmf.schemas import (
    AccumulatedBalance,
    Bucket,
    Catalog,
    Category,
    Error,
    NumericError,
    ProductOffering,
    ProductOfferingPrice,
    TopupBalance,
    TopupBalanceCreate,
    Usage,
    UsageConsumptionReport,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

tmf_api = NinjaAPI(
    title="selfcare TM Forum Open APIs",
    version="4",
    description=(
        "TM Forum compatibility endpoints: TMF620 Product Catalog (read), TMF635 Usage (read), TMF654 "
        "Prepay Balance (buckets, accumulated balances, top-ups) and TMF677 Usage Consumption (GET form). "
        "TMF's own Swagger files (docs/tmf/) are the contract; this document describes what is implemented. "
        "Authenticate with a subscriber's bearer token from /api/v1/auth/."
    ),
    urls_namespace="tmf-api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=SubscriberBearer(),
)

_ERRORS: dict[int, Any] = {status: Error for status in (400, 401, 404, 405, 500)}
_NUMERIC_ERRORS: dict[int, Any] = {status: NumericError for status in (400, 401, 404, 405, 500)}
# Statuses TMF does not list are told as the nearest one it does (a business rule refused: Bad Request).
_TMF_STATUS = {422: 400}


# --- Errors in TMF's shape ----------------------------------------------------------------------------


def tmf_error(
    request: HttpRequest, status: int, *, code: str, reason: str, message: str | None = None
) -> HttpResponse:
    status = _TMF_STATUS.get(status, status)
    body: dict[str, Any]
    if request.path.startswith(queries.CONSUMPTION_BASE):
        # TMF677's Error has integer `code` and `status`.
        body = {"code": status, "reason": reason, "status": status}
    else:
        body = {"code": code, "reason": reason, "status": str(status)}
    if message:
        body["message"] = message
    response = tmf_api.create_response(request, body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


@tmf_api.exception_handler(BusinessError)
def _business_error(request: HttpRequest, exc: BusinessError) -> HttpResponse:
    return tmf_error(request, exc.status, code=exc.code, reason=exc.render_message())


@tmf_api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', []))}: {error.get('msg', '')}"
        for error in exc.errors
    )
    return tmf_error(
        request, 400, code="validation_failed", reason=gettext("The data is not valid."), message=details
    )


@tmf_api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return tmf_error(request, 401, code="unauthorized", reason=gettext("Authentication is required."))


@tmf_api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return tmf_error(request, exc.status_code, code=f"http_{exc.status_code}", reason=str(exc))


# --- Rendering: attribute selection, paging headers ---------------------------------------------------

# Always kept by attribute selection, so that what comes back can still be found and told apart.
_ALWAYS = frozenset({"id", "href", "@type"})


def _selected(fields: str | None) -> frozenset[str] | None:
    if fields is None:
        return None
    names = frozenset(name.strip() for name in fields.split(",") if name.strip())
    return names | _ALWAYS if names else None


def _dump(item: BaseModel, fields: frozenset[str] | None) -> dict[str, Any]:
    data = item.model_dump(mode="json", by_alias=True, exclude_none=True)
    if fields is None:
        return data
    kept = fields | getattr(type(item), "MANDATORY", frozenset())
    return {name: value for name, value in data.items() if name in kept}


def _one(request: HttpRequest, item: BaseModel, fields: str | None, *, status: int = 200) -> HttpResponse:
    return tmf_api.create_response(request, _dump(item, _selected(fields)), status=status)


def _page(request: HttpRequest, items: Sequence[BaseModel], total: int, fields: str | None) -> HttpResponse:
    selected = _selected(fields)
    body = [_dump(item, selected) for item in items]
    response = tmf_api.create_response(request, body, status=200)
    response["X-Total-Count"] = str(total)
    response["X-Result-Count"] = str(len(body))
    return response


def _paging(offset: int | None, limit: int | None) -> tuple[int, int]:
    offset = 0 if offset is None else offset
    limit = DEFAULT_LIMIT if limit is None else limit
    if offset < 0 or limit < 0:
        raise BadPaging()
    return offset, min(limit, MAX_LIMIT)


def _in_memory_page(
    request: HttpRequest,
    items: Sequence[BaseModel],
    fields: str | None,
    offset: int | None,
    limit: int | None,
) -> HttpResponse:
    start, size = _paging(offset, limit)
    return _page(request, items[start : start + size], len(items), fields)


def _only_known_parameters(request: HttpRequest, known: Sequence[str]) -> None:
    # TMF lets a client filter on attributes; one we do not filter on must not be silently ignored.
    for name in request.GET:
        if name not in ("fields", "offset", "limit", *known):
            raise BadFilter(name=name)


def _links(request: HttpRequest) -> queries.Links:
    return queries.Links(root=request.build_absolute_uri("/").rstrip("/"))


def _user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _subscriber(request: HttpRequest) -> queries.Subscriber:
    return queries.subscriber_of(_user(request))


Fields = Annotated[str | None, Query(description="Comma-separated properties to be provided in response")]
Offset = Annotated[int | None, Query(description="Requested index for start of resources to be provided")]
Limit = Annotated[
    int | None,
    Query(description=f"Requested number of resources (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})"),
]

# =====================================================================================================
# TMF620 Product Catalog Management (read only)
# =====================================================================================================

catalog_router = Router(tags=["TMF620 Product Catalog"])


@catalog_router.get("/catalog", response={200: list[Catalog], **_ERRORS}, operation_id="listCatalog")
def list_catalog(
    request: HttpRequest, fields: Fields = None, offset: Offset = None, limit: Limit = None
) -> HttpResponse:
    """The one product catalog: tariffs and services."""
    _only_known_parameters(request, ())
    view = queries.read_catalog(_links(request))
    return _in_memory_page(request, [view.catalog], fields, offset, limit)


@catalog_router.get("/catalog/{id}", response={200: Catalog, **_ERRORS}, operation_id="retrieveCatalog")
def retrieve_catalog(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    view = queries.read_catalog(_links(request))
    return _one(request, queries.find([view.catalog], id), fields)


@catalog_router.get("/category", response={200: list[Category], **_ERRORS}, operation_id="listCategory")
def list_category(
    request: HttpRequest, fields: Fields = None, offset: Offset = None, limit: Limit = None
) -> HttpResponse:
    """Two root categories: tariffs and services."""
    _only_known_parameters(request, ())
    view = queries.read_catalog(_links(request))
    return _in_memory_page(request, view.categories, fields, offset, limit)


@catalog_router.get("/category/{id}", response={200: Category, **_ERRORS}, operation_id="retrieveCategory")
def retrieve_category(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    view = queries.read_catalog(_links(request))
    return _one(request, queries.find(view.categories, id), fields)


@catalog_router.get(
    "/productOffering", response={200: list[ProductOffering], **_ERRORS}, operation_id="listProductOffering"
)
def list_product_offering(
    request: HttpRequest, fields: Fields = None, offset: Offset = None, limit: Limit = None
) -> HttpResponse:
    """Active tariffs, then active services, in catalog order."""
    _only_known_parameters(request, ())
    view = queries.read_catalog(_links(request))
    return _in_memory_page(request, view.offerings, fields, offset, limit)


@catalog_router.get(
    "/productOffering/{id}",
    response={200: ProductOffering, **_ERRORS},
    operation_id="retrieveProductOffering",
)
def retrieve_product_offering(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    view = queries.read_catalog(_links(request))
    return _one(request, queries.find(view.offerings, id), fields)


@catalog_router.get(
    "/productOfferingPrice",
    response={200: list[ProductOfferingPrice], **_ERRORS},
    operation_id="listProductOfferingPrice",
)
def list_product_offering_price(
    request: HttpRequest, fields: Fields = None, offset: Offset = None, limit: Limit = None
) -> HttpResponse:
    """Recurring and one-time fees, allowances and usage rates of every active offering."""
    _only_known_parameters(request, ())
    view = queries.read_catalog(_links(request))
    return _in_memory_page(request, view.prices, fields, offset, limit)


@catalog_router.get(
    "/productOfferingPrice/{id}",
    response={200: ProductOfferingPrice, **_ERRORS},
    operation_id="retrieveProductOfferingPrice",
)
def retrieve_product_offering_price(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    view = queries.read_catalog(_links(request))
    return _one(request, queries.find(view.prices, id), fields)


# =====================================================================================================
# TMF635 Usage Management (read only)
# =====================================================================================================

usage_router = Router(tags=["TMF635 Usage"])


@usage_router.get("/usage", response={200: list[Usage], **_ERRORS}, operation_id="listUsage")
def list_usage(
    request: HttpRequest,
    fields: Fields = None,
    offset: Offset = None,
    limit: Limit = None,
    usage_type: Annotated[str | None, Query(alias="usageType", description="voice, sms or data")] = None,
    since: Annotated[datetime | None, Query(alias="usageDate.gte", description="From (inclusive)")] = None,
    until: Annotated[datetime | None, Query(alias="usageDate.lt", description="Until (exclusive)")] = None,
) -> HttpResponse:
    """The caller's line's usage, rated and rejected, newest first."""
    _only_known_parameters(request, ("usageType", "usageDate.gte", "usageDate.lt"))
    if usage_type is not None and usage_type not in queries.USAGE_TYPES:
        raise BadFilter(name="usageType")
    for name, moment in (("usageDate.gte", since), ("usageDate.lt", until)):
        if moment is None:
            continue
        try:
            moment.astimezone(UTC)  # naive, or beyond what a database can hold once in UTC
        except (ValueError, OverflowError):
            raise BadFilter(name=name) from None
        if moment.tzinfo is None:
            raise BadFilter(name=name)
    start, size = _paging(offset, limit)
    total, items = queries.list_usage(
        _subscriber(request),
        _links(request),
        offset=start,
        limit=size,
        since=since,
        until=until,
        usage_type=usage_type,
    )
    return _page(request, items, total, fields)


@usage_router.get("/usage/{id}", response={200: Usage, **_ERRORS}, operation_id="retrieveUsage")
def retrieve_usage(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    return _one(request, queries.get_usage(_subscriber(request), _links(request), id), fields)


# =====================================================================================================
# TMF654 Prepay Balance Management
# =====================================================================================================

balance_router = Router(tags=["TMF654 Prepay Balance"])


@balance_router.get("/bucket", response={200: list[Bucket], **_ERRORS}, operation_id="listBucket")
def list_bucket(
    request: HttpRequest, fields: Fields = None, offset: Offset = None, limit: Limit = None
) -> HttpResponse:
    """The money balance, then the allowances the line can draw on now."""
    _only_known_parameters(request, ())
    items = queries.list_buckets(_subscriber(request), _links(request))
    return _in_memory_page(request, items, fields, offset, limit)


@balance_router.get("/bucket/{id}", response={200: Bucket, **_ERRORS}, operation_id="retrieveBucket")
def retrieve_bucket(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    return _one(request, queries.get_bucket(_subscriber(request), _links(request), id), fields)


@balance_router.get(
    "/accumulatedBalance",
    response={200: list[AccumulatedBalance], **_ERRORS},
    operation_id="listAccumulatedBalance",
)
def list_accumulated_balance(
    request: HttpRequest, fields: Fields = None, offset: Offset = None, limit: Limit = None
) -> HttpResponse:
    """Per usage type: the money balance, and the total left of voice, SMS and data allowances."""
    _only_known_parameters(request, ())
    items = queries.list_accumulated_balances(_subscriber(request), _links(request))
    return _in_memory_page(request, items, fields, offset, limit)


@balance_router.get(
    "/accumulatedBalance/{id}",
    response={200: AccumulatedBalance, **_ERRORS},
    operation_id="retrieveAccumulatedBalance",
)
def retrieve_accumulated_balance(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    items = queries.list_accumulated_balances(_subscriber(request), _links(request))
    return _one(request, queries.find(items, id), fields)


@balance_router.get(
    "/topupBalance", response={200: list[TopupBalance], **_ERRORS}, operation_id="listTopupBalance"
)
def list_topup_balance(
    request: HttpRequest, fields: Fields = None, offset: Offset = None, limit: Limit = None
) -> HttpResponse:
    """Card top-ups and autopays the caller made or that credited their account, newest first."""
    _only_known_parameters(request, ())
    start, size = _paging(offset, limit)
    total, items = queries.list_topups(
        _user(request),
        _subscriber(request),
        _links(request),
        offset=start,
        limit=size,
    )
    return _page(request, items, total, fields)


@balance_router.get(
    "/topupBalance/{id}", response={200: TopupBalance, **_ERRORS}, operation_id="retrieveTopupBalance"
)
def retrieve_topup_balance(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    item = queries.get_topup(_user(request), _subscriber(request), _links(request), id)
    return _one(request, item, fields)


@balance_router.post(
    "/topupBalance",
    response={201: TopupBalance, **{s: Error for s in (400, 401, 405, 409, 500)}},
    operation_id="createTopupBalance",
)
def create_topup_balance(
    request: HttpRequest,
    body: TopupBalanceCreate,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> HttpResponse:
    """Start a card top-up of the caller's money balance. Open `confirmationUrl` to pay; the balance is
    credited when the provider confirms. Requires an Idempotency-Key header: the same key returns the
    same top-up."""
    if not idempotency_key:
        raise MissingIdempotencyKey()
    sub = _subscriber(request)
    links = _links(request)
    item = services.create_topup(_user(request), sub, links, body, key=idempotency_key)
    response = _one(request, item, None, status=201)
    response["Location"] = item.href
    return response


# =====================================================================================================
# TMF677 Usage Consumption (the synchronous GET form)
# =====================================================================================================

consumption_router = Router(tags=["TMF677 Usage Consumption"])


@consumption_router.get(
    "/usageConsumptionReport",
    response={200: list[UsageConsumptionReport], **_NUMERIC_ERRORS},
    operation_id="listUsageConsumptionReport",
)
def list_usage_consumption_report(
    request: HttpRequest, fields: Fields = None, offset: Offset = None, limit: Limit = None
) -> HttpResponse:
    """One report, computed now: the caller's line's allowances, what is left and what was used."""
    _only_known_parameters(request, ())
    report = queries.consumption_report(_subscriber(request), _links(request))
    return _in_memory_page(request, [report], fields, offset, limit)


@consumption_router.get(
    "/usageConsumptionReport/{id}",
    response={200: UsageConsumptionReport, **_NUMERIC_ERRORS},
    operation_id="retrieveUsageConsumptionReport",
)
def retrieve_usage_consumption_report(request: HttpRequest, id: str, fields: Fields = None) -> HttpResponse:
    sub = _subscriber(request)
    if id != sub.digits:
        raise NotFound()
    return _one(request, queries.consumption_report(sub, _links(request)), fields)


tmf_api.add_router(queries.CATALOG_BASE.removeprefix("/tmf-api"), catalog_router)
tmf_api.add_router(queries.USAGE_BASE.removeprefix("/tmf-api"), usage_router)
tmf_api.add_router(queries.BALANCE_BASE.removeprefix("/tmf-api"), balance_router)
tmf_api.add_router(queries.CONSUMPTION_BASE.removeprefix("/tmf-api"), consumption_router)
