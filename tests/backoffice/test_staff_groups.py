"""`selfcare staff_groups`: the standard groups, their permissions, and running it twice."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from selfcare.identity.models import AuditEvent, User
from tests.factories import make_line

pytestmark = pytest.mark.django_db


def _perms(group: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def _run() -> str:
    out = StringIO()
    call_command("staff_groups", stdout=out)
    return out.getvalue()


def test_the_command_creates_the_groups_once_and_then_changes_nothing() -> None:
    # given a database without groups
    # when the command runs twice
    first = _run()
    snapshot = {g.name: _perms(g.name) for g in Group.objects.all()}
    second = _run()
    # then five groups were created (one audit row each) and the second run changed nothing
    assert sorted(snapshot) == ["Administrators", "Business desk", "Catalog managers", "Finance", "Support"]
    assert first.count(": created") == 5
    assert second.count(": unchanged") == 5
    assert {g.name: _perms(g.name) for g in Group.objects.all()} == snapshot
    assert AuditEvent.objects.filter(action="backoffice.staff_groups.sync").count() == 5


def test_a_hand_edited_group_is_put_back_and_the_change_audited() -> None:
    # given the groups, and Support given the adjustment permission by hand
    _run()
    support = Group.objects.get(name="Support")
    support.permissions.add(Permission.objects.get(codename="adjust_balance"))
    # when the command runs again
    out = _run()
    # then Support is back without it, and the audit row shows before and after
    assert "Support: updated" in out
    assert "billing.adjust_balance" not in _perms("Support")
    row = AuditEvent.objects.filter(action="backoffice.staff_groups.sync", subject_id=str(support.pk)).latest(
        "id"
    )
    assert row.before is not None
    assert row.after is not None
    assert "billing.adjust_balance" in row.before["permissions"]
    assert "billing.adjust_balance" not in row.after["permissions"]


def test_each_group_holds_what_its_desk_needs_and_no_more() -> None:
    # given the groups
    _run()
    support, finance, catalog, business, admins = (
        _perms(n) for n in ("Support", "Finance", "Catalog managers", "Business desk", "Administrators")
    )
    # then support looks and answers but moves no money and edits no catalog
    assert {"lines.view_line", "payments.view_payment", "notifications.view_outboundsms",
            "identity.view_auditevent", "support.change_supportrequest"} <= support  # fmt: skip
    assert not {p for p in support if p.startswith("billing.adjust") or p.startswith("payments.change")}
    assert not {p for p in support if p.startswith("catalog.") and not p.startswith("catalog.view_")}
    # finance adds the adjustments and the payments
    assert {"billing.adjust_balance", "payments.change_paymentalert", "ledger.view_transaction"} <= finance
    # catalog managers edit tariffs, services, regions and zones and nothing else
    assert {
        "catalog.change_tariff",
        "catalog.add_service",
        "catalog.change_region",
        "catalog.change_zone",
    } <= catalog
    assert {p.split(".")[0] for p in catalog} == {"catalog"}
    # the business desk reviews applications
    assert {"companies.view_application", "companies.change_application"} <= business
    assert "billing.adjust_balance" not in business
    # administrators hold every permission
    assert len(admins) == Permission.objects.count()


def test_finance_may_adjust_and_support_may_not(client_for: Any) -> None:
    # given the groups, one staff member in each of Support and Finance, and an account
    _run()
    account = make_line().account
    people = {}
    for name in ("Support", "Finance"):
        user = User.objects.create_user(f"{name.lower()}-1", password="x" * 12, is_staff=True)
        user.groups.add(Group.objects.get(name=name))
        people[name] = user
    # when each opens the adjustment page
    url = f"/backoffice/lines/account/{account.pk}/adjust-balance/"
    answers = {name: client_for(user).get(url).status_code for name, user in people.items()}
    # then Finance gets the form and Support is refused
    assert answers == {"Support": 403, "Finance": 200}
