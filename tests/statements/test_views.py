"""The pages: ordering, the order's progress, and the online view of the last 30 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from selfcare.kit import clock
from selfcare.statements.models import StatementOrder
from selfcare.usage import services as usage
from tests.statements.conftest import CommittingClient, make_subscriber, order_through_pages, web_for
from tests.usage.factories import make_payg_tariff
from tests.usage.factories import usage as record

pytestmark = pytest.mark.django_db


def test_logged_out_visitors_are_sent_to_sign_in(db):
    client = CommittingClient()
    for path in ("/statements/", "/statements/events/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={path}"


def test_the_order_page_offers_the_form_and_lists_orders(frozen_clock):
    user, _line = make_subscriber()
    client = web_for(user)
    page = client.get("/statements/")
    assert page.status_code == 200
    assert page.context["form"]["format"].value() == "pdf"
    assert b'name="code"' in page.content
    # When an order is placed with a wrong code, nothing is ordered and the page says why
    client.post("/statements/code/")
    response = client.post(
        "/statements/",
        {"period_start": "2026-03-01", "period_end": "2026-03-02", "categories": ["calls"], "format": "csv",
         "code": "000000", "token": "t-wrong"},
    )  # fmt: skip
    assert response.status_code == 200
    assert b"The code is wrong or has expired" in response.content
    assert StatementOrder.objects.count() == 0


def test_the_order_page_shows_progress_with_htmx_polling_until_ready(
    frozen_clock, django_capture_on_commit_callbacks
):
    user, _line = make_subscriber()
    client = web_for(user)
    response = order_through_pages(client, user, period_start="2026-03-01", period_end="2026-03-02")
    order = StatementOrder.objects.get(user=user)
    assert response["Location"] == f"/statements/{order.public_id}/"
    # A queued order polls; a ready one offers the download
    StatementOrder.objects.filter(pk=order.pk).update(status="generating", rows_total=200, rows_done=50)
    fragment = client.get(f"/statements/{order.public_id}/", headers={"HX-Request": "true"})
    assert b'hx-trigger="every 2s"' in fragment.content
    assert b'value="25"' in fragment.content
    StatementOrder.objects.filter(pk=order.pk).update(status="ready")
    page = client.get(f"/statements/{order.public_id}/")
    assert b'data-testid="download"' in page.content
    assert b"every 2s" not in page.content


def test_someone_elses_order_page_is_not_found(frozen_clock):
    owner, _line = make_subscriber()
    order_through_pages(web_for(owner), owner, period_start="2026-03-01", period_end="2026-03-02")
    order = StatementOrder.objects.get(user=owner)
    stranger, _other = make_subscriber()
    assert web_for(stranger).get(f"/statements/{order.public_id}/").status_code == 404


@pytest.fixture
def month_of_calls(frozen_clock: Any, zones: Any) -> tuple[Any, Any]:
    line_tariff = make_payg_tariff(zones)
    from tests.factories import fund, make_line

    line = make_line(tariff=line_tariff)
    fund(line.account.ledger_account, 1_000_000)
    user, line = make_subscriber(line)
    now = clock.now()
    records = [
        record(
            line.msisdn,
            "voice_out",
            now - timedelta(hours=3 * i),
            duration_s=60,
            counterparty=f"+7916000{i:04d}",
        )
        for i in range(1, 80)
    ]
    records.append(record(line.msisdn, "sms_out", now - timedelta(days=40), counterparty="+79160009999"))
    records.append(record(line.msisdn, "data", now - timedelta(days=2), volume_bytes=1_048_576))
    usage.rate_batch(records)
    return user, line


def test_the_online_view_pages_and_filters_the_last_30_days(month_of_calls, django_assert_max_num_queries):
    user, _line = month_of_calls
    client = web_for(user)
    # Every event of the last 30 days, newest first, 50 a page, in a fixed number of queries
    with django_assert_max_num_queries(12):
        first = client.get("/statements/events/")
    rows = first.context["rows"]
    assert len(rows) == 50
    assert first.context["page"].paginator.count == 80  # 79 calls and the data session; not the old SMS
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    second = client.get("/statements/events/?page=2")
    assert len(second.context["rows"]) == 30
    # Filters: a category, a number, days
    data = client.get("/statements/events/?category=data")
    assert [r["kind"] for r in data.context["rows"]] == ["data"]
    assert [r["number"] for r in client.get("/statements/events/?number=0000007").context["rows"]] == [
        "+7 916 000-00-07"
    ]
    today = clock.local_today("Europe/Moscow")
    day = client.get(f"/statements/events/?since={today.isoformat()}&until={today.isoformat()}")
    assert {r["at"].astimezone(clock.now().tzinfo).date() for r in day.context["rows"]} <= {
        today,
        today - timedelta(days=1),
    }
    # A day outside the window is refused with a message, not silently widened
    old = client.get(f"/statements/events/?since={(today - timedelta(days=31)).isoformat()}")
    assert old.context["form"].errors["since"]
