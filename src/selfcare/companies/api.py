"""/api/v1/companies/: the corporate cabinet for apps and company systems (subscriber bearer tokens of
company users). Every route names the company and goes through `access.api_access`: not a member is
404, a role without the permission 403, an object of another company 404 (docs/companies.md).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from selfcare.api.problems import Problem
from selfcare.api.subscriber import IdempotencyKey, RowId
from selfcare.companies import bulk, queries, services
from selfcare.companies.access import api_access, api_line
from selfcare.companies.errors import BulkRequestInvalid, CompanyNotFound
from selfcare.companies.queries import Permission
from selfcare.companies.schemas import (
    CompanyBucketOut,
    CompanyBulkIn,
    CompanyBulkItemOut,
    CompanyBulkLinePreviewOut,
    CompanyBulkPreviewOut,
    CompanyBulkReportOut,
    CompanyBulkRequestOut,
    CompanyCategoryOut,
    CompanyServiceOut,
    CompanySummaryOut,
    InvitationIn,
    InvitationOut,
    LineDetailsOut,
    LineOut,
    LinePageOut,
    LineSpendOut,
    LineStatementIn,
    LineStatementOut,
    MemberOut,
    RoleIn,
)
from selfcare.identity.auth import SubscriberBearer
from selfcare.identity.http import client_of
from selfcare.identity.services import actor_of
from selfcare.kit.errors import BusinessError
from selfcare.kit.i18n import pick_translation
from selfcare.lines.services import normalize_number
from selfcare.statements import services as statements

router = Router(tags=["companies"], auth=SubscriberBearer())
_ERRORS: dict[int, type[Problem]] = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
MAX_PER_PAGE = 200


@router.get(
    "/{company_id}", response={200: CompanySummaryOut, **_ERRORS}, summary="The company's money and spending"
)
def summary(request: HttpRequest, company_id: RowId) -> CompanySummaryOut:
    access = api_access(request, company_id, Permission.VIEW_COMPANY)
    data = queries.get_company_summary(access.company)
    return CompanySummaryOut(
        id=access.company.pk,
        name=access.company.name,
        role=access.role,
        account_kind=data.account_kind,
        currency=str(access.company.account.currency),
        balance_minor=data.balance_minor,
        credit_limit_minor=data.credit_limit_minor,
        available_minor=data.available_minor,
        owed_minor=data.owed_minor,
        spent_month_minor=data.month_total_minor,
        month_start=data.month_start,
        categories=[
            CompanyCategoryOut(code=c.code, label=c.label, amount_minor=c.amount_minor)
            for c in data.categories
        ],
        top_lines=[
            LineSpendOut(
                line_id=row.line.pk,
                msisdn=row.line.msisdn,
                holder_name=row.line.holder_name,
                amount_minor=row.amount_minor,
            )
            for row in data.top_lines
        ],
        lines_by_status=data.lines_by_status,
    )


def _line_out(line: Any, spent_minor: int) -> dict[str, Any]:
    return {
        "id": line.pk,
        "msisdn": line.msisdn,
        "holder_name": line.holder_name,
        "status": line.status,
        "tariff_id": line.tariff_id,
        "tariff_name": pick_translation(line.tariff.name),
        "spent_month_minor": spent_minor,
    }


@router.get(
    "/{company_id}/lines", response={200: LinePageOut, **_ERRORS}, summary="The company's lines, a page"
)
def list_lines(
    request: HttpRequest,
    company_id: RowId,
    search: str = "",
    tariff_id: int | None = None,
    status: str = "",
    sort: str = "number",
    page: int = 1,
    per_page: int = 50,
) -> LinePageOut:
    access = api_access(request, company_id, Permission.VIEW_LINES)
    result = queries.list_company_lines(
        access.company,
        search=search[:100],
        tariff_id=tariff_id,
        status=status,
        order=sort if sort in queries.LINE_ORDERS else "number",
        page=page,
        per_page=max(1, min(per_page, MAX_PER_PAGE)),
    )
    return LinePageOut(
        count=result.count,
        page=result.number,
        pages=result.num_pages,
        per_page=result.per_page,
        items=[LineOut(**_line_out(row.line, row.spent_minor)) for row in result.rows],
    )


@router.get("/{company_id}/lines/{line_id}", response={200: LineDetailsOut, **_ERRORS}, summary="One line")
def get_line(request: HttpRequest, company_id: RowId, line_id: RowId) -> LineDetailsOut:
    access = api_access(request, company_id)
    line = api_line(access, line_id)
    details = queries.get_line_details(access.company, line)
    return LineDetailsOut(
        **_line_out(line, details.spent_minor),
        usage_month_minor=details.usage_minor,
        fees_month_minor=details.fees_minor,
        services=[
            CompanyServiceOut(
                id=a.service.pk,
                code=a.service.code,
                name=pick_translation(a.service.name),
                connected_at=a.connected_at,
            )
            for a in details.services
        ],
        buckets=[
            CompanyBucketOut(
                usage_kind=b.usage_kind, amount=b.amount, remaining=b.remaining, period_end=b.period_end
            )
            for b in details.buckets
        ],
    )


# --- Call detail of a company line: an admin orders it through statements ------------------------------

_STATEMENT_ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    402: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
    429: Problem,
}


@router.post(
    "/{company_id}/lines/{line_id}/statements/code",
    response={202: None, **_STATEMENT_ERRORS},
    summary="Send the SMS code that confirms a line's call-detail order (to the admin's phone)",
)
def send_line_statement_code(request: HttpRequest, company_id: RowId, line_id: RowId) -> Status[None]:
    access = api_access(request, company_id, Permission.ORDER_CALL_DETAIL)
    api_line(access, line_id)
    statements.request_order_code(request.user, client=client_of(request))
    return Status(202, None)


@router.post(
    "/{company_id}/lines/{line_id}/statements",
    response={201: LineStatementOut, **_STATEMENT_ERRORS},
    summary="Order a company line's call detail (admins; the file is the admin's)",
)
def order_line_statement(
    request: HttpRequest,
    company_id: RowId,
    line_id: RowId,
    body: LineStatementIn,
    idempotency_key: IdempotencyKey,
) -> Status[LineStatementOut]:
    access = api_access(request, company_id, Permission.ORDER_CALL_DETAIL)
    line = api_line(access, line_id)
    order = statements.order_statement(
        request.user,
        line=line,
        period_start=body.period_start,
        period_end=body.period_end,
        categories=body.categories,
        fmt=body.format,
        by_email=body.by_email,
        code=body.code,
        idempotency_key=idempotency_key,
        client=client_of(request),
    )
    order.refresh_from_db()
    return Status(
        201,
        LineStatementOut(
            id=order.public_id,
            line_id=order.line_id,
            msisdn=order.msisdn,
            period_start=order.period_start,
            period_end=order.period_end,
            categories=list(order.categories),
            format=order.format,
            by_email=order.by_email,
            status=order.status,
            fee_minor=order.fee_minor,
            created_at=order.created_at,
        ),
    )


def _member_out(member: Any) -> MemberOut:
    return MemberOut(
        id=member.pk,
        user_id=member.user_id,
        name=member.user.get_full_name() or member.user.username,
        msisdn=member.user.msisdn,
        role=member.role,
        line_id=member.line_id,
        created_at=member.created_at,
    )


@router.get(
    "/{company_id}/members", response={200: list[MemberOut], **_ERRORS}, summary="The company's people"
)
def list_members(request: HttpRequest, company_id: RowId) -> list[MemberOut]:
    access = api_access(request, company_id, Permission.VIEW_MEMBERS)
    return [_member_out(member) for member in queries.list_members(access.company)]


@router.post(
    "/{company_id}/invitations",
    response={201: InvitationOut, **_ERRORS},
    summary="Invite a person with a role (the link goes by SMS and e-mail)",
)
def invite(request: HttpRequest, company_id: RowId, body: InvitationIn) -> Status[InvitationOut]:
    access = api_access(request, company_id, Permission.MANAGE_MEMBERS)
    invitation, _token = services.invite_member(
        company=access.company,
        name=body.name,
        phone=body.phone,
        email=body.email,
        role=body.role,
        line_msisdn=body.line,
        actor=actor_of(request.user),
    )
    return Status(
        201,
        InvitationOut(
            id=invitation.pk,
            role=invitation.role,
            phone=invitation.phone,
            line_id=invitation.line_id,
            expires_at=invitation.expires_at,
        ),
    )


@router.patch(
    "/{company_id}/members/{member_id}", response={200: MemberOut, **_ERRORS}, summary="Change a role"
)
def change_role(request: HttpRequest, company_id: RowId, member_id: RowId, body: RoleIn) -> MemberOut:
    access = api_access(request, company_id, Permission.MANAGE_MEMBERS)
    if queries.get_member(access.company, member_id) is None:
        raise CompanyNotFound()
    services.change_member_role(
        company=access.company,
        membership_id=member_id,
        role=body.role,
        line_id=body.line_id,
        actor=actor_of(request.user),
    )
    member = queries.get_member(access.company, member_id)
    return _member_out(member)


# --- Bulk changes ------------------------------------------------------------------------------------

_BODY_ERRORS: dict[int, type[Problem]] = {400: Problem, **_ERRORS}


def _bulk_lines(access: Any, body: CompanyBulkIn) -> tuple[list[Any], list[str]]:
    """The lines the body names, and the numbers that are not lines of this company (an id that is
    not one of its lines refuses the whole request: ids come from our own answers)."""
    numbers: list[str] = []
    for raw in body.msisdns:
        try:
            numbers.append(normalize_number(raw))
        except BusinessError:
            raise BulkRequestInvalid(_("%(number)s is not a phone number."), number=raw[:32]) from None
    numbers = list(dict.fromkeys(numbers))
    ids = list(dict.fromkeys(body.line_ids))
    by_id, missing = bulk.find_company_lines(access.company, line_ids=ids) if ids else ([], [])
    if len(by_id) != len(ids):
        raise BulkRequestInvalid(_("Some of the chosen lines are not lines of this company."))
    by_number, missing = bulk.find_company_lines(access.company, msisdns=numbers) if numbers else ([], [])
    chosen = {line.pk: line for line in [*by_id, *by_number]}
    return list(chosen.values()), missing


def _bulk_targets(body: CompanyBulkIn) -> dict[str, Any]:
    tariff = queries.get_bulk_tariff(body.tariff_id) if body.tariff_id else None
    service = queries.get_bulk_service(body.service_id) if body.service_id else None
    if body.tariff_id and tariff is None:
        raise BulkRequestInvalid(_("The tariff is not open for change."))
    if body.service_id and service is None:
        raise BulkRequestInvalid(_("The service is not found."))
    return {"action": body.action, "tariff": tariff, "service": service, "quota_minor": body.quota_minor}


def _bulk_request_out(found: Any) -> dict[str, Any]:
    return {
        "id": found.pk,
        "action": found.action,
        "tariff_id": found.tariff_id,
        "service_id": found.service_id,
        "quota_minor": found.quota_minor,
        "selection": found.selection,
        "requested_by": found.requested_by,
        "status": found.status,
        "total": found.total,
        "succeeded": found.succeeded,
        "failed": found.failed,
        "charged_minor": found.charged_minor,
        "created_at": found.created_at,
        "started_at": found.started_at,
        "finished_at": found.finished_at,
    }


@router.post(
    "/{company_id}/bulk/preview",
    response={200: CompanyBulkPreviewOut, **_BODY_ERRORS},
    summary="What a bulk change would do to each line, and its total cost (writes nothing)",
)
def bulk_preview(request: HttpRequest, company_id: RowId, body: CompanyBulkIn) -> CompanyBulkPreviewOut:
    access = api_access(request, company_id, Permission.MANAGE_LINES)
    lines, missing = _bulk_lines(access, body)
    preview = bulk.preview_bulk(access.company, lines=lines, **_bulk_targets(body))
    return CompanyBulkPreviewOut(
        action=preview.action,
        allowed_count=preview.allowed_count,
        refused_count=preview.refused_count,
        total_cost_minor=preview.total_cost_minor,
        balance_minor=preview.balance_minor,
        available_minor=preview.available_minor,
        covered=preview.covered,
        missing=missing,
        lines=[
            CompanyBulkLinePreviewOut(
                line_id=row.line_id,
                msisdn=row.msisdn,
                holder_name=row.holder_name,
                allowed=row.allowed,
                code=row.code,
                message=row.message,
                cost_minor=row.cost_minor,
            )
            for row in preview.lines
        ],
    )


@router.post(
    "/{company_id}/bulk",
    response={201: CompanyBulkRequestOut, **_BODY_ERRORS},
    summary="Submit a bulk change (its job applies it line by line)",
)
def bulk_submit(
    request: HttpRequest, company_id: RowId, body: CompanyBulkIn
) -> Status[CompanyBulkRequestOut]:
    access = api_access(request, company_id, Permission.MANAGE_LINES)
    lines, _missing = _bulk_lines(access, body)
    submitted = bulk.submit_bulk(
        access.company,
        lines=lines,
        actor=actor_of(request.user),
        selection="API",
        **_bulk_targets(body),
    )
    return Status(201, CompanyBulkRequestOut(**_bulk_request_out(submitted)))


@router.get(
    "/{company_id}/bulk",
    response={200: list[CompanyBulkRequestOut], **_ERRORS},
    summary="The company's bulk requests, newest first",
)
def bulk_history(request: HttpRequest, company_id: RowId) -> list[CompanyBulkRequestOut]:
    access = api_access(request, company_id, Permission.MANAGE_LINES)
    return [CompanyBulkRequestOut(**_bulk_request_out(r)) for r in bulk.list_bulk_requests(access.company)]


@router.get(
    "/{company_id}/bulk/{request_id}",
    response={200: CompanyBulkReportOut, **_ERRORS},
    summary="A bulk request's status and per-line report",
)
def bulk_report(request: HttpRequest, company_id: RowId, request_id: RowId) -> CompanyBulkReportOut:
    access = api_access(request, company_id, Permission.MANAGE_LINES)
    found = bulk.get_bulk_request(access.company, request_id)
    if found is None:
        raise CompanyNotFound()
    return CompanyBulkReportOut(
        **_bulk_request_out(found),
        items=[
            CompanyBulkItemOut(
                line_id=item.line_id,
                msisdn=item.line.msisdn,
                holder_name=item.line.holder_name,
                status=item.status,
                code=item.code,
                message=item.message,
                charged_minor=item.charged_minor,
                processed_at=item.processed_at,
            )
            for item in bulk.list_bulk_items(found)
        ],
    )
