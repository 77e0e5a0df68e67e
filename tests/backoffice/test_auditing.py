"""Every staff action in the back office leaves an audit row; read-only lists stay read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory

from selfcare.catalog.models import Zone, ZonePrefix
from selfcare.identity.models import AuditEvent, User
from selfcare.lines.models import Line
from tests.factories import make_line

pytestmark = pytest.mark.django_db

# Rows written only by services: nobody adds, changes or deletes them in the back office.
READ_ONLY = [
    "auditevent", "ledgeraccount", "transaction", "posting", "feecharge", "productchange",
    "balanceadjustment", "usagebatch", "usagerecord", "bucket", "bucketconsumption", "outboundsms",
    "payment", "webhookevent", "paymentalert", "promisedpayment", "savedcard", "autopaysettings",
    "statementorder", "onetimecode", "device", "usersession", "refreshtoken", "account",
]  # fmt: skip


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser("root", password="x" * 12)


def test_read_only_lists_refuse_add_change_and_delete_even_to_a_superuser(root: User) -> None:
    # given a superuser's request
    request = RequestFactory().get("/backoffice/")
    request.user = root
    admins = {model._meta.model_name: model_admin for model, model_admin in admin.site._registry.items()}
    # then every read-only admin refuses the three writes
    allowed = {
        name: (
            admins[name].has_add_permission(request),
            admins[name].has_change_permission(request),
            admins[name].has_delete_permission(request),
        )
        for name in READ_ONLY
    }
    assert allowed == {name: (False, False, False) for name in READ_ONLY}


def test_an_edit_with_inline_rows_is_audited_with_what_the_inlines_did(root: User, client_for: Any) -> None:
    # given a zone with one prefix
    zone = Zone.objects.create(code="europe", kind="roaming", name={"en": "Europe"})
    kept = ZonePrefix.objects.create(zone=zone, prefix="33")
    client = client_for(root)
    # when staff rename it and add a prefix on its page
    response = client.post(
        f"/backoffice/catalog/zone/{zone.pk}/change/",
        {
            "code": "europe",
            "kind": "roaming",
            "name_en": "Europe and UK",
            "name_ru": "",
            "name_fa": "",
            "description_en": "",
            "description_ru": "",
            "description_fa": "",
            "prefixes-TOTAL_FORMS": "2",
            "prefixes-INITIAL_FORMS": "1",
            "prefixes-MIN_NUM_FORMS": "0",
            "prefixes-MAX_NUM_FORMS": "1000",
            "prefixes-0-id": str(kept.pk),
            "prefixes-0-zone": str(zone.pk),
            "prefixes-0-prefix": "33",
            "prefixes-1-id": "",
            "prefixes-1-zone": str(zone.pk),
            "prefixes-1-prefix": "44",
        },
    )
    # then it is saved and one audit row says the name before and after and the prefix added
    assert response.status_code == 302
    added = ZonePrefix.objects.get(zone=zone, prefix="44")
    row = AuditEvent.objects.get(action="backoffice.zone.change", subject_id=str(zone.pk))
    assert row.actor == f"staff:{root.pk}"
    assert row.before == {"name": {"en": "Europe"}}
    assert row.after == {
        "name": {"en": "Europe and UK"},
        "inlines": {"zoneprefix": {"added": [added.pk], "changed": {}, "deleted": []}},
    }


def test_a_group_made_in_the_back_office_is_audited_with_its_permissions(root: User, client_for: Any) -> None:
    # given a permission to give
    permission = Permission.objects.get(codename="view_line")
    # when staff create a group with it
    response = client_for(root).post(
        "/backoffice/auth/group/add/", {"name": "Night shift", "permissions": [str(permission.pk)]}
    )
    # then the audit row lists the group's permissions after the save
    assert response.status_code == 302
    group = Group.objects.get(name="Night shift")
    row = AuditEvent.objects.get(action="backoffice.group.add", subject_id=str(group.pk))
    assert row.after == {"name": "Night shift", "permissions": [permission.pk]}


def test_a_password_set_by_staff_is_audited_without_the_password(root: User, client_for: Any) -> None:
    # given a subscriber
    user = User.objects.create_user("someone", password="y" * 12)
    # when staff set a new password on the user's page
    response = client_for(root).post(
        f"/backoffice/identity/user/{user.pk}/password/",
        {"password1": "Fresh-Pass-2026!", "password2": "Fresh-Pass-2026!", "usable_password": "true"},
    )
    # then it is done and audited, and the row holds no password
    assert response.status_code == 302
    row = AuditEvent.objects.get(action="backoffice.user.password", subject_id=str(user.pk))
    assert (row.actor, row.before, row.after) == (f"staff:{root.pk}", None, None)


def test_staff_who_may_only_look_cannot_run_the_block_action(make_staff: Any, client_for: Any) -> None:
    # given a line and staff with only the view permission on lines
    line = make_line()
    client = client_for(make_staff("lines.view_line"))
    # when they post the "block" action anyway
    response = client.post(
        "/backoffice/lines/line/", {"action": "block_lines", "_selected_action": [str(line.pk)]}
    )
    # then the line is untouched and no audit row is written
    assert response.status_code in (200, 302)
    assert Line.objects.get(pk=line.pk).status == "active"
    assert not AuditEvent.objects.filter(
        subject_type="line", subject_id=str(line.pk), action__contains="block"
    )


def test_the_audit_log_filters_by_actor_subject_action_and_date(root: User, client_for: Any) -> None:
    # given audit rows of two actors on two subjects
    from selfcare.identity.services import record_audit

    record_audit("staff:7", "billing.balance.adjust", subject_type="account", subject_id="41")
    record_audit("staff:8", "line.block", subject_type="line", subject_id="99")
    client = client_for(root)

    def listed(query: str) -> str:
        response = client.get(f"/backoffice/identity/auditevent/?{query}")
        assert response.status_code == 200
        page = str(response.content.decode())
        # the rows only (the filter sidebar names every action)
        start = page.find('id="result_list"')
        return "" if start < 0 else page[start : page.find("</table>", start)]

    # when staff filter the log
    by_actor = listed("actor=staff:7")
    by_subject = listed("subject_type=line&subject_id=99")
    by_action = listed("action=line.block")
    by_date = listed("created_at__gte=2000-01-01T00:00:00%2B00:00&created_at__lt=2000-01-02T00:00:00%2B00:00")
    today = listed("created_at__gte=2000-01-01T00:00:00%2B00:00")
    # then each shows only the matching rows, and the typed filters keep the other filters in force
    page = client.get("/backoffice/identity/auditevent/?action=line.block&actor=staff:8").content.decode()
    assert '<input type="hidden" name="action" value="line.block">' in page
    assert 'name="actor" value="staff:8"' in page
    assert "billing.balance.adjust" in by_actor
    assert "line.block" not in by_actor
    assert "line.block" in by_subject
    assert "billing.balance.adjust" not in by_subject
    assert "line.block" in by_action
    assert "billing.balance.adjust" not in by_action
    assert "billing.balance.adjust" not in by_date
    assert "line.block" not in by_date
    assert "billing.balance.adjust" in today
    assert "line.block" in today
