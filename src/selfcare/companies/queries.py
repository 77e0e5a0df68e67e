"""Reads of companies for other domains and pages."""

from __future__ import annotations

from typing import Any

from selfcare.companies.models import Company, Membership

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
