"""Bulk requests (companies/bulk.py): preview, the per-line report, money charged once, re-runs.

The clock is frozen at 2026-03-02 09:00 Moscow time (30 of March's 31 days left: a monthly fee of
310.00 is prorated to 300.00). The company is postpaid with a credit limit of 1,000.00 unless a test
says otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from selfcare.billing.models import ProductChange
from selfcare.companies import bulk
from selfcare.companies.errors import BulkNothingToDo, BulkRequestInvalid
from selfcare.companies.models import BulkItem, BulkItemStatus, BulkRequest, BulkStatus, Company
from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.ledger.models import Transaction
from selfcare.ledger.queries import get_balance_minor, verify_ledger
from selfcare.lines.models import AccountKind, Line, LineQuota, ServiceAssignment
from tests.concurrency import run_in_threads
from tests.factories import make_account, make_customer, make_line, make_region, make_service, make_tariff

pytestmark = pytest.mark.django_db

ADMIN = "user:900"


def make_company(*, lines: int, credit_limit_minor: int = 100_000, tariff: Any = None) -> Company:
    customer = make_customer(name="Romashka LLC", kind="organization")
    account = make_account(
        customer=customer, kind=AccountKind.POSTPAID, credit_limit_minor=credit_limit_minor
    )
    tariff = tariff or make_tariff(fee_minor=0)
    for _ in range(lines):
        make_line(account=account, tariff=tariff)
    return Company.objects.create(
        customer=customer,
        account=account,
        region=make_region(),
        name="Romashka LLC",
        tax_id="7707083893",
        legal_address="Moscow, Tverskaya 1",
        contact_name="Anna Smirnova",
        contact_phone="+79001234567",
        contact_email="anna@romashka.example",
        created_at=clock.now(),
    )


def company_lines(company: Company) -> list[Line]:
    return list(Line.objects.filter(account=company.account).order_by("msisdn"))


def balance(company: Company) -> int:
    return get_balance_minor(company.account.ledger_account_id)


def report(request: BulkRequest) -> list[tuple[str, str, str, int]]:
    return [
        (item.line.msisdn, item.status, item.code, item.charged_minor)
        for item in bulk.list_bulk_items(request)
    ]


def test_a_service_connected_on_every_line_charges_each_once_and_reports_each_line(
    frozen_clock, django_capture_on_commit_callbacks
):
    # Given a company of 3 lines and a monthly option of 31.00 with a connect fee of 5.00
    company = make_company(lines=3)
    option = make_service(connect_fee_minor=500, fee_minor=3_100, fee_period="monthly")
    lines = company_lines(company)

    # When the admin previews, then submits (the job runs after the commit)
    preview = bulk.preview_bulk(company, lines=lines, action="connect_service", service=option)
    with django_capture_on_commit_callbacks(execute=True):
        request = bulk.submit_bulk(
            company, lines=lines, action="connect_service", service=option, actor=ADMIN, selection="ticked: 3"
        )

    # Then the preview said 5.00 + 30.00 per line, and that is what each line was charged
    assert [(p.allowed, p.cost_minor) for p in preview.lines] == [(True, 3_500)] * 3
    assert preview.total_cost_minor == 10_500
    assert preview.available_minor == 100_000
    request.refresh_from_db()
    assert (request.status, request.total, request.succeeded, request.failed) == ("done", 3, 3, 0)
    assert request.charged_minor == 10_500
    assert report(request) == [(line.msisdn, "succeeded", "", 3_500) for line in lines]
    assert balance(company) == -10_500
    connected = ServiceAssignment.objects.filter(line__in=lines, service=option, disconnected_at__isnull=True)
    assert connected.count() == 3
    assert verify_ledger().ok
    assert AuditEvent.objects.filter(action="company.bulk.submit", subject_id=str(company.pk)).count() == 1
    assert AuditEvent.objects.filter(action="company.bulk.done", subject_id=str(company.pk)).count() == 1


def test_refused_lines_are_reported_with_their_reason_and_the_others_still_change(
    frozen_clock, django_capture_on_commit_callbacks
):
    # Given 3 lines, one of which already has the option, and one blocked by the company
    company = make_company(lines=3)
    option = make_service(connect_fee_minor=1_000)
    first, second, third = company_lines(company)
    with django_capture_on_commit_callbacks(execute=True):
        bulk.submit_bulk(company, lines=[second], action="connect_service", service=option, actor=ADMIN)
        bulk.submit_bulk(company, lines=[third], action="block", actor=ADMIN)
    before = balance(company)

    # When the option is connected on all three
    preview = bulk.preview_bulk(
        company, lines=[first, second, third], action="connect_service", service=option
    )
    with django_capture_on_commit_callbacks(execute=True):
        request = bulk.submit_bulk(
            company, lines=[first, second, third], action="connect_service", service=option, actor=ADMIN
        )

    # Then the preview and the report agree: one done, the connected one and the blocked one refused
    assert [(p.msisdn, p.allowed, p.code) for p in preview.lines] == [
        (first.msisdn, True, ""),
        (second.msisdn, False, "service_already_connected"),
        (third.msisdn, False, "line_blocked_by_subscriber"),
    ]
    request.refresh_from_db()
    assert (request.succeeded, request.failed, request.charged_minor) == (1, 2, 1_000)
    assert report(request) == [
        (first.msisdn, "succeeded", "", 1_000),
        (second.msisdn, "failed", "service_already_connected", 0),
        (third.msisdn, "failed", "line_blocked_by_subscriber", 0),
    ]
    assert all(item.message for item in bulk.list_bulk_items(request) if item.status == "failed")
    assert balance(company) == before - 1_000


def test_the_credit_limit_stops_the_lines_it_no_longer_covers(
    frozen_clock, django_capture_on_commit_callbacks
):
    # Given a credit limit of 25.00 and an option costing 10.00 to connect
    company = make_company(lines=3, credit_limit_minor=2_500)
    option = make_service(connect_fee_minor=1_000)
    lines = company_lines(company)

    # When it is connected on 3 lines (30.00)
    preview = bulk.preview_bulk(company, lines=lines, action="connect_service", service=option)
    with django_capture_on_commit_callbacks(execute=True):
        request = bulk.submit_bulk(
            company, lines=lines, action="connect_service", service=option, actor=ADMIN
        )

    # Then the preview warns that the money does not cover it, and the third line is refused
    assert (preview.total_cost_minor, preview.available_minor, preview.covered) == (3_000, 2_500, False)
    request.refresh_from_db()
    assert [status for _, status, _, _ in report(request)] == ["succeeded", "succeeded", "failed"]
    assert report(request)[2][2] == "insufficient_balance"
    assert balance(company) == -2_000
    assert verify_ledger().ok


def test_a_tariff_change_and_block_unblock_in_bulk(frozen_clock, django_capture_on_commit_callbacks):
    company = make_company(lines=2)
    new_tariff = make_tariff(fee_minor=31_000, fee_period="monthly")
    lines = company_lines(company)

    with django_capture_on_commit_callbacks(execute=True):
        changed = bulk.submit_bulk(
            company, lines=lines, action="change_tariff", tariff=new_tariff, actor=ADMIN
        )
        blocked = bulk.submit_bulk(company, lines=lines, action="block", actor=ADMIN)
    statuses_blocked = list(
        Line.objects.filter(pk__in=[x.pk for x in lines]).values_list("status", flat=True)
    )
    with django_capture_on_commit_callbacks(execute=True):
        unblocked = bulk.submit_bulk(company, lines=lines, action="unblock", actor=ADMIN)

    assert [r.charged_minor for r in bulk.list_bulk_items(changed)] == [30_000, 30_000]
    assert set(Line.objects.filter(pk__in=[x.pk for x in lines]).values_list("tariff_id", flat=True)) == {
        new_tariff.pk
    }
    assert statuses_blocked == ["blocked_subscriber", "blocked_subscriber"]
    assert [i.status for i in bulk.list_bulk_items(blocked)] == ["succeeded", "succeeded"]
    assert [i.status for i in bulk.list_bulk_items(unblocked)] == ["succeeded", "succeeded"]
    assert set(Line.objects.filter(pk__in=[x.pk for x in lines]).values_list("status", flat=True)) == {
        "active"
    }
    assert balance(company) == -60_000


def test_a_request_run_again_after_a_crash_charges_no_line_twice(frozen_clock):
    # Given a request whose job died after the first line (the item stayed pending: its decision was
    # lost with the crash, but the change itself had committed)
    company = make_company(lines=2)
    option = make_service(connect_fee_minor=700)
    lines = company_lines(company)
    request = bulk.submit_bulk(company, lines=lines, action="connect_service", service=option, actor=ADMIN)
    from selfcare.billing import changes

    changes.connect_service(
        lines[0], service=option, actor=ADMIN, idempotency_key=f"bulk:{request.pk}:{lines[0].pk}"
    )
    BulkRequest.objects.filter(pk=request.pk).update(status=BulkStatus.RUNNING, started_at=clock.now())

    # When the sweep finds it stale and the job runs again (immediate mode runs it at once)
    frozen_clock.advance(timedelta(minutes=16))
    requeued = bulk.requeue_stale_bulk_requests()

    # Then both lines are done and each was charged once
    request.refresh_from_db()
    assert requeued == 1
    assert (request.status, request.succeeded, request.failed) == ("done", 2, 0)
    assert balance(company) == -1_400
    assert ProductChange.objects.filter(line__in=lines).count() == 2
    assert (
        Transaction.objects.filter(
            kind="service_connect_fee", postings__account=company.account.ledger_account
        ).count()
        == 2
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_one_request_decide_each_line_once(frozen_clock):
    company = make_company(lines=6)
    option = make_service(connect_fee_minor=300)
    request = bulk.submit_bulk(
        company, lines=company_lines(company), action="connect_service", service=option, actor=ADMIN
    )
    BulkRequest.objects.filter(pk=request.pk).update(status=BulkStatus.RUNNING)

    run_in_threads(2, lambda _: bulk.run_bulk_request(request.pk))

    request.refresh_from_db()
    assert (request.status, request.succeeded, request.failed, request.charged_minor) == ("done", 6, 0, 1_800)
    assert BulkItem.objects.filter(request=request, status=BulkItemStatus.PENDING).count() == 0
    assert balance(company) == -1_800
    assert verify_ledger().ok


def test_numbers_from_a_csv_in_any_format_and_lines_not_of_the_company(frozen_clock):
    company = make_company(lines=2)
    other = make_line()
    first, second = company_lines(company)
    national = "8" + first.msisdn[2:]  # +7XXXXXXXXXX written the Russian national way
    content = (
        "number;employee\n"
        f"{national};Ivanov\n"
        f"{second.msisdn};Petrov\n"
        f"{second.msisdn};again\n"
        f"{other.msisdn};somebody else\n"
        "12ab;typo\n"
    ).encode("utf-8-sig")

    numbers = bulk.read_numbers_csv(content)
    found, missing = bulk.find_company_lines(company, msisdns=numbers.numbers)

    assert numbers.numbers == [first.msisdn, second.msisdn, other.msisdn]
    assert numbers.invalid == ["12ab"]
    assert [line.pk for line in found] == sorted(
        [first.pk, second.pk], key=lambda pk: Line.objects.get(pk=pk).msisdn
    )
    assert missing == [other.msisdn]


def test_a_quota_set_on_every_line_and_then_removed(frozen_clock, django_capture_on_commit_callbacks):
    # Given a company of 2 lines, one of them terminated
    company = make_company(lines=2)
    lines = company_lines(company)
    Line.objects.filter(pk=lines[1].pk).update(status="terminated")
    lines = company_lines(company)

    # When the admin previews and sets a quota of 500.00, then removes it
    preview = bulk.preview_bulk(company, lines=lines, action="set_quota", quota_minor=50_000)
    with django_capture_on_commit_callbacks(execute=True):
        request = bulk.submit_bulk(company, lines=lines, action="set_quota", quota_minor=50_000, actor=ADMIN)
    limits_set = list(LineQuota.objects.filter(line__in=lines).values_list("line_id", "limit_minor"))
    with django_capture_on_commit_callbacks(execute=True):
        removed = bulk.submit_bulk(
            company, lines=lines[:1], action="set_quota", quota_minor=None, actor=ADMIN
        )

    # Then the live line got the quota at no cost, the terminated one was refused, and removal worked
    assert [(x.allowed, x.code, x.cost_minor) for x in preview.lines] == [
        (True, "", 0),
        (False, "line_terminated", 0),
    ]
    assert preview.total_cost_minor == 0
    assert BulkRequest.objects.get(pk=request.pk).quota_minor == 50_000
    assert report(request) == [
        (lines[0].msisdn, "succeeded", "", 0),
        (lines[1].msisdn, "failed", "line_terminated", 0),
    ]
    assert limits_set == [(lines[0].pk, 50_000)]
    assert report(removed) == [(lines[0].msisdn, "succeeded", "", 0)]
    assert LineQuota.objects.get(line=lines[0]).limit_minor is None
    assert balance(company) == 0


def test_a_negative_quota_is_refused_and_stores_nothing(frozen_clock):
    company = make_company(lines=1)
    with pytest.raises(BulkRequestInvalid):
        bulk.submit_bulk(
            company, lines=company_lines(company), action="set_quota", quota_minor=-1, actor=ADMIN
        )
    assert BulkRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"action": "connect_service"}, BulkRequestInvalid),
        ({"action": "change_tariff"}, BulkRequestInvalid),
        ({"action": "teleport"}, BulkRequestInvalid),
    ],
)
def test_an_incomplete_request_is_refused_and_stores_nothing(frozen_clock, kwargs, error):
    company = make_company(lines=1)
    with pytest.raises(error):
        bulk.submit_bulk(company, lines=company_lines(company), actor=ADMIN, **kwargs)
    with pytest.raises(BulkNothingToDo):
        bulk.submit_bulk(company, lines=[], action="block", actor=ADMIN)
    assert BulkRequest.objects.count() == 0
    assert BulkItem.objects.count() == 0


def test_another_companys_line_cannot_be_put_in_a_request(frozen_clock):
    company = make_company(lines=1)
    stranger = make_line()
    before = get_balance_minor(stranger.account.ledger_account_id)

    with pytest.raises(BulkRequestInvalid):
        bulk.submit_bulk(company, lines=[*company_lines(company), stranger], action="block", actor=ADMIN)

    assert BulkRequest.objects.count() == 0
    assert Line.objects.get(pk=stranger.pk).status == "active"
    assert get_balance_minor(stranger.account.ledger_account_id) == before
