"""Subscribers of the cabinet tests: a user with a line on a bundle tariff, money, buckets and usage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from selfcare.billing import services as billing
from selfcare.catalog.models import Service, Zone
from selfcare.identity.models import User
from selfcare.lines.models import Line
from selfcare.usage import services as usage_services
from tests.factories import fund, make_account, make_customer, make_line, make_service
from tests.usage.factories import make_bundle_tariff, usage

__all__ = ["make_black_list_service", "make_subscriber", "rate", "usage"]


def make_subscriber(
    zones: dict[str, Zone],
    *,
    balance_minor: int = 100_000,
    tariff: Any = None,
    name: str = "Anna Smirnova",
    language: str = "en",
    charge_fees: bool = True,
) -> tuple[User, Line]:
    """A signed-up subscriber whose line is on a bundle tariff (450.00 a month, 300 min, 100 SMS,
    10 GB), funded with `balance_minor` and, by default, charged this month's fee, with buckets."""
    tariff = tariff or make_bundle_tariff(zones)
    line = make_line(account=make_account(customer=make_customer(name=name)), tariff=tariff)
    user = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn, language=language)
    if balance_minor:
        fund(line.account.ledger_account, balance_minor)
    if charge_fees:
        billing.charge_fees()
    usage_services.grant_buckets(line)
    line.refresh_from_db()
    return user, line


def make_black_list_service(**overrides: Any) -> Service:
    """The Black list as the demo has it: 1.50 a day, 10.00 per number, up to 200 numbers."""
    fields: dict[str, Any] = {
        "code": "black-list",
        "name": {"en": "Black list", "ru": "Чёрный список", "fa": "لیست سیاه"},
        "kind": "black_list",
        "fee_minor": 150,
        "fee_period": "daily",
        "parameters": {"capacity": 200, "entry_fee_minor": 1000},
    }
    fields.update(overrides)
    return make_service(**fields)


def rate(*records: Any) -> None:
    result = usage_services.rate_batch(list(records))
    assert result.rejected == 0, result


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
