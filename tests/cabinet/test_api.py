"""/api/v1/home, /spending, /history, /history/{id}, /history/usage/{id} and /recent-calls: the cabinet's
reads for the mobile app, the caller's own line only, the same figures as the pages.

The clock is frozen at 2026-03-02 09:00 Moscow time (tests/conftest.py): the bundle tariff's 450.00 a
month is charged 435.48 for the 30 days left of March.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from selfcare.billing import changes
from selfcare.catalog.models import Allowance
from selfcare.identity.models import User
from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.services import issue_api_tokens
from selfcare.kit import clock
from selfcare.ledger.queries import get_balance_minor
from selfcare.usage.models import UsageRecord
from tests.cabinet.conftest import signed_in
from tests.cabinet.factories import make_black_list_service, make_subscriber, rate, usage
from tests.factories import fund, make_service

pytestmark = pytest.mark.django_db

APP = ServiceClient(ip="192.0.2.30", user_agent="app", language="en")
PROBLEM = "application/problem+json"
MAX_HOME_QUERIES = 10
MARCH_END = datetime(2026, 3, 31, 21, 0, tzinfo=UTC)  # 1 April 00:00 in Moscow


def bearer(user: User) -> dict[str, str]:
    pair = issue_api_tokens(user, device_id="phone-1", client=APP, method="test")
    return {"Authorization": f"Bearer {pair.access_token}"}


def get(path: str, auth: dict[str, str], **params: Any) -> Any:
    return Client().get(path, params, headers=auth)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def balance_of(line: Any) -> int:
    return get_balance_minor(line.account.ledger_account_id)


def call(line: Any, number: str, seconds: int, *, minutes_ago: int = 5, kind: str = "voice_out") -> None:
    rate(
        usage(
            line.msisdn,
            kind,
            clock.now() - timedelta(minutes=minutes_ago),
            counterparty=number,
            duration_s=seconds,
        )
    )


# --- Who may see what ---------------------------------------------------------------------------------

ROUTES = [
    "/api/v1/home",
    "/api/v1/spending",
    "/api/v1/history",
    "/api/v1/history/1",
    "/api/v1/history/usage/1",
    "/api/v1/recent-calls",
]


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_needs_a_subscriber_token(path: str, db: Any) -> None:
    response = Client().get(path)

    assert (response.status_code, response["Content-Type"]) == (401, PROBLEM)
    assert response.json()["code"] == "unauthorized"


def test_a_session_cookie_is_not_a_token(zones: Any, frozen_clock: Any) -> None:
    user, _line = make_subscriber(zones)

    response = signed_in(user).get("/api/v1/home")

    assert (response.status_code, response["Content-Type"]) == (401, PROBLEM)


@pytest.mark.parametrize("path", ROUTES)
def test_a_user_without_a_line_gets_not_found(path: str, db: Any) -> None:
    staff = User.objects.create_user(username="staff-member", password="x" * 12)

    response = get(path, bearer(staff))

    assert (response.status_code, response["Content-Type"], response.json()["code"]) == (
        404,
        PROBLEM,
        "not_found",
    )


def test_another_subscribers_money_and_records_are_not_found(zones: Any, frozen_clock: Any) -> None:
    # Given two subscribers; the other one has a charged call and a black-listed caller
    user, line = make_subscriber(zones)
    _other_user, other = make_subscriber(zones, name="Boris Petrov")
    call(other, "+442079460000", 60)
    make_black_list_service()
    changes.add_black_list_number(other, number="+79165550001", actor="test", idempotency_key="k1")
    record = UsageRecord.objects.get(line=other)
    auth = bearer(user)

    # When the first subscriber's app asks for the other's charge and record, and its own screens
    charge = get(f"/api/v1/history/{record.transaction_id}", auth)
    explained = get(f"/api/v1/history/usage/{record.pk}", auth)
    home = get("/api/v1/home", auth).json()
    history = get("/api/v1/history", auth).json()

    # Then the other's are "not found", and its own screens show only its own line
    assert (charge.status_code, charge["Content-Type"]) == (404, PROBLEM)
    assert (explained.status_code, explained["Content-Type"]) == (404, PROBLEM)
    assert (home["msisdn"], home["name"], home["black_list"]) == (line.msisdn, "Anna Smirnova", None)
    assert [item["kind"] for item in history["items"]] == ["tariff_fee", "topup"]
    assert get("/api/v1/recent-calls", auth).json() == []


# --- Home ---------------------------------------------------------------------------------------------


def test_home_gives_the_home_pages_figures(zones: Any, frozen_clock: Any) -> None:
    # Given a subscriber with 1,000.00 paid in, this month's fee charged, a data pack and a call abroad
    user, line = make_subscriber(zones, balance_minor=100_000)
    pack = make_service(code="data-3", name={"en": "3 GB"}, fee_minor=20_000, fee_period="monthly")
    Allowance.objects.create(service=pack, usage_kind="data", amount=3 * 1024**3)
    changes.connect_service(line, service=pack, actor="test", idempotency_key="pack-1")
    call(line, "+442079460000", 61)

    # When the app asks for the home screen
    response = get("/api/v1/home", bearer(user))
    home = response.json()

    # Then balance and spending are the ledger's: 1,000.00 - 435.48 - 193.54 - 70.00
    assert response.status_code == 200
    assert balance_of(line) == 30_098
    assert (home["currency"], home["name"], home["msisdn"], home["line_status"]) == (
        "RUB",
        "Anna Smirnova",
        line.msisdn,
        "active",
    )
    assert (home["balance_minor"], home["low_balance"]) == (30_098, False)
    assert (home["spent_today_minor"], home["spent_month_minor"]) == (69_902, 69_902)
    top_up, write_off = home["last_top_up"], home["last_write_off"]
    assert (top_up["amount_minor"], top_up["kind"], at(top_up["at"])) == (100_000, "topup", clock.now())
    assert (write_off["amount_minor"], write_off["kind"], at(write_off["at"])) == (
        -7_000,
        "usage",
        clock.now(),
    )
    # and the buckets in consumption order (the pack first), in seconds, messages and bytes
    buckets = [
        (b["usage_kind"], b["unit"], b["remaining"], b["amount"], b["source"], b["renews"], at(b["until"]))
        for b in home["buckets"]
    ]
    bundle = line.tariff.display_name
    assert buckets == [
        ("data", "bytes", 3 * 1024**3, 3 * 1024**3, "3 GB", True, MARCH_END),
        ("voice", "seconds", 18_000, 18_000, bundle, True, MARCH_END),
        ("sms", "messages", 100, 100, bundle, True, MARCH_END),
        ("data", "bytes", 10 * 1024**3, 10 * 1024**3, bundle, True, MARCH_END),
    ]
    assert (home["buckets"][1]["remaining_text"], home["buckets"][1]["amount_text"]) == ("300 min", "300 min")
    # and the tariff and the service with their fees and next fee days
    assert home["tariff"] == {
        "id": line.tariff_id,
        "code": line.tariff.code,
        "name": bundle,
        "fee_minor": 45_000,
        "fee_period": "monthly",
        "next_fee_date": "2026-04-01",
    }
    assert [
        (s["id"], s["code"], s["name"], s["fee_minor"], s["fee_period"], s["next_fee_date"])
        for s in home["services"]
    ] == [(pack.pk, "data-3", "3 GB", 20_000, "monthly", "2026-04-01")]
    assert home["black_list"] is None
    assert home["promised_payment"] == {
        "eligible": False,
        "max_amount_minor": 0,
        "term_days": 0,
        "due_at": None,
        "tiers": [],
    }

    # and the home page shows the same figures
    page = re.sub(r"\s+", " ", signed_in(user).get("/home/").content.decode())
    assert 'data-testid="balance">RUB300.98<' in page
    assert 'data-testid="spent-month">RUB699.02<' in page
    assert re.findall(
        r'data-testid="bucket" data-kind="(\w+)" data-remaining="(\d+)" data-amount="(\d+)"', page
    ) == [(b["usage_kind"], str(b["remaining"]), str(b["amount"])) for b in home["buckets"]]


def test_home_of_a_zero_balance_offers_the_promised_payment_and_lists_the_black_list(
    zones: Any, frozen_clock: Any
) -> None:
    # Given a subscriber of 61 days whose balance is exactly zero, with the Black list on (fees waived)
    with clock.frozen(clock.now() - timedelta(days=61)):
        user, line = make_subscriber(zones, balance_minor=0, charge_fees=False)
    make_black_list_service(fee_minor=0, parameters={"capacity": 200, "entry_fee_minor": 0})
    entry = changes.add_black_list_number(
        line, number="8 916 555-00-01", note="spam", actor="test", idempotency_key="bl-1"
    )

    # When the app asks for the home screen
    home = get("/api/v1/home", bearer(user)).json()

    # Then it says the balance is zero, offers the promised payment with its conditions, lists the number
    assert balance_of(line) == 0
    assert (home["balance_minor"], home["low_balance"]) == (0, True)
    assert (home["last_top_up"], home["last_write_off"]) == (None, None)
    offer = home["promised_payment"]
    assert (offer["eligible"], offer["max_amount_minor"], offer["term_days"]) == (True, 80_000, 3)
    assert at(offer["due_at"]) == clock.now() + timedelta(days=3)
    assert offer["tiers"] == [
        {"amount_minor": 10_000, "fee_minor": 0},
        {"amount_minor": 20_000, "fee_minor": 700},
        {"amount_minor": 50_000, "fee_minor": 1_500},
        {"amount_minor": 80_000, "fee_minor": 3_000},
    ]
    assert [(e["id"], e["msisdn"], e["note"]) for e in home["black_list"]] == [
        (entry.pk, "+79165550001", "spam")
    ]
    assert [s["code"] for s in home["services"]] == ["black-list"]


def test_home_runs_at_most_ten_queries(
    zones: Any, frozen_clock: Any, django_assert_max_num_queries: Any
) -> None:
    # Given a line in the costliest state for the home screen: calls and fees, the Black list on (its
    # numbers are read) and the balance below the promised-payment threshold (the offer's reads run)
    user, line = make_subscriber(zones, balance_minor=50_000)
    for minute in range(1, 6):
        call(line, f"+7916555000{minute}", 600, minutes_ago=minute)
    make_black_list_service()
    changes.add_black_list_number(line, number="+79165550001", actor="test", idempotency_key="bl-1")
    auth = bearer(user)
    assert balance_of(line) < 30_000

    # When the app asks for the home screen, then it takes at most 10 queries, token check included
    with django_assert_max_num_queries(MAX_HOME_QUERIES):
        response = get("/api/v1/home", auth)
    assert response.status_code == 200
    assert [e["msisdn"] for e in response.json()["black_list"]] == ["+79165550001"]


# --- Spending -----------------------------------------------------------------------------------------


def test_spending_per_day_and_by_category(zones: Any, frozen_clock: Any) -> None:
    # Given this month's fee charged today, a call abroad (70.00) and an SMS within the package
    user, line = make_subscriber(zones, balance_minor=100_000)
    call(line, "+442079460000", 61)
    rate(usage(line.msisdn, "sms_out", clock.now() - timedelta(minutes=4), counterparty="+79161234567"))

    # When the app asks for the spending
    spending = get("/api/v1/spending", bearer(user)).json()

    # Then the 30 days end today with the day's total, and the month splits by category
    days = spending["days"]
    assert (len(days), days[0]["day"], days[-1]) == (
        30,
        "2026-02-01",
        {"day": "2026-03-02", "amount_minor": 50_548},
    )
    assert all(day["amount_minor"] == 0 for day in days[:-1])
    assert (spending["currency"], spending["month_start"], spending["days_total_minor"]) == (
        "RUB",
        "2026-03-01",
        50_548,
    )
    assert [(c["code"], c["label"], c["amount_minor"]) for c in spending["categories"]] == [
        ("calls", "Calls", 7_000),
        ("sms", "SMS", 0),
        ("data", "Mobile internet", 0),
        ("subscription", "Subscription fees", 43_548),
        ("services", "Services", 0),
        ("other", "Other", 0),
    ]
    assert spending["month_total_minor"] == 50_548


# --- History ------------------------------------------------------------------------------------------


def test_history_explains_each_movement_with_its_cause_and_records(zones: Any, frozen_clock: Any) -> None:
    # Given a fee, a call abroad beyond the package and a call within it
    user, line = make_subscriber(zones, balance_minor=100_000)
    call(line, "+442079460000", 180, minutes_ago=9)
    call(line, "+79161234567", 125, minutes_ago=5)
    abroad = UsageRecord.objects.get(line=line, counterparty="+442079460000")
    within = UsageRecord.objects.get(line=line, counterparty="+79161234567")
    auth = bearer(user)

    # When the app asks for the history
    page = get("/api/v1/history", auth).json()

    # Then each movement is in plain words, signed, with the balance after and its cause
    assert (page["currency"], page["count"], page["limit"], page["offset"]) == ("RUB", 3, 25, 0)
    usage_item, fee, _top_up = page["items"]
    assert [(i["kind"], i["amount_minor"], i["balance_after_minor"], i["title"]) for i in page["items"]] == [
        ("usage", -10_500, 45_952, "Calls, SMS and data outside the package: 1 call"),
        ("tariff_fee", -43_548, 56_452, "Monthly fee — " + line.tariff.display_name),
        ("topup", 100_000, 100_000, "Top-up"),
    ]
    assert fee["details"] == ["Period: from 03/01/2026 to 03/31/2026"]
    assert fee["product"] == {
        "kind": "tariff",
        "id": line.tariff_id,
        "code": line.tariff.code,
        "name": line.tariff.display_name,
    }
    assert fee["cause"]["type"] == "fee_charge"
    assert usage_item["url"] == f"/api/v1/history/{abroad.transaction_id}"
    assert usage_item["cause"]["url"] == f"/api/v1/history/{abroad.transaction_id}"
    # and the usage charge carries its rated record: class, what the package covered, price
    assert usage_item["records_total"] == 1
    [record] = usage_item["records"]
    assert record == {
        "id": abroad.pk,
        "url": f"/api/v1/history/usage/{abroad.pk}",
        "started_at": record["started_at"],
        "kind": "voice_out",
        "counterparty": "+442079460000",
        "usage_class": "international",
        "usage_class_label": "International",
        "status": "accepted",
        "how": "priced",
        "charged_units": 180,
        "package_units": 0,
        "bucket_id": None,
        "priced_units": 180,
        "price_minor": 10_500,
        "text": "Call to +44 20 7946 0000, 3 min, outside package",
    }
    assert at(record["started_at"]) == clock.now() - timedelta(minutes=9)

    # When it opens the charge, the priced record and the record within the package
    charge = get(f"/api/v1/history/{abroad.transaction_id}", auth).json()
    priced = get(f"/api/v1/history/usage/{abroad.pk}", auth).json()
    drawn = get(f"/api/v1/history/usage/{within.pk}", auth).json()

    # Then the charge lists its record, and each record says its class, package draw and price
    assert (charge["title"], charge["amount_minor"], charge["records_total"]) == (
        "Calls, SMS and data outside the package: 1 call",
        -10_500,
        1,
    )
    assert [r["id"] for r in charge["records"]] == [abroad.pk]
    assert (priced["usage_class_label"], priced["zone"], priced["price_minor"], priced["draws"]) == (
        "International",
        "Europe",
        10_500,
        [],
    )
    assert (priced["transaction_id"], priced["duration_s"], priced["currency"]) == (
        abroad.transaction_id,
        180,
        "RUB",
    )
    assert (drawn["usage_class_label"], drawn["how"], drawn["price_minor"], drawn["transaction_id"]) == (
        "Other mobile networks",
        "package",
        0,
        None,
    )
    assert drawn["draws"] == [
        {
            "bucket_id": within.bucket_id,
            "usage_kind": "voice",
            "source": line.tariff.display_name,
            "units": 180,
        }
    ]
    assert (drawn["package_units"], drawn["bucket_id"]) == (180, within.bucket_id)


def test_a_card_top_up_links_its_receipt(zones: Any, frozen_clock: Any, settings: Any) -> None:
    from selfcare.payments.providers import reset_provider_cache
    from tests.payments.factories import SUCCESS, last_hook, notify, pay, start

    settings.SELFCARE_PAYMENT_BACKEND = "fake"
    settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER = False
    settings.SELFCARE_PUBLIC_URL = "http://testserver"
    reset_provider_cache()
    try:
        user, line = make_subscriber(zones, balance_minor=0, charge_fees=False)
        payment = start(user, line, amount_minor=30_000)
        pay(payment, SUCCESS)
        notify(last_hook(payment))
        payment.refresh_from_db()

        [item] = get("/api/v1/history", bearer(user)).json()["items"]
    finally:
        reset_provider_cache()

    assert item["title"] == f"Top-up by card {payment.card_brand} •••• {payment.card_last4}"
    assert item["cause"] == {
        "type": "payment",
        "id": str(payment.public_id),
        "url": f"/api/v1/payments/{payment.public_id}",
    }
    assert item["amount_minor"] == 30_000


def test_history_filters_by_kind_and_period(zones: Any, frozen_clock: Any) -> None:
    user, line = make_subscriber(zones, balance_minor=100_000)
    call(line, "+442079460000", 60)
    auth = bearer(user)

    fees = get("/api/v1/history", auth, kind="fees").json()
    usage_today = get("/api/v1/history", auth, kind="usage", since="2026-03-02", until="2026-03-02").json()
    february = get("/api/v1/history", auth, since="2026-02-01", until="2026-02-28").json()

    assert [(i["kind"], i["amount_minor"]) for i in fees["items"]] == [("tariff_fee", -43_548)]
    assert [(i["kind"], i["amount_minor"]) for i in usage_today["items"]] == [("usage", -3_500)]
    assert (february["count"], february["items"]) == (0, [])


def test_a_backwards_period_or_an_unknown_kind_is_refused(zones: Any, frozen_clock: Any) -> None:
    user, _line = make_subscriber(zones)
    auth = bearer(user)

    backwards = get("/api/v1/history", auth, since="2026-03-05", until="2026-03-01")
    unknown = get("/api/v1/history", auth, kind="everything")

    assert (backwards.status_code, backwards["Content-Type"]) == (422, PROBLEM)
    assert (backwards.json()["code"], backwards.json()["title"]) == (
        "period_backwards",
        "The start of the period is after its end.",
    )
    assert (unknown.status_code, unknown["Content-Type"], unknown.json()["code"]) == (
        422,
        PROBLEM,
        "validation_failed",
    )


def test_history_is_paginated(zones: Any, frozen_clock: Any) -> None:
    # Given thirty top-ups of 10.00, one a minute
    user, line = make_subscriber(zones, balance_minor=0, charge_fees=False)
    for _ in range(30):
        fund(line.account.ledger_account, 1_000)
        clock.advance(timedelta(minutes=1))
    auth = bearer(user)

    first = get("/api/v1/history", auth, kind="topups").json()
    second = get("/api/v1/history", auth, kind="topups", offset=25).json()
    small = get("/api/v1/history", auth, limit=2, offset=1).json()
    past_the_end = get("/api/v1/history", auth, offset=30).json()
    huge = get("/api/v1/history", auth, limit=10_000).json()

    assert (first["count"], first["limit"], len(first["items"])) == (30, 25, 25)
    assert [i["balance_after_minor"] for i in first["items"][:2]] == [30_000, 29_000]
    assert (second["offset"], [i["balance_after_minor"] for i in second["items"]]) == (
        25,
        [5_000, 4_000, 3_000, 2_000, 1_000],
    )
    assert [i["balance_after_minor"] for i in small["items"]] == [29_000, 28_000]
    assert (past_the_end["count"], past_the_end["items"]) == (30, [])
    assert (huge["limit"], len(huge["items"])) == (200, 30)


def test_a_charges_records_are_paginated(zones: Any, frozen_clock: Any) -> None:
    # Given one rating batch of three calls abroad (one charge of three records)
    user, line = make_subscriber(zones, balance_minor=100_000)
    rate(
        *[
            usage(
                line.msisdn,
                "voice_out",
                clock.now() - timedelta(minutes=m),
                counterparty="+442079460000",
                duration_s=60,
            )
            for m in (9, 7, 5)
        ]
    )
    records = list(UsageRecord.objects.filter(line=line).order_by("started_at"))
    charge_id = records[0].transaction_id
    auth = bearer(user)

    page = get(f"/api/v1/history/{charge_id}", auth, records_limit=2, records_offset=1).json()

    assert (page["records_total"], page["records_limit"], page["records_offset"]) == (3, 2, 1)
    assert [r["id"] for r in page["records"]] == [records[1].pk, records[2].pk]
    assert page["amount_minor"] == -10_500


# --- Recent calls ---------------------------------------------------------------------------------------


def test_recent_calls_say_which_numbers_can_be_blocked(zones: Any, frozen_clock: Any) -> None:
    # Given a call from +7 916 555-00-01 (black-listed since) and one to +7 916 123-45-67
    user, line = make_subscriber(zones, balance_minor=100_000)
    call(line, "+79165550001", 30, minutes_ago=9, kind="voice_in")
    call(line, "+79161234567", 60, minutes_ago=5)
    make_black_list_service()
    changes.add_black_list_number(line, number="+79165550001", actor="test", idempotency_key="bl-1")

    # When the app asks for the recent calls
    recent = get("/api/v1/recent-calls", bearer(user)).json()

    # Then the newest comes first, and only the number not listed yet offers the preview of blocking it
    assert [(r["kind"], r["msisdn"], r["black_listed"], r["block_preview_url"]) for r in recent] == [
        ("voice_out", "+79161234567", False, "/api/v1/black-list/preview?number=%2B79161234567"),
        ("voice_in", "+79165550001", True, None),
    ]
    assert at(recent[0]["started_at"]) == clock.now() - timedelta(minutes=5)


def test_the_openapi_document_describes_the_routes_with_examples(db: Any) -> None:
    document = Client().get("/api/v1/openapi.json").json()

    for path in ("/api/v1/home", "/api/v1/spending", "/api/v1/history", "/api/v1/recent-calls"):
        responses = document["paths"][path]["get"]["responses"]
        assert {"200", "401", "404"} <= set(responses), path
    schemas = document["components"]["schemas"]
    assert schemas["HomeOut"]["examples"][0]["balance_minor"] == 30_098
    assert schemas["HistoryPageOut"]["examples"][0]["items"][0]["records"][0]["how"] == "priced"
    assert date.fromisoformat(schemas["SpendingOut"]["examples"][0]["month_start"]) == date(2026, 3, 1)
