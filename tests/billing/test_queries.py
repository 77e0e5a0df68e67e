"""Reads of billing: debts and the black list entry fee."""

from __future__ import annotations

import pytest

from selfcare.billing import queries, services
from selfcare.billing.errors import NotABlackListService
from selfcare.catalog.models import FeePeriod, ServiceKind
from tests.billing.helpers import daily_tariff, line_with_money, service_with_fee
from tests.factories import make_service

pytestmark = pytest.mark.django_db


def test_the_debt_of_an_account_is_the_sum_of_its_unpaid_fees(frozen_clock):
    # Given two lines of one account that could not pay 10.00 and 7.00
    first = line_with_money(daily_tariff(1_000), 0)
    line_with_money(daily_tariff(700), 0, account=first.account)

    # When the job runs
    services.charge_fees()

    # Then the account owes 17.00, listed oldest first
    assert queries.get_debt_minor(first.account_id) == 1_700
    assert [fee.amount_minor for fee in queries.list_unpaid_fees(first.account_id)] == [1_000, 700]
    assert [fee.status for fee in queries.list_fee_charges(line_id=first.pk)] == ["unpaid"]


def test_the_black_list_entry_fee_comes_from_the_service_parameters():
    # Given a black list service with a daily fee and an entry fee of 1.50, and an ordinary option
    black_list = service_with_fee(
        300,
        FeePeriod.DAILY,
        kind=ServiceKind.BLACK_LIST,
        parameters={"capacity": 200, "entry_fee_minor": 150},
    )
    option = make_service()

    # When / Then: the entry fee is the parameter, and other services have none
    assert queries.black_list_entry_fee_minor(black_list.pk) == 150
    with pytest.raises(NotABlackListService):
        queries.black_list_entry_fee_minor(option.pk)


def test_a_black_list_without_an_entry_fee_costs_nothing_per_entry():
    # Given a black list service without the parameter
    black_list = make_service(kind=ServiceKind.BLACK_LIST)

    # When / Then
    assert queries.black_list_entry_fee_minor(black_list.pk) == 0
