"""Factories of the payments tests: subscribers (a user with a line), card payments, signed webhooks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from selfcare.identity.models import User
from selfcare.kit import clock
from selfcare.ledger.queries import get_balance_minor
from selfcare.lines.models import Line
from selfcare.payments import services
from selfcare.payments.models import FakeAcquirerWebhook, Payment
from selfcare.payments.providers.fake import acquirer
from tests.factories import fund, make_line, next_number

SUCCESS = acquirer.SUCCESS_CARD
DECLINE = acquirer.DECLINE_CARD
INSUFFICIENT = acquirer.INSUFFICIENT_FUNDS_CARD
THREE_DS = acquirer.THREE_DS_CARD


def make_subscriber(*, balance_minor: int = 0, tenure_days: int = 0) -> tuple[User, Line]:
    """A subscriber's user and line; `tenure_days` back-dates the line's activation."""
    if tenure_days:
        with clock.frozen(clock.now() - timedelta(days=tenure_days)):
            line = make_line()
    else:
        line = make_line()
    user = User.objects.create_user(username=line.msisdn, msisdn=line.msisdn, language="en")
    if balance_minor:
        fund(line.account.ledger_account, balance_minor)
    return user, line


def balance_of(line: Line) -> int:
    return get_balance_minor(line.account.ledger_account_id)


def start(
    user: User, line: Line | None = None, *, amount_minor: int = 50_000, key: str | None = None, **kw: Any
) -> Payment:
    return services.start_topup(
        user,
        msisdn=(line.msisdn if line is not None else user.msisdn) or "",
        amount_minor=amount_minor,
        idempotency_key=key or f"k-{next_number()}",
        actor=f"user:{user.pk}",
        **kw,
    )


def pay(payment: Payment, card: str = SUCCESS, *, exp_year: int | None = None) -> None:
    """The buyer types a card on the simulator's hosted page."""
    assert payment.provider_payment_id
    acquirer.submit_card(
        payment.provider_payment_id,
        number=card,
        exp_month=12,
        exp_year=exp_year or clock.now().year + 2,
        cvc="123",
    )


def last_hook(payment: Payment) -> FakeAcquirerWebhook:
    return FakeAcquirerWebhook.objects.filter(payment_id=payment.provider_payment_id).order_by("-id")[0]


def signed_webhook(
    hook: FakeAcquirerWebhook,
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    body: bytes | None = None,
) -> tuple[bytes, dict[str, str]]:
    raw = hook.body.encode()
    moment = int(clock.now().timestamp()) if timestamp is None else timestamp
    header = acquirer.signature_header(raw, timestamp=moment, secret=secret)
    return (body if body is not None else raw), {
        "Content-Type": "application/json",
        acquirer.SIGNATURE_HEADER: header,
    }


def notify(hook: FakeAcquirerWebhook, **signing: Any) -> str:
    """Hand one notification to our service the way the webhook view does."""
    body, headers = signed_webhook(hook, **signing)
    return services.receive_webhook("fake", body=body, headers=headers)


def notify_body(body: str) -> str:
    raw = body.encode()
    headers = acquirer.signed_headers(raw)
    return services.receive_webhook("fake", body=raw, headers=headers)


def currency() -> str:
    return str(settings.SELFCARE_CURRENCY)
