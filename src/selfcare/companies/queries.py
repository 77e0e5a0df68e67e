"""Reads of companies: business applications and invitations, roles and access, the company's money,
lines and members (for the pages, the API and other domains)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from selfcare.billing import queries as billing_queries
from selfcare.catalog import queries as catalog_queries
from selfcare.companies.models import Application, Company, Invitation, Membership, Role
from selfcare.companies.services import check_status_token, invitation_token_hash
from selfcare.identity.services import has_subscriber_account
from selfcare.kit import clock
from selfcare.kit.i18n import pick_translation
from selfcare.ledger import queries as ledger_queries
from selfcare.lines import queries as lines_queries
from selfcare.usage import queries as usage_queries


def list_region_choices() -> list[tuple[int, str]]:
    """The operator's regions as (id, name in the current language), by name."""
    return sorted(((r.pk, r.display_name) for r in catalog_queries.list_regions()), key=lambda c: c[1])


def get_application_for_status(tracking_number: str, token: str) -> Application | None:
    """The application behind a status link, or None when the number or its token is wrong (both
    look the same to the visitor)."""
    if not check_status_token(tracking_number, token):
        return None
    return (
        Application.objects.select_related("region")
        .prefetch_related("numbers__line")
        .filter(tracking_number=tracking_number)
        .first()
    )


def list_application_numbers(application: Application) -> list[str]:
    return list(application.numbers.order_by("line__msisdn").values_list("line__msisdn", flat=True))


@dataclass(frozen=True)
class InvitationView:
    """What the acceptance page shows about an invitation."""

    invitation: Invitation
    company_name: str
    state: str  # "open", "accepted", "expired"
    has_account: bool


def get_invitation(token: str) -> InvitationView | None:
    invitation = (
        Invitation.objects.select_related("company")
        .filter(token_hash=invitation_token_hash(token or ""))
        .first()
    )
    if invitation is None:
        return None
    if invitation.accepted_at is not None:
        state = "accepted"
    elif invitation.expires_at <= clock.now():
        state = "expired"
    else:
        state = "open"
    return InvitationView(
        invitation=invitation,
        company_name=invitation.company.name,
        state=state,
        has_account=has_subscriber_account(invitation.phone),
    )


def max_numbers() -> int:
    return int(settings.SELFCARE_BUSINESS_MAX_NUMBERS)


# --- Roles and what they allow -----------------------------------------------------------------------


class Permission(StrEnum):
    VIEW_COMPANY = "company.view"  # the company home: balance, credit limit, spending
    VIEW_MONEY = "money.view"  # balance, payments, documents
    MANAGE_MONEY = "money.manage"  # pay, order documents
    VIEW_LINES = "lines.view"  # every line of the company
    MANAGE_LINES = "lines.manage"  # tariffs, services, quotas, blocks, bulk changes
    VIEW_MEMBERS = "members.view"
    MANAGE_MEMBERS = "members.manage"  # invite, change roles, remove
    # Order the call detail of any company line (statements; the admin owns and downloads the file).
    ORDER_CALL_DETAIL = "lines.call_detail"


PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.ACCOUNTANT: frozenset(
        {Permission.VIEW_COMPANY, Permission.VIEW_MONEY, Permission.MANAGE_MONEY, Permission.VIEW_LINES}
    ),
    Role.VIEWER: frozenset({Permission.VIEW_COMPANY, Permission.VIEW_MONEY, Permission.VIEW_LINES}),
    # An employee sees their own line only (CompanyAccess.may_see_line), nothing of the company.
    Role.EMPLOYEE: frozenset(),
}


def role_allows(role: str, permission: Permission) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class CompanyAccess:
    """A signed-in user's standing in one company."""

    company: Company
    membership: Membership

    @property
    def role(self) -> str:
        return str(self.membership.role)

    @property
    def own_line_id(self) -> int | None:
        return self.membership.line_id

    def can(self, permission: Permission) -> bool:
        return role_allows(self.role, permission)

    def may_see_line(self, line_id: int) -> bool:
        """Any line of the company for roles that view lines; an employee only their own."""
        return self.can(Permission.VIEW_LINES) or (
            self.own_line_id is not None and line_id == self.own_line_id
        )


def get_membership(user: Any, company_id: int) -> Membership | None:
    """The user's membership in the company (with the company, its account and balance), or None for
    anonymous visitors, staff without a membership and anyone of another company (one query)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    return (
        Membership.objects.select_related("company__account__ledger_account", "company__customer")
        .filter(user_id=user.pk, company_id=company_id)
        .first()
    )


def get_access(user: Any, company_id: int) -> CompanyAccess | None:
    membership = get_membership(user, company_id)
    if membership is None:
        return None
    return CompanyAccess(company=membership.company, membership=membership)


def list_user_memberships(user: Any) -> list[Membership]:
    """Every company the user acts for, oldest membership first (one query)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.select_related("company").filter(user_id=user.pk).order_by("created_at", "id")
    )


