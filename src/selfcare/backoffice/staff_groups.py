"""The standard staff groups of the back office and their permissions (docs/backoffice.md).

`sync_staff_groups` makes each group hold exactly these permissions (creating missing groups), so
running it again changes nothing; a change is audited with the permissions before and after.
Permissions are named "app_label.codename"; one that does not exist (an app not migrated) stops the
run before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from selfcare.identity.services import record_audit


def _perms(app: str, actions: str, *models: str) -> list[str]:
    return [f"{app}.{action}_{model}" for model in models for action in actions.split()]


# Looking at subscribers, their lines, money and messages: what every desk needs to answer a call.
_LOOK = [
    *_perms("lines", "view", "customer", "account", "line", "tariffassignment", "serviceassignment"),
    *_perms("payments", "view", "payment", "promisedpayment", "savedcard", "autopaysettings"),
    *_perms("billing", "view", "feecharge", "productchange", "balanceadjustment"),
    *_perms("usage", "view", "usagerecord", "bucket"),
    *_perms("notifications", "view", "outboundsms"),
    *_perms("statements", "view", "statementorder"),
    *_perms("support", "view", "supportrequest", "faqentry"),
    *_perms("identity", "view", "auditevent"),
    *_perms("catalog", "view", "tariff", "service", "region", "zone"),
]

SUPPORT = [
    *_LOOK,
    "support.change_supportrequest",  # answer and close requests (through the services)
    "lines.change_line",  # holder name; block or unblock on the subscriber's behalf
    *_perms("identity", "view", "usersession", "device", "onetimecode"),
]

FINANCE = [
    *_LOOK,
    "billing.adjust_balance",
    *_perms("payments", "view", "webhookevent", "paymentalert", "promisedpaymentrule"),
    "payments.change_payment",  # ask the provider for a payment's status now
    "payments.change_paymentalert",  # mark alerts resolved
    "payments.change_promisedpaymentrule",
    *_perms("ledger", "view", "ledgeraccount", "transaction", "posting"),
]

CATALOG = [
    *_perms(
        "catalog",
        "view add change delete",
        "tariff",
        "service",
        "region",
        "zone",
        "zoneprefix",
        "numberrange",
        "allowance",
        "rate",
    ),
]

BUSINESS = [
    *_perms("companies", "view", "application", "applicationnumber", "company", "membership", "invitation"),
    *_perms("companies", "view", "bulkrequest", "bulkitem"),
    "companies.change_application",  # approve or reject on the review page
    *_perms("lines", "view", "customer", "account", "line"),
    *_perms("catalog", "view", "region", "tariff"),
    *_perms("identity", "view", "auditevent"),
]

ALL = "__all__"


@dataclass(frozen=True)
class StaffGroup:
    name: str
    description: object
    permissions: list[str] | str


STAFF_GROUPS = (
    StaffGroup(
        "Support", _("subscribers, lines, payments, SMS and audit to look at; answers requests"), SUPPORT
    ),
    StaffGroup("Finance", _("what Support sees, plus balance adjustments, payments and the ledger"), FINANCE),
    StaffGroup("Catalog managers", _("tariffs, services, regions, zones and number ranges"), CATALOG),
    StaffGroup("Business desk", _("reviews business applications"), BUSINESS),
    StaffGroup("Administrators", _("every permission"), ALL),
)


def _resolve(names: list[str]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in=[codename for _, codename in wanted]
        )
        if (p.content_type.app_label, p.codename) in wanted
    }
    missing = sorted(f"{app}.{codename}" for app, codename in wanted - found.keys())
    if missing:
        raise LookupError(f"permissions not found (run migrate first?): {', '.join(missing)}")
    return list(found.values())


def _names(permissions: object) -> list[str]:
    return sorted(f"{p.content_type.app_label}.{p.codename}" for p in permissions)  # type: ignore[attr-defined]


def sync_staff_groups(*, actor: str) -> dict[str, str]:
    """Create or update the standard groups; returns group name -> "created" | "updated" | "unchanged"."""
    plans = [
        (
            group,
            list(Permission.objects.select_related("content_type"))
            if group.permissions == ALL
            else _resolve(list(group.permissions)),
        )
        for group in STAFF_GROUPS
    ]
    outcome: dict[str, str] = {}
    with transaction.atomic():
        for group, permissions in plans:
            row, created = Group.objects.get_or_create(name=group.name)
            before = _names(row.permissions.select_related("content_type"))
            after = _names(permissions)
            if before == after and not created:
                outcome[group.name] = "unchanged"
                continue
            row.permissions.set(permissions)
            outcome[group.name] = "created" if created else "updated"
            record_audit(
                actor,
                "backoffice.staff_groups.sync",
                subject_type="group",
                subject_id=row.pk,
                before=None if created else {"name": group.name, "permissions": before},
                after={"name": group.name, "permissions": after},
            )
    return outcome
