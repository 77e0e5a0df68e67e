"""Factories shared by every test suite: plain functions with sensible defaults and unique codes.

Catalog rows have no service layer (staff edit them in the back office), so they are created with the
ORM; customers, accounts, lines and ledger accounts go through their services like production code.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from django.conf import settings

from selfcare.catalog.models import FeePeriod, Region, Service, ServiceKind, Tariff
from selfcare.ledger import services as ledger
from selfcare.ledger.models import LedgerAccount
from selfcare.lines import services as lines
from selfcare.lines.models import Account, AccountKind, Customer, Line

_sequence = itertools.count(1)

TEST_ACTOR = "test"


def next_number() -> int:
    """A process-wide unique number for codes, ICCIDs and MSISDNs."""
    return next(_sequence)


def unique_msisdn() -> str:
    # +7 900 ... is a valid Russian mobile range; the suffix keeps numbers unique within a run.
    return f"+7900{next_number() % 10_000_000:07d}"


def unique_iccid() -> str:
    return f"8970100{next_number():012d}"


def make_region(*, code: str | None = None, name: dict[str, str] | None = None) -> Region:
    code = code or f"region-{next_number()}"
    return Region.objects.create(code=code, name=name or {"en": code})


def make_tariff(
    *,
    code: str | None = None,
    name: dict[str, str] | None = None,
    fee_minor: int = 0,
    fee_period: str = FeePeriod.MONTHLY,
    is_open: bool = True,
    is_active: bool = True,
) -> Tariff:
    code = code or f"tariff-{next_number()}"
    return Tariff.objects.create(
        code=code,
        name=name or {"en": f"Tariff {code}"},
        fee_minor=fee_minor,
        fee_period=fee_period,
        is_open=is_open,
        is_active=is_active,
    )


def make_service(
    *,
    code: str | None = None,
    name: dict[str, str] | None = None,
    kind: str = ServiceKind.GENERIC,
    connect_fee_minor: int = 0,
    fee_minor: int = 0,
    fee_period: str = FeePeriod.NONE,
    is_open: bool = True,
    is_active: bool = True,
    allowed_tariffs: Iterable[Tariff] = (),
    requires: Iterable[Service] = (),
    excludes: Iterable[Service] = (),
    parameters: dict[str, object] | None = None,
) -> Service:
    code = code or f"service-{next_number()}"
    service = Service.objects.create(
        code=code,
        name=name or {"en": f"Service {code}"},
        kind=kind,
        connect_fee_minor=connect_fee_minor,
        fee_minor=fee_minor,
        fee_period=fee_period,
        is_open=is_open,
        is_active=is_active,
        parameters=parameters or {},
    )
    service.allowed_tariffs.set(list(allowed_tariffs))
    service.requires.set(list(requires))
    service.excludes.set(list(excludes))
    return service


def make_customer(*, name: str = "Ivan Petrov", kind: str = "individual") -> Customer:
    return lines.create_customer(name=name, kind=kind, actor=TEST_ACTOR)


def make_account(
    *,
    customer: Customer | None = None,
    kind: str = AccountKind.PREPAID,
    credit_limit_minor: int = 0,
) -> Account:
    return lines.open_account(
        customer or make_customer(), actor=TEST_ACTOR, kind=kind, credit_limit_minor=credit_limit_minor
    )


def make_line(
    *,
    account: Account | None = None,
    tariff: Tariff | None = None,
    msisdn: str | None = None,
    iccid: str | None = None,
    puk: str = "",
    region: Region | None = None,
) -> Line:
    return lines.activate_line(
        account or make_account(),
        msisdn=msisdn or unique_msisdn(),
        iccid=iccid or unique_iccid(),
        tariff=tariff or make_tariff(),
        puk=puk,
        region=region,
        actor=TEST_ACTOR,
    )


def make_system_account(code: str | None = None, *, currency: str | None = None) -> LedgerAccount:
    """A ledger account without a floor (revenue, clearing, adjustments)."""
    return ledger.open_account(
        code or f"system:test-{next_number()}",
        kind="system",
        currency=currency or settings.SELFCARE_CURRENCY,
    )


def make_ledger_customer(
    code: str | None = None,
    *,
    floor_minor: int = 0,
    overdraft_minor: int = 0,
    currency: str | None = None,
) -> LedgerAccount:
    """A bare customer ledger account (no Customer/Account rows) for tests of the ledger alone."""
    return ledger.open_account(
        code or f"customer:test-{next_number()}",
        kind="customer",
        currency=currency or settings.SELFCARE_CURRENCY,
        floor_minor=floor_minor,
        overdraft_minor=overdraft_minor,
    )


def fund(account: LedgerAccount, amount_minor: int, *, source: LedgerAccount | None = None) -> None:
    """Put money on a ledger account from a system account (a top-up)."""
    source = source or make_system_account()
    ledger.post_transaction(
        "topup",
        legs=[ledger.Leg(account.pk, amount_minor), ledger.Leg(source.pk, -amount_minor)],
        idempotency_key=f"test-fund-{next_number()}",
        actor=TEST_ACTOR,
    )
