"""The one TMF write: a top-up (TMF654 createTopupBalance), started exactly as /api/v1's top-up is.

The money moves only when the provider confirms the payment (payments.services, its webhook and the
ledger); this module checks that the TMF request names the caller's own money balance, converts the
amount and hands over to payments.services.start_topup, which is idempotent by the Idempotency-Key.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from selfcare.identity.services import actor_of
from selfcare.kit.money import InvalidAmount, parse_money
from selfcare.lines import queries as lines_queries
from selfcare.payments import services as payments_services
from selfcare.tmf.errors import InvalidTopupAmount, NotMonetary, UnknownBalance, WrongCurrency
from selfcare.tmf.queries import MONETARY, Links, Subscriber, topup_balance
from selfcare.tmf.schemas import TopupBalance, TopupBalanceCreate


def _amount_minor(amount: float, currency: str) -> int:
    # The JSON number as written (repr is the shortest text that reads back as the same number), then
    # parsed as money: more decimals than the currency has are refused, never rounded.
    text = format(Decimal(repr(amount)), "f")
    try:
        return parse_money(text, currency)
    except InvalidAmount:
        raise InvalidTopupAmount(currency=currency) from None


def create_topup(
    user: Any, sub: Subscriber, links: Links, body: TopupBalanceCreate, *, key: str
) -> TopupBalance:
    if body.usageType != MONETARY:
        raise NotMonetary()
    if body.bucket.id != sub.money_bucket_id or body.partyAccount.id != sub.account_number:
        raise UnknownBalance()
    if body.amount.units is not None and body.amount.units.upper() != sub.currency:
        raise WrongCurrency(currency=sub.currency)
    amount_minor = _amount_minor(body.amount.amount, sub.currency)
    msisdn = sub.msisdn
    if body.logicalResource:
        # Another number of the same account may be named; anything else is not the caller's balance.
        wanted = body.logicalResource[0].id
        if len(body.logicalResource) > 1 or wanted not in lines_queries.list_account_numbers(sub.msisdn):
            raise UnknownBalance()
        msisdn = wanted
    payment = payments_services.start_topup(
        user, msisdn=msisdn, amount_minor=amount_minor, idempotency_key=key, actor=actor_of(user)
    )
    return topup_balance(payment, sub, links)