def first_company_id(user: Any) -> int | None:
    """The company a user's sign-in lands on (their oldest membership), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.filter(user_id=user.pk)
        .order_by("created_at", "id")
        .values_list("company_id", flat=True)
        .first()
    )


def start_page_line_id(access: CompanyAccess) -> int | None:
    """Where a member lands: an employee on their own line (the id), everyone else on the home (None)."""
    return None if access.can(Permission.VIEW_COMPANY) else access.own_line_id


# --- The company's money ------------------------------------------------------------------------------

# Repaying a promised payment moves money already spent (as in the subscriber cabinet).
NOT_SPENDING_KINDS = ("promised_repay", "promised_collect")
TOP_LINES = 10

# The spending categories are billing's: the subscriber cabinet and the company pages show the same.
SPENDING_CATEGORIES = billing_queries.SPENDING_CATEGORIES
_CATEGORY_OF_KIND = billing_queries.SPENDING_CATEGORY_OF_KIND
_CATEGORY_OF_RECORD = billing_queries.SPENDING_CATEGORY_OF_RECORD


def operator_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_start(now: datetime | None = None) -> datetime:
    """The first instant of the current local month in the operator's time zone."""
    today = (now or clock.now()).astimezone(operator_tz()).date()
    return datetime.combine(today.replace(day=1), time.min, tzinfo=operator_tz())


@dataclass(frozen=True)
class CategorySpending:
    code: str
    label: str
    amount_minor: int


@dataclass(frozen=True)
class LineSpending:
    line: Any
    amount_minor: int


@dataclass
class CompanySummary:
    company: Company
    account_kind: str
    balance_minor: int
    credit_limit_minor: int
    unpaid_fees_minor: int
    categories: list[CategorySpending]
    top_lines: list[LineSpending]
    lines_by_status: dict[str, int]
    month_start: datetime

    @property
    def is_postpaid(self) -> bool:
        return self.account_kind == "postpaid"

    @property
    def owed_minor(self) -> int:
        """What the company owes: a postpaid account's negative balance, plus fees it could not pay."""
        return max(0, -self.balance_minor) + self.unpaid_fees_minor

    @property
    def available_minor(self) -> int:
        """What the lines can still spend: the balance plus the credit limit (never below zero)."""
        return max(0, self.balance_minor + self.credit_limit_minor)

    @property
    def month_total_minor(self) -> int:
        return sum(c.amount_minor for c in self.categories)

    @property
    def lines_total(self) -> int:
        return sum(self.lines_by_status.values())


def get_company_summary(company: Company, *, top: int = TOP_LINES) -> CompanySummary:
    """The company home: balance, credit limit, what is owed, this month's spending by category and the
    lines that spent most (a fixed number of queries, whatever the number of lines)."""
    account = company.account
    ledger_account_id = int(account.ledger_account_id)
    since = month_start()
    per_line = sum_spending_by_line(int(account.pk), since=since)
    ranked = sorted(per_line.items(), key=lambda item: (-item[1], item[0]))[:top]
    lines = lines_queries.list_lines_by_ids(line_id for line_id, _amount in ranked)
    return CompanySummary(
        company=company,
        account_kind=str(account.kind),
        balance_minor=int(account.ledger_account.balance_minor),
        credit_limit_minor=int(account.credit_limit_minor),
        unpaid_fees_minor=billing_queries.get_debt_minor(int(account.pk)),
        categories=spending_by_category(ledger_account_id, since=since),
        top_lines=[LineSpending(lines[line_id], amount) for line_id, amount in ranked if line_id in lines],
        lines_by_status=lines_queries.count_account_lines_by_status(int(account.pk)),
        month_start=since,
    )


