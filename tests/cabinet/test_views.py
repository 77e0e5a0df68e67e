"""The cabinet's pages: who may see them, what the home screen, spending and history say, and the
previewed changes of tariff, services and black list as plain form posts and htmx requests.

The clock is frozen at 2026-03-02 09:00 Moscow time (tests/conftest.py): March has 31 days and 30 of
them are left, so the bundle tariff's 450.00 a month is charged 435.48 for the rest of March.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from selfcare.identity.models import User
from selfcare.kit import clock
from selfcare.ledger.models import Posting, Transaction
from selfcare.ledger.queries import get_balance_minor
from selfcare.lines.models import BlackListEntry, ServiceAssignment, TariffAssignment
from selfcare.usage.models import UsageRecord
from tests.cabinet.conftest import signed_in
from tests.cabinet.factories import make_black_list_service, make_subscriber, rate, usage
from tests.factories import make_service, make_tariff

pytestmark = pytest.mark.django_db

PAGES = ["/home/", "/spending/", "/history/", "/tariff/", "/services/", "/black-list/"]


def balance_of(line: Any) -> int:
    return get_balance_minor(line.account.ledger_account_id)


def ledger_rows() -> tuple[int, int]:
    return Transaction.objects.count(), Posting.objects.count()


def token_of(page: Any) -> str:
    match = re.search(rb'name="token" value="([^"]+)"', page.content)
    assert match, "the page has no confirmation form"
    return match.group(1).decode()


def text(page: Any) -> str:
    return re.sub(r"\s+", " ", page.content.decode())


# --- Who may see what ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [*PAGES, "/history/1/", "/history/records/1/", "/tariff/x/"])
def test_anonymous_visitors_are_sent_to_the_login_page(url: str, db: Any) -> None:
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_removing_a_black_list_entry_needs_a_login(db: Any) -> None:
    response = Client().post("/black-list/1/remove/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", PAGES)
def test_a_user_without_a_line_gets_not_found(url: str, db: Any) -> None:
    staff = User.objects.create_user(username="staff-member", password="x" * 12)

    assert signed_in(staff).get(url).status_code == 404


@pytest.mark.parametrize("url", [*PAGES, "/payments/", "/payments/promised/", "/payments/cards/"])
def test_every_page_of_the_cabinet_links_the_profile_and_help_once(
    url: str, zones: Any, frozen_clock: Any
) -> None:
    # Given a signed-in subscriber (the payment pages are reached from the cabinet's navigation)
    user, _line = make_subscriber(zones)

    # When they open the page
    page = signed_in(user).get(url)

    # Then its navigation leads to the profile and to help, once each, and home
    body = page.content.decode()
    assert page.status_code == 200
    navigation = "".join(re.findall(r"<nav\b.*?</nav>", body, flags=re.S))
    assert navigation.count('href="/profile/"') == 1
    assert navigation.count('href="/help/"') == 1
    assert navigation.count('href="/home/"') == 1


def test_another_subscribers_money_records_and_entries_are_not_found(zones: Any, frozen_clock: Any) -> None:
    # Given two subscribers; the other one has a charged call and a black-listed number
    user, _line = make_subscriber(zones)
    _other_user, other = make_subscriber(zones, name="Boris")
    rate(
        usage(
            other.msisdn,
            "voice_out",
            clock.now() - timedelta(minutes=5),
            counterparty="+442079460000",
            duration_s=60,
        )
    )
    record = UsageRecord.objects.get(line=other)
    make_black_list_service()
    from selfcare.billing import changes

    entry = changes.add_black_list_number(other, number="+79165550001", actor="test", idempotency_key="k1")
    web = signed_in(user)

    # When the first subscriber asks for the other's charge, record and entry
    charge = web.get(f"/history/{record.transaction_id}/")
    explained = web.get(f"/history/records/{record.pk}/")
    removed = web.post(f"/black-list/{entry.pk}/remove/")

    # Then each is "not found", and the entry is still on the other's list
    assert (charge.status_code, explained.status_code, removed.status_code) == (404, 404, 404)
    assert BlackListEntry.objects.filter(pk=entry.pk, line=other).exists()


# --- Home ---------------------------------------------------------------------------------------------


def test_home_shows_balance_spending_buckets_tariff_and_services(zones: Any, frozen_clock: Any) -> None:
    # Given a subscriber with 1,000.00 paid in, this month's fee charged, a data pack and a call abroad
    user, line = make_subscriber(zones, balance_minor=100_000)
    pack = make_service(code="data-3", name={"en": "3 GB"}, fee_minor=20_000, fee_period="monthly")
    from selfcare.catalog.models import Allowance

    Allowance.objects.create(service=pack, usage_kind="data", amount=3 * 1024**3)
    from selfcare.billing import changes

    changes.connect_service(line, service=pack, actor="test", idempotency_key="pack-1")
    rate(
        usage(
            line.msisdn,
            "voice_out",
            clock.now() - timedelta(minutes=5),
            counterparty="+442079460000",
            duration_s=61,
        )
    )

    # When they open their home page
    page = signed_in(user).get("/home/")
    body = text(page)

    # Then balance and spending are what the ledger says: 1,000.00 - 435.48 - 193.54 - 70.00
    assert page.status_code == 200
    assert balance_of(line) == 100_000 - 43_548 - 19_354 - 7_000
    assert 'data-testid="balance">RUB300.98<' in body
    assert 'data-testid="spent-today">RUB699.02<' in body
    assert 'data-testid="spent-month">RUB699.02<' in body
    assert 'data-testid="last-topup"><bdi>RUB1,000.00</bdi> on <bdi>03/02/2026</bdi><' in body
    assert 'data-testid="last-write-off"><bdi>RUB70.00</bdi>' in body
    # and the buckets: the pack first (consumption order), then the tariff's, with their renewal
    buckets = re.findall(
        r'data-testid="bucket" data-kind="(\w+)" data-remaining="(\d+)" data-amount="(\d+)"', body
    )
    assert buckets == [
        ("data", str(3 * 1024**3), str(3 * 1024**3)),
        ("voice", "18000", "18000"),
        ("sms", "100", "100"),
        ("data", str(10 * 1024**3), str(10 * 1024**3)),
    ]
    assert "<bdi>300 min</bdi> left of <bdi>300 min</bdi> · renews 04/01/2026" in body
    assert '<progress value="18000" max="18000" aria-label="300 min left of 300 min">' in body
    # and the tariff and the service with their fees and next fee dates
    assert "<bdi>RUB450.00</bdi> a month · next fee 04/01/2026" in body
    assert (
        'data-code="data-3"><strong>3 GB</strong> — <bdi>RUB200.00</bdi> a month · next fee 04/01/2026'
        in body
    )
    # and the number, the buttons, the help link; call detail only where statements are installed
    assert f'data-testid="home-number">{line.msisdn[:2]} ' in body
    for link in ("/payments/", "/tariff/", "/services/", "/payments/promised/", "/history/", "/help/"):
        assert f'href="{link}"' in body
    try:
        statements = reverse("statements:order")
    except NoReverseMatch:
        statements = None
    assert ('data-testid="order-call-detail"' in body) == (statements is not None)


def test_home_puts_the_promised_payment_first_when_the_balance_is_zero(zones: Any) -> None:
    # Given a subscriber of 61 days whose balance is exactly zero
    with clock.frozen(clock.now() - timedelta(days=61)):
        user, line = make_subscriber(zones, balance_minor=0, charge_fees=False)

    # When they open their home page
    body = text(signed_in(user).get("/home/"))

    # Then the page leads with the zero balance and the promised payment's conditions
    assert balance_of(line) == 0
    assert 'data-testid="low-balance"' in body
    assert body.index('data-testid="low-balance"') < body.index('data-testid="balance"')
    assert "A promised payment of up to <bdi>RUB800.00</bdi> is available." in body
    assert "term: 3 days" in body
    assert "<bdi>RUB200.00</bdi> — fee <bdi>RUB7.00</bdi>" in body
    assert 'class="button outline" href="/payments/promised/">Take a promised payment<' in body


def test_home_without_an_offer_shows_no_conditions(zones: Any, frozen_clock: Any) -> None:
    user, _line = make_subscriber(zones, balance_minor=100_000)

    body = text(signed_in(user).get("/home/"))

    assert 'data-testid="promised-conditions"' not in body
    assert 'data-testid="low-balance"' not in body


def test_home_polls_its_live_part_for_ten_minutes_then_stops(zones: Any, frozen_clock: Any) -> None:
    user, _line = make_subscriber(zones)
    web = signed_in(user)
    started = int(clock.now().timestamp())

    # When the page polls its live part as htmx does
    fresh = web.get(f"/home/?live_since={started}", HTTP_HX_REQUEST="true")
    clock.advance(timedelta(minutes=10))
    late = web.get(f"/home/?live_since={started}", HTTP_HX_REQUEST="true")
    garbage = web.get("/home/?live_since=not-a-number", HTTP_HX_REQUEST="true")

    # Then it gets just the live section: polling on, then off after ten minutes (with a way back)
    assert fresh.content.decode().startswith('\n<section id="home-live"')
    assert "<html" not in fresh.content.decode()
    assert f'hx-get="/home/?live_since={started}" hx-trigger="every 15s"' in fresh.content.decode()
    assert "hx-trigger" not in late.content.decode()
    assert "no longer updated" in late.content.decode()
    assert 'hx-trigger="every 15s"' in garbage.content.decode()


# --- Spending -----------------------------------------------------------------------------------------


def test_spending_charts_30_days_and_this_months_categories(zones: Any, frozen_clock: Any) -> None:
    # Given this month's fee charged today, a call abroad (70.00) and an SMS within the package
    user, line = make_subscriber(zones, balance_minor=100_000)
    now = clock.now()
    rate(
        usage(
            line.msisdn, "voice_out", now - timedelta(minutes=5), counterparty="+442079460000", duration_s=61
        ),
        usage(line.msisdn, "sms_out", now - timedelta(minutes=4), counterparty="+79161234567"),
    )

    # When they open the spending page
    page = signed_in(user).get("/spending/")
    body = text(page)

    # Then today's bar and the table hold the day's total, and the month splits by category
    assert page.status_code == 200
    assert 'role="img" aria-labelledby="daily-title daily-desc"' in body
    assert body.count("<rect ") == 30 + 6
    assert "<title>03/02/2026: RUB505.48</title>" in body
    categories = dict(re.findall(r'data-category="(\w+)" data-amount="(-?\d+)"', body))
    assert categories == {
        "calls": "7000",
        "sms": "0",
        "data": "0",
        "subscription": "43548",
        "services": "0",
        "other": "0",
    }
    assert '<th scope="row">Total</th><td><bdi>RUB505.48</bdi>' in body


def test_chart_coordinates_are_never_localised(zones: Any, frozen_clock: Any) -> None:
    # Given a Russian subscriber (Russian writes decimals with a comma, which SVG does not accept)
    user, _line = make_subscriber(zones, language="ru")
    web = signed_in(user)
    web.cookies["django_language"] = "ru"

    # When they open the spending page
    body = web.get("/spending/").content.decode()

    # Then every coordinate of the charts is a plain number
    coordinates = re.findall(r'\b(?:x|y|y1|y2|width|height)="([^"]*)"', body)
    assert len(coordinates) > 30
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", value) for value in coordinates), coordinates


# --- History ------------------------------------------------------------------------------------------


def test_history_explains_each_movement_and_opens_the_rated_record(zones: Any, frozen_clock: Any) -> None:
    # Given a fee, a call abroad beyond the package and a call within it
    user, line = make_subscriber(zones, balance_minor=100_000)
    rate(
        usage(
            line.msisdn,
            "voice_out",
            clock.now() - timedelta(minutes=9),
            counterparty="+442079460000",
            duration_s=180,
        ),
        usage(
            line.msisdn,
            "voice_out",
            clock.now() - timedelta(minutes=5),
            counterparty="+79161234567",
            duration_s=125,
        ),
    )
    abroad = UsageRecord.objects.get(line=line, counterparty="+442079460000")
    web = signed_in(user)

    # When they open the history
    body = text(web.get("/history/"))

    # Then each movement is said in plain words with its amount and the balance after
    titles = re.findall(r'data-testid="history-title">([^<]+)<', body)
    assert titles == [
        "Calls, SMS and data outside the package: 1 call",
        "Monthly fee — " + line.tariff.display_name,
        "Top-up",
    ]
    assert "Call to +44 20 7946 0000, 3 min, outside package</a> — <bdi>RUB105.00</bdi>" in body
    assert "Period: from 03/01/2026 to 03/31/2026" in body

    # When they open the charge and its record
    charge = text(web.get(f"/history/{abroad.transaction_id}/"))
    record = text(web.get(f"/history/records/{abroad.pk}/"))
    within = text(web.get(f"/history/records/{UsageRecord.objects.get(counterparty='+79161234567').pk}/"))

    # Then the charge lists its record, and each record says its class, package draw and price
    assert "The 1 record this charge is made of" in charge
    assert 'data-testid="item-amount">-RUB105.00<' in charge
    assert 'data-testid="record-class">International · Europe<' in record
    assert 'data-testid="record-price">RUB105.00<' in record
    assert 'data-testid="record-draw"' not in record
    assert 'data-testid="record-class">Other mobile networks<' in within
    assert 'data-testid="record-draw"><bdi>3 min</bdi> · ' + line.tariff.display_name in within
    assert 'data-testid="record-price">RUB0.00<' in within


def test_a_card_topup_is_named_by_its_card_and_links_its_receipt(
    zones: Any, frozen_clock: Any, settings: Any
) -> None:
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

        body = text(signed_in(user).get("/history/"))
    finally:
        reset_provider_cache()

    assert re.findall(r'data-testid="history-title">([^<]+)<', body) == [
        f"Top-up by card {payment.card_brand} •••• {payment.card_last4}"
    ]
    item = text(signed_in(user).get(f"/history/{payment.ledger_transaction_id}/"))
    assert f'href="/payments/{payment.public_id}/"' in item


def test_history_filters_by_kind_and_period_and_refuses_a_backwards_period(
    zones: Any, frozen_clock: Any
) -> None:
    user, line = make_subscriber(zones, balance_minor=100_000)
    rate(
        usage(
            line.msisdn,
            "voice_out",
            clock.now() - timedelta(minutes=5),
            counterparty="+442079460000",
            duration_s=60,
        )
    )
    web = signed_in(user)

    fees = text(web.get("/history/?kind=fees"))
    usage_only = text(web.get("/history/?kind=usage&since=2026-03-02&until=2026-03-02"))
    before = text(web.get("/history/?since=2026-02-01&until=2026-02-28"))
    backwards = text(web.get("/history/?since=2026-03-05&until=2026-03-01"))

    assert re.findall(r'data-kind="(\w+)"', fees) == ["tariff_fee"]
    assert re.findall(r'data-kind="(\w+)"', usage_only) == ["usage"]
    assert 'data-testid="history-empty"' in before
    assert "The start of the period is after its end." in backwards
    assert re.findall(r'data-kind="(\w+)"', backwards) == ["usage", "tariff_fee", "topup"]


def test_history_is_paginated(zones: Any, frozen_clock: Any) -> None:
    user, line = make_subscriber(zones, balance_minor=0, charge_fees=False)
    from tests.factories import fund

    for _ in range(30):
        fund(line.account.ledger_account, 1_000)
    web = signed_in(user)

    first = text(web.get("/history/?kind=topups"))
    second = text(web.get("/history/?kind=topups&page=2"))

    assert first.count('data-testid="history-row"') == 25
    assert second.count('data-testid="history-row"') == 5
    assert 'href="?kind=topups&amp;page=2" rel="next"' in first
    assert "Page <bdi>2</bdi> of <bdi>2</bdi>" in second


# --- Tariff ---------------------------------------------------------------------------------------------


def _second_tariff(zones: Any, **kwargs: Any) -> Any:
    from tests.usage.factories import make_bundle_tariff

    tariff = make_bundle_tariff(zones, voice_s=600 * 60, **kwargs)
    from selfcare.catalog.models import Tariff

    Tariff.objects.filter(pk=tariff.pk).update(fee_minor=31_000, name={"en": "Smart L"}, code="smart-l")
    tariff.refresh_from_db()
    return tariff


def test_tariff_change_with_preview_then_confirmation(zones: Any, frozen_clock: Any) -> None:
    # Given a subscriber with 1,000.00 less this month's fee, and an open tariff at 310.00 a month
    user, line = make_subscriber(zones, balance_minor=100_000)
    smart_l = _second_tariff(zones)
    closed = make_tariff(code="old-one", name={"en": "Old one"}, is_open=False)
    web = signed_in(user)

    # When they compare tariffs
    compare = text(web.get("/tariff/"))

    # Then the current and the open tariff are side by side; the closed one is not offered
    columns = re.findall(r'data-testid="tariff-column" data-code="([\w-]+)"', compare)
    assert columns == [line.tariff.code, "smart-l"]
    assert closed.code not in compare
    assert '<th scope="row">Minutes</th><td><bdi>300 min</bdi></td><td><bdi>600 min</bdi></td>' in compare

    # When they choose it: the preview
    preview = web.get("/tariff/smart-l/")
    body = text(preview)
    balance = balance_of(line)

    # Then it says what is charged now (30 of 31 days), the change fee, and the balance after
    assert 'data-allowed="true"' in body
    assert 'data-testid="fee-today">RUB300.00<' in body
    assert 'data-testid="change-fee">RUB0.00<' in body
    assert f'data-testid="balance-after">RUB{(balance - 30_000) / 100:,.2f}<' in body
    assert "Smart L starts now." in body

    # When they confirm (twice, as a double click does)
    token = token_of(preview)
    done = web.post("/tariff/smart-l/", {"token": token})
    again = web.post("/tariff/smart-l/", {"token": token})

    # Then the tariff changed once and 300.00 was charged once
    assert done.status_code == 302
    assert done["Location"] == "/tariff/"
    assert again.status_code == 302
    line.refresh_from_db()
    assert line.tariff_id == smart_l.pk
    assert balance_of(line) == balance - 30_000
    assert "Your tariff is now Smart L. Charged: RUB300.00." in text(web.get("/tariff/"))


def test_a_closed_tariff_and_a_short_balance_are_refused_and_change_nothing(
    zones: Any, frozen_clock: Any
) -> None:
    # Given a subscriber with 50.00 left and two tariffs: a closed one, and one they cannot afford
    user, line = make_subscriber(zones, balance_minor=43_548 + 5_000)
    closed = make_tariff(code="old-one", name={"en": "Old one"}, is_open=False, fee_minor=100)
    _second_tariff(zones)
    web = signed_in(user)
    before = (balance_of(line), ledger_rows(), TariffAssignment.objects.count(), line.tariff_id)

    # When they preview and post each change anyway
    closed_preview = text(web.get(f"/tariff/{closed.code}/"))
    closed_post = web.post(f"/tariff/{closed.code}/", {"token": "tariff-closed-1"}, follow=True)
    short_preview = text(web.get("/tariff/smart-l/"))
    short_post = web.post("/tariff/smart-l/", {"token": "tariff-short-1"}, follow=True)

    # Then the previews and the posts say why, and nothing changed
    assert 'data-code="tariff_closed"' in closed_preview
    assert 'data-testid="confirm"' not in closed_preview
    assert 'data-code="insufficient_balance"' in short_preview
    assert 'class="message message-error"' in text(closed_post)
    assert "not enough money" in text(short_post).lower()
    line.refresh_from_db()
    assert (balance_of(line), ledger_rows(), TariffAssignment.objects.count(), line.tariff_id) == before


def test_an_unknown_tariff_or_service_is_not_found(zones: Any, frozen_clock: Any) -> None:
    user, _line = make_subscriber(zones)
    web = signed_in(user)

    assert web.get("/tariff/no-such-tariff/").status_code == 404
    assert web.get("/services/no-such/connect/").status_code == 404
    make_service(code="real-one")
    assert web.get("/services/real-one/explode/").status_code == 404


def test_the_preview_comes_as_a_fragment_for_htmx(zones: Any, frozen_clock: Any) -> None:
    user, _line = make_subscriber(zones)
    _second_tariff(zones)

    fragment = signed_in(user).get("/tariff/smart-l/", HTTP_HX_REQUEST="true").content.decode()

    assert fragment.lstrip().startswith('<article id="change-preview"')
    assert "<html" not in fragment
    assert 'name="csrfmiddlewaretoken"' in fragment


# --- Services -------------------------------------------------------------------------------------------


def test_connect_and_disconnect_a_service_with_the_same_preview(zones: Any, frozen_clock: Any) -> None:
    # Given a subscriber and a daily "Caller ID" at 2.00 a day with a 10.00 connection fee
    user, line = make_subscriber(zones, balance_minor=100_000)
    caller_id = make_service(
        code="caller-id", name={"en": "Caller ID"}, fee_minor=200, fee_period="daily", connect_fee_minor=1_000
    )
    web = signed_in(user)
    balance = balance_of(line)

    # When they open the services, preview the connection and confirm it
    listing = text(web.get("/services/"))
    preview = web.get("/services/caller-id/connect/")
    connected = web.post("/services/caller-id/connect/", {"token": token_of(preview)}, follow=True)

    # Then the preview showed 2.00 today and 10.00 once, and both were charged
    assert 'data-code="caller-id" data-connected="false"' in listing
    assert 'data-testid="fee-today">RUB2.00<' in text(preview)
    assert 'data-testid="change-fee">RUB10.00<' in text(preview)
    assert "Caller ID is connected. Charged: RUB12.00." in text(connected)
    assert 'data-code="caller-id" data-connected="true"' in text(connected)
    assert balance_of(line) == balance - 1_200

    # When they disconnect it the same way
    preview = web.get("/services/caller-id/disconnect/")
    disconnected = web.post("/services/caller-id/disconnect/", {"token": token_of(preview)}, follow=True)

    # Then it is off, nothing is refunded, and the history of services shows both
    assert "Caller ID is disconnected." in text(disconnected)
    assert not ServiceAssignment.objects.filter(
        line=line, service=caller_id, disconnected_at__isnull=True
    ).exists()
    assert balance_of(line) == balance - 1_200
    history = text(web.get("/history/"))
    assert "Connection — Caller ID" in history
    assert "Daily fee — Caller ID" in history


def test_an_excluded_service_shows_why_and_changes_nothing(zones: Any, frozen_clock: Any) -> None:
    user, line = make_subscriber(zones, balance_minor=100_000)
    europe = make_service(code="roam-europe", name={"en": "Europe"})
    world = make_service(code="roam-world", name={"en": "World"}, excludes=[europe])
    from selfcare.billing import changes

    changes.connect_service(line, service=europe, actor="test", idempotency_key="europe-1")
    web = signed_in(user)
    before = (balance_of(line), ledger_rows(), ServiceAssignment.objects.filter(line=line).count())

    listing = text(web.get("/services/"))
    posted = text(web.post(f"/services/{world.code}/connect/", {"token": "world-1"}, follow=True))

    assert "This service cannot work together with Europe." in listing
    assert "This service cannot work together with Europe." in posted
    assert (balance_of(line), ledger_rows(), ServiceAssignment.objects.filter(line=line).count()) == before


# --- Black list -----------------------------------------------------------------------------------------


def test_block_a_caller_from_the_recent_calls_then_remove_the_number(zones: Any, frozen_clock: Any) -> None:
    # Given a subscriber who was called by +7 916 555-00-01, and the Black list off
    user, line = make_subscriber(zones, balance_minor=100_000)
    make_black_list_service()
    rate(
        usage(
            line.msisdn,
            "voice_in",
            clock.now() - timedelta(minutes=5),
            counterparty="+79165550001",
            duration_s=30,
        )
    )
    web = signed_in(user)
    balance = balance_of(line)

    # When they follow "Block this caller" in the history's recent calls
    history = text(web.get("/history/"))
    link = re.search(r'href="(/black-list/add/\?number=[^"]+)">Block this caller<', history).group(1)
    preview = web.get(link.replace("&amp;", "&"))

    # Then the preview connects the Black list: 1.50 today and 10.00 for the number
    assert 'data-testid="fee-today">RUB1.50<' in text(preview)
    assert 'data-testid="change-fee">RUB10.00<' in text(preview)
    assert "Adding your first number connects Black list." in text(preview)

    # When they confirm with a note
    added = web.post(
        "/black-list/add/",
        {"number": "+79165550001", "note": "spam", "token": token_of(preview)},
        follow=True,
    )

    # Then the number is on the list with its note, the service is on, 11.50 was charged
    entry = BlackListEntry.objects.get(line=line)
    assert (entry.msisdn, entry.note) == ("+79165550001", "spam")
    assert "+7 916 555-00-01 is on your black list." in text(added)
    assert balance_of(line) == balance - 1_150
    assert "on your black list" in text(web.get("/history/"))
    assert "Black list: +7 916 555-00-01 added" in text(web.get("/history/"))

    # When they remove it with htmx
    fragment = web.post(f"/black-list/{entry.pk}/remove/", HTTP_HX_REQUEST="true")

    # Then the list fragment comes back empty and the entry is gone
    assert fragment.content.decode().lstrip().startswith('<section id="black-list-entries"')
    assert 'data-testid="black-list-empty"' in fragment.content.decode()
    assert not BlackListEntry.objects.filter(line=line).exists()


def test_a_number_in_any_format_is_normalised_and_a_bad_one_is_refused(zones: Any, frozen_clock: Any) -> None:
    user, line = make_subscriber(zones, balance_minor=100_000)
    make_black_list_service()
    web = signed_in(user)

    typed = web.get("/black-list/add/", {"number": "8 (916) 555-00-02"})
    bad = text(web.get("/black-list/add/", {"number": "12"}))
    posted_bad = text(web.post("/black-list/add/", {"number": "12", "token": "bl-bad-1"}, follow=True))
    empty = web.get("/black-list/add/", {"number": " "})

    assert 'data-allowed="true"' in text(typed)
    assert '<input type="hidden" name="number" value="8 (916) 555-00-02">' in text(typed)
    assert 'data-code="invalid_number"' in bad
    assert "This is not a valid phone number." in posted_bad
    assert empty.status_code == 302
    assert empty["Location"] == "/black-list/"
    assert not BlackListEntry.objects.filter(line=line).exists()


def test_a_full_black_list_refuses_and_changes_nothing(zones: Any, frozen_clock: Any) -> None:
    user, line = make_subscriber(zones, balance_minor=100_000)
    make_black_list_service(parameters={"capacity": 1, "entry_fee_minor": 0})
    from selfcare.billing import changes

    changes.add_black_list_number(line, number="+79165550001", actor="test", idempotency_key="bl-1")
    web = signed_in(user)
    before = (balance_of(line), ledger_rows(), BlackListEntry.objects.count())

    preview = text(web.get("/black-list/add/", {"number": "+79165550002"}))
    posted = text(web.post("/black-list/add/", {"number": "+79165550002", "token": "bl-2"}, follow=True))

    assert 'data-code="black_list_full"' in preview
    assert 'class="message message-error"' in posted
    assert (balance_of(line), ledger_rows(), BlackListEntry.objects.count()) == before


def test_every_cabinet_page_renders_in_persian_right_to_left(zones: Any, frozen_clock: Any) -> None:
    user, line = make_subscriber(zones, language="fa")
    make_black_list_service()
    rate(
        usage(
            line.msisdn,
            "voice_in",
            clock.now() - timedelta(minutes=5),
            counterparty="+79165550001",
            duration_s=30,
        )
    )
    web = signed_in(user)
    web.cookies["django_language"] = "fa"

    for url in [*PAGES, "/black-list/add/?number=%2B79165550001"]:
        page = web.get(url)
        assert page.status_code == 200, url
        assert '<html lang="fa" dir="rtl">' in page.content.decode(), url


def test_fixed_fragments_follow_the_language_and_the_current_page(zones: Any, frozen_clock: Any) -> None:
    # Given a subscriber whose home page was already rendered in English (its fixed fragments are
    # rendered once per process for each language and page)
    user, _line = make_subscriber(zones)
    web = signed_in(user)
    english = text(web.get("/home/"))
    assert ">Change tariff</a>" in english

    # When the same pages are asked for in Russian, then another cabinet page in English
    web.cookies["django_language"] = "ru"
    russian = text(web.get("/home/"))
    web.cookies["django_language"] = "en"
    spending = text(web.get("/spending/"))
    home_again = text(web.get("/home/"))

    # Then each shows its own language, and the cabinet navigation marks the page being shown
    assert ">Сменить тариф</a>" in russian
    assert ">Change tariff</a>" not in russian
    assert 'href="/spending/" aria-current="page">Spending</a>' in spending
    assert 'href="/spending/" aria-current="page"' not in home_again
    assert home_again.count(">Change tariff</a>") == 1
