"""Every write of the companies domain (DESIGN.md §5.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from selfcare.companies.models import Membership, Role
from selfcare.identity.services import record_audit
from selfcare.kit.money import format_money
from selfcare.lines import queries as lines_queries
from selfcare.notifications.services import queue_sms

if TYPE_CHECKING:
    from selfcare.lines.models import Line

# --- Quotas: the 80 % notice to a company's admins (docs/usage.md, "Quotas") ----------------------
# Registered in CompaniesConfig.ready() with lines.services.on_quota_threshold: the lines domain marks
# the notice as sent (once per line and month) in the charge's transaction and calls this after commit.

QUOTA_ACTOR = "system:quotas"


def notify_admins_of_quota(line: Line, *, percent: int, actor: str = QUOTA_ACTOR) -> int:
    """SMS every admin of the company that owns `line` (a lines.Line) that the line has spent
    `percent` % of its monthly quota; returns how many were queued. A line outside any company, or a
    company without admins with a phone number, notifies nobody (an audit row still says so)."""
    quota = lines_queries.get_line_quota(line.pk)
    admins = list(
        Membership.objects.filter(company__account_id=line.account_id, role=Role.ADMIN)
        .select_related("user", "company__customer")
        .order_by("pk")
    )
    sent = 0
    with transaction.atomic():
        for membership in admins:
            msisdn = getattr(membership.user, "msisdn", None)
            if not msisdn:
                continue
            language = getattr(membership.user, "language", "") or membership.company.customer.language
            queue_sms(
                msisdn,
                template="companies.quota_warning",
                params={
                    "number": line.msisdn,
                    "percent": str(percent),
                    "quota": format_money(
                        quota.limit_minor if quota is not None and quota.limit_minor is not None else 0,
                        settings.SELFCARE_CURRENCY,
                        language,
                    ),
                },
                language=language,
                actor=actor,
            )
            sent += 1
        record_audit(
            actor,
            "company.quota_notice",
            subject_type="line",
            subject_id=line.pk,
            after={"percent": percent, "admins_notified": sent},
        )
    return sent


def notify_quota_threshold(line_id: int, percent: int) -> None:
    """The lines.services.on_quota_threshold hook: the line reached `percent` % of its quota."""
    notify_admins_of_quota(lines_queries.get_line(line_id), percent=percent)


# --- end of quotas ---------------------------------------------------------------------------------------