def spending_by_category(ledger_account_id: int, *, since: datetime) -> list[CategorySpending]:
    """What left the company's account since `since`, by category (the subscriber cabinet's
    categories): the ledger's debits by transaction kind, usage split by what its records were."""
    rows = ledger_queries.sum_debits_by_day_and_kind(
        ledger_account_id, since=since, tz=operator_tz(), exclude_kinds=NOT_SPENDING_KINDS
    )
    per_kind: dict[str, int] = {}
    for _day, kind, amount in rows:
        per_kind[kind] = per_kind.get(kind, 0) + amount
    totals = dict.fromkeys((code for code, _label in SPENDING_CATEGORIES), 0)
    usage_total = per_kind.pop("usage", 0)
    if usage_total:
        charges = usage_queries.sum_charges_by_kind(
            ledger_queries.list_transaction_ids(
                ledger_account_id, kind="usage", since=since, until=clock.now() + timedelta(days=1)
            )
        )
        for record_kind, amount in charges.items():
            totals[_CATEGORY_OF_RECORD.get(record_kind, "other")] += amount
        totals["other"] += usage_total - sum(charges.values())
    for kind, amount in per_kind.items():
        totals[_CATEGORY_OF_KIND.get(kind, "other")] += amount
    return [CategorySpending(code, str(label), totals[code]) for code, label in SPENDING_CATEGORIES]


def sum_spending_by_line(
    account_id: int, *, since: datetime, line_ids: list[int] | None = None
) -> dict[int, int]:
    """What each line cost since `since` (line id -> minor units): its priced usage, its charged fees
    and its change fees; three grouped queries, for the whole account or only `line_ids`."""
    if line_ids is not None and not line_ids:
        return {}
    totals = dict(usage_queries.sum_line_prices(account_id=account_id, since=since, line_ids=line_ids))
    for line_id, amount in billing_queries.sum_line_charges(
        account_id=account_id, since=since, line_ids=line_ids
    ).items():
        totals[line_id] = totals.get(line_id, 0) + amount
    return totals


# --- Lines --------------------------------------------------------------------------------------------

LINE_ORDERS = ("number", "name", "spend")


@dataclass(frozen=True)
class LineRow:
    line: Any
    spent_minor: int

    @property
    def tariff_name(self) -> str:
        return pick_translation(self.line.tariff.name)


@dataclass
class LinePage:
    rows: list[LineRow]
    number: int
    num_pages: int
    count: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    @property
    def paginator(self) -> LinePage:  # what the shared pagination template reads num_pages from
        return self

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


def list_company_lines(
    company: Company,
    *,
    search: str = "",
    tariff_id: int | None = None,
    status: str = "",
    order: str = "number",
    page: int = 1,
    per_page: int = 50,
) -> LinePage:
    """One page of the company's lines with this month's spending of each: five queries whatever the
    number of lines (count, page, and the page's spending from three sources). Sorted by spending, the
    ids of the matching lines and the whole account's spending are read instead (still bounded)."""
    account_id = int(company.account.pk)
    lines = lines_queries.list_account_lines(
        account_id,
        search=search,
        tariff_id=tariff_id,
        status=status,
        order="name" if order == "name" else "number",
    )
    since = month_start()
    if order == "spend":
        ids = list(lines.values_list("id", flat=True))
        spending = sum_spending_by_line(account_id, since=since)
        ids.sort(key=lambda line_id: -spending.get(line_id, 0))  # stable: number order among equals
        count = len(ids)
        number, num_pages = _page_bounds(page, count, per_page)
        page_ids = ids[(number - 1) * per_page : number * per_page]
        by_id = lines_queries.list_lines_by_ids(page_ids)
        rows = [LineRow(by_id[line_id], spending.get(line_id, 0)) for line_id in page_ids if line_id in by_id]
        return LinePage(rows, number, num_pages, count, per_page)
    count = lines.count()
    number, num_pages = _page_bounds(page, count, per_page)
    page_lines = list(lines[(number - 1) * per_page : number * per_page])
    spending = sum_spending_by_line(account_id, since=since, line_ids=[line.pk for line in page_lines])
    return LinePage(
        [LineRow(line, spending.get(line.pk, 0)) for line in page_lines], number, num_pages, count, per_page
    )


