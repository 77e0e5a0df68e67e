"""The bulk pages (companies/views.py): tick → preview → confirm → report, CSV upload, roles, history.

The clock is frozen at 2026-03-02 09:00 Moscow time (frozen_clock). The company (cabinet world) is
postpaid with a credit limit of 1,000.00; its lines are the employee's and Boris Sidorov's.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from selfcare.companies.models import BulkItem, BulkRequest
from selfcare.ledger.queries import get_balance_minor
from selfcare.lines.models import Line, ServiceAssignment
from tests.companies.cabinet_world import ACTORS, World, web_client, world_fixture  # noqa: F401 - the `world` fixture
from tests.factories import make_service

pytestmark = pytest.mark.django_db


def committing(client: Any, *args: Any, **kwargs: Any) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(*args, **kwargs)


def rows(html: str, testid: str) -> list[dict[str, str]]:
    table = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return [
        dict(re.findall(r'data-([a-z]+)="([^"]*)"', row)) for row in re.findall(r"<tr (data-[^>]*)>", table)
    ]


def test_the_admin_ticks_lines_previews_confirms_and_reads_the_report(
    world: World, frozen_clock: Any
) -> None:
    # Given an option with a connect fee of 5.00 excluded on Boris's line by an option he has
    option = make_service(code="roaming", name={"en": "Roaming"}, connect_fee_minor=500)
    blocker = make_service(code="blocker", excludes=[option])
    ServiceAssignment.objects.create(line=world.second_line, service=blocker, connected_at=frozen_clock.now())
    admin = web_client(world.users["admin"])
    base = f"/business/{world.company.pk}/bulk/"
    ticked = [world.employee_line.pk, world.second_line.pk]
    balance_before = get_balance_minor(world.company.account.ledger_account_id)

    # When the admin ticks both lines on the lines list and opens the bulk page
    lines_page = admin.get(f"/business/{world.company.pk}/lines/")
    form = admin.get(base, {"line": ticked})
    # ...previews connecting the option
    data = {"action": "connect_service", "service": option.pk, "line_ids": ",".join(map(str, ticked))}
    preview = admin.post(base, data)
    # ...and confirms
    confirmed = committing(admin, base, {**data, "confirm": "1"})

    # Then the lines list offers the ticks, the form says 2 lines are ticked
    assert f'name="line" value="{world.employee_line.pk}"' in lines_page.content.decode()
    assert "2 lines ticked." in form.content.decode()
    # the preview shows the cost per line and the refusal, and the total against what may be spent
    assert preview.status_code == 200
    html = preview.content.decode()
    assert [(r["line"], r["allowed"], r["cost"], r["code"]) for r in rows(html, "bulk-preview-table")] == [
        (str(world.employee_line.pk), "1", "500", ""),
        (str(world.second_line.pk), "0", "0", "service_excludes"),
    ]
    assert 'data-total="500" data-available="100000" data-covered="1"' in html
    assert BulkRequest.objects.count() == 1
    request = BulkRequest.objects.get()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"{base}{request.pk}/"
    # and the report says what happened to each line, and what was charged
    report = admin.get(confirmed["Location"]).content.decode()
    assert [(r["line"], r["status"], r["code"], r["charged"]) for r in rows(report, "bulk-report")] == [
        (str(world.employee_line.pk), "succeeded", "", "500"),
        (str(world.second_line.pk), "failed", "service_excludes", "0"),
    ]
    assert 'data-status="done"' in report
    assert (request.status, request.succeeded, request.failed, request.charged_minor) == ("done", 1, 1, 500)
    assert request.requested_by == f"user:{world.users['admin'].pk}"  # type: ignore[union-attr]
    assert get_balance_minor(world.company.account.ledger_account_id) == balance_before - 500
    history = admin.get(f"{base}history/").content.decode()
    assert f'data-request="{request.pk}" data-status="done"' in history
    assert "Admin" in history


def test_a_csv_with_a_bad_row_and_a_foreign_number_is_listed_back(world: World, frozen_clock: Any) -> None:
    admin = web_client(world.users["admin"])
    base = f"/business/{world.company.pk}/bulk/"
    content = f"number\n{world.second_line.msisdn}\nnot a number 12\n{world.other_line.msisdn}\n".encode()

    preview = admin.post(
        base,
        {"action": "block", "numbers_file": SimpleUploadedFile("numbers.csv", content, "text/csv")},
    )

    html = preview.content.decode()
    assert preview.status_code == 200
    assert "not a number 12" in html.split('data-testid="bulk-invalid"', 1)[1].split("</section>", 1)[0]
    missing = html.split('data-testid="bulk-missing"', 1)[1].split("</section>", 1)[0]
    assert missing.count("<li>") == 1
    assert world.other_line.msisdn[-2:] in missing
    assert [(r["line"], r["allowed"]) for r in rows(html, "bulk-preview-table")] == [
        (str(world.second_line.pk), "1")
    ]
    assert f'name="line_ids" value="{world.second_line.pk}"' in html
    assert BulkRequest.objects.count() == 0


@pytest.mark.parametrize("actor", ACTORS)
def test_only_admins_may_make_bulk_changes(world: World, frozen_clock: Any, actor: str) -> None:
    expected = {"admin": 302, "accountant": 403, "viewer": 403, "employee": 403, "anonymous": 302}.get(
        actor, 404
    )
    client = web_client(world.users[actor])
    base = f"/business/{world.company.pk}/bulk/"
    data = {"action": "block", "line_ids": str(world.second_line.pk), "confirm": "1"}

    responses = [
        committing(client, base, data),
        client.get(base),
        client.get(f"{base}history/"),
    ]

    assert [r.status_code for r in responses] == [expected, *[200 if actor == "admin" else expected] * 2]
    if actor == "anonymous":
        assert "/login/" in responses[0]["Location"] or "login" in responses[0]["Location"]
    if actor != "admin":
        assert BulkRequest.objects.count() == 0
        assert Line.objects.get(pk=world.second_line.pk).status == "active"
    else:
        assert Line.objects.get(pk=world.second_line.pk).status == "blocked_subscriber"


def test_another_companys_lines_and_requests_are_not_found(world: World, frozen_clock: Any) -> None:
    other_admin = web_client(world.users["other_admin"])
    admin = web_client(world.users["admin"])
    committing(
        other_admin,
        f"/business/{world.other.pk}/bulk/",
        {"action": "block", "line_ids": str(world.other_line.pk), "confirm": "1"},
    )
    theirs = BulkRequest.objects.get()

    report = admin.get(f"/business/{world.company.pk}/bulk/{theirs.pk}/")
    forged = committing(
        admin,
        f"/business/{world.company.pk}/bulk/",
        {"action": "unblock", "line_ids": str(world.other_line.pk), "confirm": "1"},
    )

    assert report.status_code == 404
    assert forged.status_code == 400
    assert "not lines of this company" in forged.content.decode()
    assert BulkRequest.objects.count() == 1
    assert BulkItem.objects.count() == 1
    assert Line.objects.get(pk=world.other_line.pk).status == "blocked_subscriber"


def test_the_progress_partial_polls_while_queued(world: World, frozen_clock: Any) -> None:
    admin = web_client(world.users["admin"])
    base = f"/business/{world.company.pk}/bulk/"
    # Submitted without running its job (no on-commit callbacks here): still queued
    admin.post(base, {"action": "block", "line_ids": str(world.second_line.pk), "confirm": "1"})
    request = BulkRequest.objects.get()

    partial = admin.get(f"{base}{request.pk}/", headers={"HX-Request": "true"})

    html = partial.content.decode()
    assert partial.status_code == 200
    assert 'data-status="queued"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "<table" not in html
    assert "HX-Refresh" not in partial


def test_all_lines_matching_the_filter_are_chosen_by_the_filter(world: World, frozen_clock: Any) -> None:
    admin = web_client(world.users["admin"])
    base = f"/business/{world.company.pk}/bulk/"

    lines_page = admin.get(f"/business/{world.company.pk}/lines/", {"q": "Boris"}).content.decode()
    form = admin.get(base, {"by_filter": "1", "q": "Boris"}).content.decode()
    preview = admin.post(base, {"action": "set_quota", "quota": "500", "by_filter": "1", "q": "Boris"})

    assert f'href="{base}?by_filter=1&amp;q=Boris"' in lines_page
    assert "1 line matches the filter." in form
    html = preview.content.decode()
    assert [(r["line"], r["allowed"], r["cost"]) for r in rows(html, "bulk-preview-table")] == [
        (str(world.second_line.pk), "1", "0")
    ]
    assert f'name="line_ids" value="{world.second_line.pk}"' in html
    assert 'name="quota" value="500"' in html
    assert BulkRequest.objects.count() == 0
