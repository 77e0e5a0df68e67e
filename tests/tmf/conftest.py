"""The world of the TMF tests: a catalog, a subscriber with usage and buckets, and another subscriber.

Frozen at 2026-03-02 09:00 Moscow time. The subscriber's line is on "Smart" (450.00 a month with 300
min, 100 SMS and 10 GB, change fee 50.00) with a connected 3 GB data pack (30 days); the catalog also has
an option that requires the pack and is only for Smart, one that excludes it, and an archived tariff.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from selfcare.catalog.models import Service, Tariff
from selfcare.identity.models import User
from selfcare.identity.services import Client as ServiceClient
from selfcare.identity.services import issue_api_tokens
from selfcare.lines import services as lines_services
from selfcare.lines.models import Line
from selfcare.payments.providers import reset_provider_cache
from selfcare.usage import services as usage_services
from selfcare.usage.models import UsageRecord
from tests.cabinet.factories import at, make_subscriber, usage
from tests.factories import make_service, make_tariff
from tests.usage.factories import MB, make_bundle_tariff, make_numbering, make_pack

APP = ServiceClient(ip="192.0.2.30", user_agent="tmf-client", language="en")


def bearer(user: User) -> dict[str, str]:
    pair = issue_api_tokens(user, device_id="tmf-client-1", client=APP, method="test")
    return {"Authorization": f"Bearer {pair.access_token}"}


@dataclass
class World:
    user: User
    line: Line
    other_user: User
    other_line: Line
    tariff: Tariff
    archived: Tariff
    pack: Service
    addon: Service
    rival: Service
    records: dict[str, UsageRecord]

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.user)

    @property
    def other_auth(self) -> dict[str, str]:
        return bearer(self.other_user)


@pytest.fixture(autouse=True)
def fake_payments(settings: Any) -> Iterator[None]:
    settings.SELFCARE_PAYMENT_BACKEND = "fake"
    settings.SELFCARE_FAKE_ACQUIRER_AUTODELIVER = False
    settings.SELFCARE_PUBLIC_URL = "http://testserver"
    reset_provider_cache()
    yield
    reset_provider_cache()


@pytest.fixture
def world(db: Any, frozen_clock: Any) -> World:
    zones = make_numbering()
    tariff = make_bundle_tariff(zones)
    Tariff.objects.filter(pk=tariff.pk).update(
        code="smart",
        name={"en": "Smart", "ru": "Смарт", "fa": "هوشمند"},
        description={"en": "Minutes, SMS and data for a month"},
        change_fee_minor=5_000,
    )
    tariff.refresh_from_db()
    archived = make_tariff(code="old", name={"en": "Old"}, is_open=False, is_active=False)
    pack = make_pack(amount=3 * 1024 * MB, validity_days=30)
    Service.objects.filter(pk=pack.pk).update(
        code="data-3gb", name={"en": "3 GB", "ru": "3 ГБ", "fa": "۳ گیگ"}, connect_fee_minor=19_900
    )
    pack.refresh_from_db()
    addon = make_service(
        code="addon",
        name={"en": "Night data"},
        fee_minor=1_050,
        fee_period="daily",
        requires=[pack],
        allowed_tariffs=[tariff, archived],
    )
    rival = make_service(code="rival", name={"en": "Rival pack"}, excludes=[pack], is_open=False)

    user, line = make_subscriber(zones, tariff=tariff, balance_minor=100_000)
    lines_services.connect_service(line, service=pack, actor="test")
    usage_services.grant_buckets(line)
    other_user, other_line = make_subscriber(zones, tariff=tariff, name="Oleg Orlov")

    result = usage_services.rate_batch(
        [
            usage(
                line.msisdn,
                "voice_out",
                at("2026-03-02T08:00:00+03:00"),
                duration_s=125,
                counterparty="+79161234567",
            ),
            usage(
                line.msisdn,
                "voice_out",
                at("2026-03-02T08:10:00+03:00"),
                duration_s=61,
                counterparty="+4930123456",
            ),
            usage(line.msisdn, "sms_in", at("2026-03-02T08:20:00+03:00"), counterparty="+79169876543"),
            usage(line.msisdn, "data", at("2026-03-02T08:30:00+03:00"), volume_bytes=5 * MB),
            usage(
                line.msisdn,
                "data",
                at("2026-03-02T08:40:00+03:00"),
                volume_bytes=MB,
                roaming_zone="roam-world",
            ),
            usage(
                other_line.msisdn,
                "voice_out",
                at("2026-03-02T08:50:00+03:00"),
                duration_s=30,
                counterparty="+79161234567",
            ),
        ]
    )
    assert (result.accepted, result.refused) == (5, 1), result
    by_time = {
        "08:00": "call",
        "08:10": "international",
        "08:20": "sms_in",
        "08:30": "data",
        "08:40": "roaming",
        "08:50": "other",
    }
    records = {
        by_time[r.started_at.astimezone(at("2026-03-02T00:00:00+03:00").tzinfo).strftime("%H:%M")]: r
        for r in UsageRecord.objects.all()
    }
    return World(
        user=user,
        line=line,
        other_user=other_user,
        other_line=other_line,
        tariff=tariff,
        archived=archived,
        pack=pack,
        addon=addon,
        rival=rival,
        records=records,
    )


@pytest.fixture
def api(client: Client) -> Client:
    return client