def _page_bounds(page: int, count: int, per_page: int) -> tuple[int, int]:
    num_pages = max(1, -(-count // per_page))
    return min(max(1, page), num_pages), num_pages


def list_tariff_choices(company: Company) -> list[tuple[int, str]]:
    return [
        (tariff_id, pick_translation(name))
        for tariff_id, name in lines_queries.list_account_tariffs(int(company.account.pk))
    ]


def get_company_line(access: CompanyAccess, line_id: int) -> Any:
    """A line the member may see (with its tariff), or None: another company's line, and for an
    employee any line but their own, are not found."""
    if not access.may_see_line(line_id):
        return None
    return lines_queries.get_account_line(int(access.company.account.pk), line_id)


@dataclass
class LineDetails:
    line: Any
    tariff_name: str
    services: list[Any]
    buckets: list[usage_queries.BucketSummary]
    usage_minor: int
    fees_minor: int
    month_start: datetime

    @property
    def spent_minor(self) -> int:
        return self.usage_minor + self.fees_minor


def get_line_details(company: Company, line: Any) -> LineDetails:
    """The line page: tariff, connected services, buckets, this month's spending (four queries)."""
    since = month_start()
    account_id = int(company.account.pk)
    usage = usage_queries.sum_line_prices(account_id=account_id, since=since, line_ids=[line.pk])
    fees = billing_queries.sum_line_charges(account_id=account_id, since=since, line_ids=[line.pk])
    return LineDetails(
        line=line,
        tariff_name=pick_translation(line.tariff.name),
        services=lines_queries.list_connected_services(line.pk),
        buckets=usage_queries.list_line_bucket_summaries(line.pk, tariff_id=line.tariff_id, at=clock.now()),
        usage_minor=usage.get(line.pk, 0),
        fees_minor=fees.get(line.pk, 0),
        month_start=since,
    )


# --- Members and invitations --------------------------------------------------------------------------


def list_members(company: Company) -> list[Membership]:
    """The company's people with their user and line, admins first (one query)."""
    order: dict[str, int] = {Role.ADMIN: 0, Role.ACCOUNTANT: 1, Role.VIEWER: 2, Role.EMPLOYEE: 3}
    members = list(
        Membership.objects.select_related("user", "line").filter(company_id=company.pk).order_by("id")
    )
    return sorted(members, key=lambda m: (order.get(m.role, 9), m.pk))


def get_member(company: Company, membership_id: int) -> Membership | None:
    return (
        Membership.objects.select_related("user", "line")
        .filter(company_id=company.pk, pk=membership_id)
        .first()
    )


def count_admins(company_id: int) -> int:
    return Membership.objects.filter(company_id=company_id, role=Role.ADMIN).count()


def list_pending_invitations(company: Company) -> list[Invitation]:
    return list(
        Invitation.objects.select_related("line")
        .filter(company_id=company.pk, accepted_at__isnull=True, expires_at__gt=clock.now())
        .order_by("-created_at", "-id")
    )


# --- For documents (selfcare.documents): a company and one person's role in it ------------------------
# Kept minimal and self-contained: the companies pages have their own access helpers.


def get_company(company_id: int) -> Company | None:
    """The company with its customer, account and region (None when there is no such company)."""
    return Company.objects.select_related("customer", "account", "region").filter(pk=company_id).first()


def list_companies() -> list[Company]:
    """Every company, oldest first, with its customer and account (the month-close job's list)."""
    return list(Company.objects.select_related("customer", "account").order_by("pk"))


def get_role(user: Any, company: Company | int) -> str | None:
    """The user's role in the company ("admin", "accountant", "viewer", "employee"), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = get_membership(user, company if isinstance(company, int) else company.pk)
    return None if membership is None else str(membership.role)


def list_user_company_ids(user: Any, *, roles: tuple[str, ...]) -> list[int]:
    """The companies where the user has one of these roles, oldest membership first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user_id=user.pk, role__in=roles)
        .order_by("created_at", "pk")
        .values_list("company_id", flat=True)
    )


# --- end of the documents block -------------------------------------------------------------------------


# --- Bulk changes: what the form offers and the lines a filter matches --------------------------------


def list_bulk_tariff_choices() -> list[tuple[int, str]]:
    """Tariffs a line may change to now (open for new), as (id, name), in catalog order."""
    return [
        (int(card.tariff.pk), pick_translation(card.tariff.name))
        for card in catalog_queries.list_tariff_cards()
    ]


def list_bulk_service_choices() -> list[tuple[int, str]]:
    """Services open for connection now, as (id, name), in catalog order (disconnecting a service
    closed since is done from the line's page)."""
    return [(int(s.pk), pick_translation(s.name)) for s in catalog_queries.list_services_for_offer()]


def list_matching_lines(
    company: Company, *, search: str = "", tariff_id: int | None = None, status: str = "", limit: int
) -> list[Any]:
    """Every line of the company the lines list's filter matches (up to `limit`), by number."""
    return list(
        lines_queries.list_account_lines(
            int(company.account.pk), search=search, tariff_id=tariff_id, status=status
        )[:limit]
    )


def member_names(company: Company) -> dict[str, str]:
    """The audit actor ("user:<id>") of each member → their name, to say who made a request."""
    return {f"user:{m.user_id}": m.user.get_full_name() or m.user.username for m in list_members(company)}


def get_bulk_tariff(tariff_id: int) -> Any:
    """A tariff offered for bulk change (open for new), or None."""
    return next((c.tariff for c in catalog_queries.list_tariff_cards() if c.tariff.pk == tariff_id), None)


def get_bulk_service(service_id: int) -> Any:
    return catalog_queries.get_service(service_id)
