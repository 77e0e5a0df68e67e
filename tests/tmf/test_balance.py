"""TMF654: the money balance and the allowance buckets, their totals, and top-ups started as /api/v1's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.ledger.queries import get_balance_minor
from selfcare.payments.models import Payment
from tests.factories import make_line
from tests.payments.conftest import deliver_all
from tests.payments.factories import pay, start
from tests.tmf.conftest import World

pytestmark = pytest.mark.django_db

BASE = "/tmf-api/prepayBalanceManagement/v4"
HREF = f"http://testserver{BASE}"
CATALOG = "http://testserver/tmf-api/productCatalogManagement/v4"
GB = 1024**3


def get(api: Client, auth: dict[str, str], path: str, *, language: str = "en") -> Any:
    response = api.get(BASE + path, headers={**auth, "Accept-Language": language})
    assert response.status_code == 200, response.content
    return response.json()


def post_topup(api: Client, world: World, body: dict[str, Any], *, key: str | None = "tmf-key-1") -> Any:
    headers = {**world.auth, **({"Idempotency-Key": key} if key else {})}
    return api.post(f"{BASE}/topupBalance", body, content_type="application/json", headers=headers)


def topup_body(world: World, amount: Any = 300, **extra: Any) -> dict[str, Any]:
    return {
        "amount": {"amount": amount, "units": "RUB"},
        "usageType": "monetary",
        "bucket": {"id": f"money-{world.line.account.number}"},
        "partyAccount": {"id": world.line.account.number},
        **extra,
    }


def balance(world: World) -> int:
    return get_balance_minor(world.line.account.ledger_account_id)


def test_buckets_are_the_money_balance_then_the_allowances_in_consumption_order(api: Client, world: World):
    buckets = get(api, world.auth, "/bucket")

    number = world.line.account.number
    assert [(b["id"], b["usageType"], b["remainingValue"]) for b in buckets] == [
        (f"money-{number}", "monetary", {"amount": balance(world) / 100, "units": "RUB"}),
        (buckets[1]["id"], "data", {"amount": 3 * GB, "units": "bytes"}),
        (buckets[2]["id"], "voice", {"amount": 300 * 60 - 180, "units": "seconds"}),
        (buckets[3]["id"], "sms", {"amount": 100, "units": "messages"}),
        (buckets[4]["id"], "data", {"amount": 10 * GB - 5_324_800, "units": "bytes"}),
    ]
    assert [b["remainingValueName"] for b in buckets[1:]] == ["3 GB", "297 min", "100 SMS", "9.9 GB"]
    assert [b["product"][0]["name"] for b in buckets[1:]] == ["3 GB", "Smart", "Smart", "Smart"]
    assert {b["status"] for b in buckets} == {"active"}


def test_the_money_bucket(api: Client, world: World):
    number = world.line.account.number

    assert get(api, world.auth, f"/bucket/money-{number}") == {
        "@type": "Bucket",
        "id": f"money-{number}",
        "href": f"{HREF}/bucket/money-{number}",
        "name": "Balance",
        "usageType": "monetary",
        "status": "active",
        "remainingValue": {"amount": 494.52, "units": "RUB"},
        "remainingValueName": "RUB494.52",
        "partyAccount": {"id": number, "name": number, "@referredType": "BillingAccount"},
        "logicalResource": [{"id": world.line.msisdn, "name": world.line.msisdn, "@referredType": "MSISDN"}],
    }
    # 1000.00 paid in, 435.48 of the month's fee (30 of 31 days), 70.00 for the call abroad
    assert balance(world) == 100_000 - 43_548 - 7_000
    assert (
        get(api, world.auth, f"/bucket/money-{number}", language="ru")["remainingValueName"] == "494,52\xa0₽"
    )


def test_an_allowance_bucket(api: Client, world: World):
    voice = world.records["call"].bucket_id
    number = world.line.account.number

    assert get(api, world.auth, f"/bucket/usage-{voice}") == {
        "@type": "Bucket",
        "id": f"usage-{voice}",
        "href": f"{HREF}/bucket/usage-{voice}",
        "name": "Smart: Voice",
        "isShared": False,
        "usageType": "voice",
        "status": "active",
        "remainingValue": {"amount": 17_820, "units": "seconds"},
        "remainingValueName": "297 min",
        "validFor": {"startDateTime": "2026-02-28T21:00:00Z", "endDateTime": "2026-03-31T21:00:00Z"},
        "partyAccount": {"id": number, "name": number, "@referredType": "BillingAccount"},
        "logicalResource": [{"id": world.line.msisdn, "name": world.line.msisdn, "@referredType": "MSISDN"}],
        "product": [
            {
                "id": f"tariff-{world.tariff.pk}",
                "href": f"{CATALOG}/productOffering/tariff-{world.tariff.pk}",
                "name": "Smart",
                "@referredType": "ProductOffering",
            }
        ],
    }
    assert get(api, world.auth, f"/bucket/usage-{voice}", language="ru")["name"] == "Смарт: Звонки"


def test_a_bucket_whose_period_ended_is_expired_and_no_longer_listed(api: Client, world: World):
    voice = world.records["call"].bucket_id
    clock.advance(timedelta(days=31))

    assert get(api, world.auth, f"/bucket/usage-{voice}")["status"] == "expired"
    assert f"usage-{voice}" not in [b["id"] for b in get(api, world.auth, "/bucket")]


def test_another_subscribers_bucket_is_not_found(api: Client, world: World):
    theirs = world.records["other"].bucket_id

    answers = [
        api.get(f"{BASE}/bucket/usage-{theirs}", headers=world.auth),
        api.get(f"{BASE}/bucket/money-{world.other_line.account.number}", headers=world.auth),
    ]
    assert [a.status_code for a in answers] == [404, 404]


def test_accumulated_balances_sum_each_usage_type(api: Client, world: World):
    digits = world.line.msisdn[1:]
    balances = get(api, world.auth, "/accumulatedBalance")

    assert [(b["id"], b["name"], b["totalBalance"], len(b["bucket"])) for b in balances] == [
        (f"{digits}-monetary", "Balance", {"amount": 494.52, "units": "RUB"}, 1),
        (f"{digits}-voice", "Voice", {"amount": 17_820, "units": "seconds"}, 1),
        (f"{digits}-sms", "SMS", {"amount": 100, "units": "messages"}, 1),
        (f"{digits}-data", "Data", {"amount": 13 * GB - 5_324_800, "units": "bytes"}, 2),
    ]
    data = get(api, world.auth, f"/accumulatedBalance/{digits}-data")
    assert data == balances[3]
    assert data["logicalResource"] == {
        "id": world.line.msisdn,
        "name": world.line.msisdn,
        "@referredType": "MSISDN",
    }


def test_attribute_selection_keeps_what_tmf_requires(api: Client, world: World):
    # given a selection of one attribute that TMF's AccumulatedBalance and TopupBalance do not require
    digits = world.line.msisdn[1:]
    assert post_topup(api, world, topup_body(world)).status_code == 201
    # when the caller lists with it
    balances = get(api, world.auth, "/accumulatedBalance?fields=description&limit=1")
    topups = get(api, world.auth, "/topupBalance?fields=usageType")
    # then each resource keeps its id, href and @type, and the attributes TMF requires of it
    assert [sorted(b) for b in balances] == [["@type", "bucket", "href", "id", "name", "totalBalance"]]
    assert balances[0]["id"] == f"{digits}-monetary"
    assert [sorted(t) for t in topups] == [["@type", "href", "id", "status", "usageType"]]


def test_a_topup_is_started_like_the_apps_and_is_idempotent(api: Client, world: World):
    # when the client creates a top-up twice with one Idempotency-Key
    first = post_topup(api, world, topup_body(world, amount=300))
    again = post_topup(api, world, topup_body(world, amount=300))

    # then one payment is open at the provider, and both answers are that top-up
    assert (first.status_code, again.status_code) == (201, 201)
    payment = Payment.objects.get()
    body = first.json()
    assert again.json() == body
    assert first["Location"] == f"{HREF}/topupBalance/{payment.public_id}"
    assert body == {
        "@type": "SelfcareTopupBalance",
        "@baseType": "TopupBalance",
        "id": str(payment.public_id),
        "href": f"{HREF}/topupBalance/{payment.public_id}",
        "status": "created",
        "usageType": "monetary",
        "amount": {"amount": 300, "units": "RUB"},
        "isAutoTopup": False,
        "requestedDate": "2026-03-02T06:00:00Z",
        "bucket": {
            "id": f"money-{world.line.account.number}",
            "href": f"{HREF}/bucket/money-{world.line.account.number}",
            "@referredType": "Bucket",
        },
        "partyAccount": {
            "id": world.line.account.number,
            "name": world.line.account.number,
            "@referredType": "BillingAccount",
        },
        "logicalResource": [{"id": world.line.msisdn, "name": world.line.msisdn, "@referredType": "MSISDN"}],
        "confirmationUrl": payment.confirmation_url,
    }
    assert body["confirmationUrl"].startswith("http://testserver/fake-acquirer/pay/")
    assert (payment.amount_minor, payment.msisdn, payment.payer_id) == (
        30_000,
        world.line.msisdn,
        world.user.pk,
    )
    before = balance(world)

    # when the payer pays and the provider confirms
    pay(payment)
    deliver_all(api)

    # then the top-up is completed and the money bucket holds the 300.00
    done = get(api, world.auth, f"/topupBalance/{payment.public_id}")
    assert (done["status"], "confirmationUrl" in done, done["confirmationDate"]) == (
        "completed",
        False,
        "2026-03-02T06:00:00Z",
    )
    assert balance(world) == before + 30_000
    assert get(api, world.auth, "/bucket")[0]["remainingValue"] == {
        "amount": (before + 30_000) / 100,
        "units": "RUB",
    }


def test_a_topup_may_credit_another_number_of_the_same_account(api: Client, world: World):
    second = make_line(account=world.line.account, tariff=world.tariff)

    answer = post_topup(api, world, topup_body(world, amount=150.5, logicalResource=[{"id": second.msisdn}]))

    assert answer.status_code == 201
    assert Payment.objects.get().msisdn == second.msisdn
    assert answer.json()["logicalResource"][0]["id"] == second.msisdn


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"usageType": "voice"}, "Only the money balance can be topped up (usageType monetary)."),
        ({"amount": {"amount": 300, "units": "USD"}}, "The amount must be in RUB."),
        ({"amount": {"amount": 300.123, "units": "RUB"}}, "The amount is not a valid amount of RUB."),
        ({"amount": {"amount": 5, "units": "RUB"}}, "The amount must be between RUB10.00 and RUB15,000.00."),
        ({"bucket": {"id": "usage-1"}}, "There is no such bucket or account of yours."),
        ({"partyAccount": {"id": "0000000000"}}, "There is no such bucket or account of yours."),
        ({"logicalResource": [{"id": "+79161234567"}]}, "There is no such bucket or account of yours."),
    ],
)
def test_a_topup_that_is_not_of_the_callers_money_is_refused_and_nothing_starts(
    api: Client, world: World, change: dict[str, Any], reason: str
):
    answer = post_topup(api, world, {**topup_body(world), **change})

    assert answer.status_code == 400
    assert answer.json()["reason"] == reason
    assert Payment.objects.count() == 0


def test_a_topup_for_someone_elses_account_by_their_bucket_is_refused(api: Client, world: World):
    other = world.other_line.account.number
    answer = post_topup(
        api, world, topup_body(world, bucket={"id": f"money-{other}"}, partyAccount={"id": other})
    )

    assert (answer.status_code, answer.json()["code"]) == (400, "unknown_balance")
    assert Payment.objects.count() == 0


def test_a_topup_without_an_idempotency_key_is_refused_in_the_callers_language(api: Client, world: World):
    headers = {**world.auth, "Accept-Language": "ru"}
    audit_before = AuditEvent.objects.count()
    answer = api.post(
        f"{BASE}/topupBalance", topup_body(world), content_type="application/json", headers=headers
    )

    assert answer.status_code == 400
    assert answer.json() == {
        "code": "idempotency_key_required",
        "reason": "Заголовок Idempotency-Key отсутствует или неверен.",
        "status": "400",
    }
    assert (Payment.objects.count(), AuditEvent.objects.count()) == (0, audit_before)


def test_topups_list_what_the_caller_paid_and_what_credited_their_account(api: Client, world: World):
    # given a top-up of the subscriber's own number and one they paid for the other subscriber
    own = start(world.user, world.line, amount_minor=20_000, key="own")
    clock.advance(timedelta(minutes=1))
    gift = start(world.user, world.other_line, amount_minor=10_000, key="gift")

    # then the payer lists both, newest first, the gift naming the other number only
    mine = api.get(f"{BASE}/topupBalance", headers=world.auth)
    assert (mine["X-Total-Count"], [t["id"] for t in mine.json()]) == (
        "2",
        [str(gift.public_id), str(own.public_id)],
    )
    gift_item = mine.json()[0]
    assert ("partyAccount" in gift_item, "bucket" in gift_item) == (False, False)
    assert gift_item["logicalResource"] == [
        {"id": world.other_line.msisdn, "name": world.other_line.msisdn, "@referredType": "MSISDN"}
    ]
    # and the receiver sees the gift that credited their account, with their own account
    theirs = get(api, world.other_auth, "/topupBalance")
    assert [(t["id"], t["partyAccount"]["id"]) for t in theirs] == [
        (str(gift.public_id), world.other_line.account.number)
    ]
    # and nobody else's top-up can be read
    assert api.get(f"{BASE}/topupBalance/{own.public_id}", headers=world.other_auth).status_code == 404
    assert get(api, world.auth, "/topupBalance?offset=1&limit=1")[0]["id"] == str(own.public_id)
