"""Reads of business applications and invitations for the public pages and the back office."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from selfcare.catalog import queries as catalog_queries
from selfcare.companies.models import Application, Company, Invitation, Membership
from selfcare.companies.services import check_status_token, invitation_token_hash
from selfcare.identity.services import has_subscriber_account
from selfcare.kit import clock


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
    company_id = company if isinstance(company, int) else company.pk
    role = Membership.objects.filter(company_id=company_id, user_id=user.pk).values_list("role", flat=True)
    return next(iter(role), None)


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
