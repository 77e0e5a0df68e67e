"""Fixtures of the documents tests: a company with three lines and a March of known charges, the
people of the company in each role, and helpers to run the month close and read a PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
from django.test import Client, TestCase

from selfcare.companies.models import Company, Membership
from selfcare.identity.models import User
from selfcare.kit import clock
from selfcare.ledger import services as ledger
from selfcare.usage import services as usage
from tests.factories import (
    TEST_ACTOR,
    fund,
    make_account,
    make_customer,
    make_line,
    make_region,
    make_system_account,
    next_number,
)
from tests.usage.factories import MB, make_numbering, make_payg_tariff
from tests.usage.factories import usage as record

OFF_NET = "+79161234567"
LANDLINE = "+74951234567"


def at(text: str) -> datetime:
    """A moment in Moscow time."""
    return datetime.fromisoformat(f"{text}+03:00")


@pytest.fixture(autouse=True)
def documents_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SELFCARE_DOCUMENTS_DIR = tmp_path / "documents"
    settings.SELFCARE_PUBLIC_URL = "http://testserver"
    settings.SELFCARE_VAT_RATE_PERCENT = 20
    settings.SELFCARE_OPERATOR_LEGAL_NAME = "Selfcare Mobile LLC"
    settings.SELFCARE_OPERATOR_TAX_ID = "7707083893"
    settings.SELFCARE_OPERATOR_ADDRESS = "1 Tverskaya St, Moscow"
    settings.SELFCARE_OPERATOR_BANK_DETAILS = "Bank 044525225, account 40702810000000000001"
    return tmp_path / "documents"


class CommittingClient(Client):
    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@dataclass
class Firm:
    company: Company
    lines: list[Any]
    people: dict[str, User] = field(default_factory=dict)


def make_company(
    *,
    name: str = "Romashka LLC",
    tax_id: str = "7736207543",
    language: str = "en",
    lines_count: int = 3,
    tariff: Any = None,
    email: str = "office@romashka.example",
) -> Firm:
    customer = make_customer(name=name, kind="organization")
    customer.language = language
    customer.save(update_fields=["language"])
    account = make_account(customer=customer, kind="postpaid", credit_limit_minor=10_000_000)
    company = Company.objects.create(
        customer=customer,
        account=account,
        region=make_region(),
        name=name,
        tax_id=tax_id,
        legal_address="12 Lenina St, Moscow",
        contact_name="Anna Smirnova",
        contact_phone="+79001230000",
        contact_email=email,
        created_at=clock.now(),
    )
    company_lines = [make_line(account=account, tariff=tariff) for _ in range(lines_count)]
    return Firm(company, company_lines)


def add_person(firm: Firm, role: str, *, email: str = "") -> User:
    number = next_number()
    user = User.objects.create_user(username=f"{role}-{number}", email=email or f"{role}{number}@example.com")
    Membership.objects.create(
        company=firm.company,
        user=user,
        role=role,
        line=firm.lines[0] if role == "employee" else None,
        created_at=clock.now(),
    )
    firm.people[role] = user
    return user


def post_fee(firm: Firm, kind: str, amount_minor: int, key: str, revenue: Any) -> None:
    ledger.post_transaction(
        kind,
        legs=[
            ledger.Leg(firm.company.account.ledger_account_id, -amount_minor),
            ledger.Leg(revenue.pk, amount_minor),
        ],
        idempotency_key=f"{key}-{firm.company.pk}",
        actor=TEST_ACTOR,
    )


def build_march(firm: Firm) -> None:
    """February: a payment and a fee (the opening balance). March: fees, services, usage on all three
    lines, a payment. April: a fee after the period."""
    revenue = make_system_account()
    ledger_account = firm.company.account.ledger_account
    a, b, c = (line.msisdn for line in firm.lines)
    with clock.frozen(at("2026-02-10T10:00:00")):
        fund(ledger_account, 200_000)
        post_fee(firm, "tariff_fee", 30_000, "fee-feb", revenue)
    with clock.frozen(at("2026-03-01T03:00:00")):
        post_fee(firm, "tariff_fee", 45_000, "fee-mar-1", revenue)
        post_fee(firm, "tariff_fee", 45_000, "fee-mar-2", revenue)
        post_fee(firm, "tariff_fee", 45_000, "fee-mar-3", revenue)
    with clock.frozen(at("2026-03-05T12:00:00")):
        post_fee(firm, "service_connect_fee", 9_900, "svc-connect", revenue)
        post_fee(firm, "service_fee", 19_900, "svc-fee", revenue)
    with clock.frozen(at("2026-03-10T21:00:00")):
        usage.rate_batch(
            [
                record(a, "voice_out", at("2026-03-10T10:00:00"), duration_s=120, counterparty=OFF_NET),
                record(b, "voice_out", at("2026-03-10T11:00:00"), duration_s=60, counterparty=LANDLINE),
                record(c, "sms_out", at("2026-03-10T12:00:00"), counterparty=OFF_NET),
                record(a, "sms_out", at("2026-03-10T12:30:00"), counterparty=OFF_NET),
                record(b, "data", at("2026-03-10T13:00:00"), volume_bytes=10 * MB),
            ]
        )
    with clock.frozen(at("2026-03-20T09:00:00")):
        fund(ledger_account, 150_000)
        post_fee(firm, "statement_fee", 5_000, "other-charge", revenue)
    with clock.frozen(at("2026-03-28T22:00:00")):
        usage.rate_batch(
            [
                record(c, "voice_out", at("2026-03-28T20:00:00"), duration_s=30, counterparty=OFF_NET),
                record(c, "data", at("2026-03-28T21:00:00"), volume_bytes=5 * MB),
            ]
        )
    with clock.frozen(at("2026-04-01T01:00:00")):
        post_fee(firm, "tariff_fee", 45_000, "fee-apr", revenue)


@pytest.fixture
def zones(db: None) -> Any:
    return make_numbering()


@pytest.fixture
def firm(zones: Any) -> Firm:
    with clock.frozen(at("2026-02-01T09:00:00")):
        made = make_company(tariff=make_payg_tariff(zones))
        for role in ("admin", "accountant", "viewer", "employee"):
            add_person(made, role)
    build_march(made)
    return made


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def web_for(user: User | None, language: str = "en") -> CommittingClient:
    client = CommittingClient(REMOTE_ADDR="192.0.2.30", HTTP_USER_AGENT="pytest")
    if user is not None:
        client.force_login(user)
    client.cookies["django_language"] = language
    return client
