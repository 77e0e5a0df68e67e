"""A top-up pays what the line owes and unblocks it at once, not at the next billing sweep."""

from __future__ import annotations

import pytest

from selfcare.billing import services as billing
from selfcare.billing.models import FeeCharge
from selfcare.lines import services as lines
from selfcare.lines.models import Line
from tests.billing.helpers import TEST_ACTOR, daily_tariff
from tests.payments.factories import balance_of, last_hook, make_subscriber, notify, pay, start

pytestmark = pytest.mark.django_db


def test_a_credited_top_up_settles_the_debt_and_unblocks_the_line(
    frozen_clock, django_capture_on_commit_callbacks
):
    # Given a subscriber on a daily fee of 10.00 with 4.00, blocked for debt by today's fee run
    user, line = make_subscriber(balance_minor=400)
    lines.assign_tariff(line, tariff=daily_tariff(1_000), actor=TEST_ACTOR)
    billing.charge_fees()
    assert Line.objects.get(pk=line.pk).status == "blocked_debt"

    # When a top-up of 100.00 is paid and its verified notification arrives (and commits)
    payment = start(user, amount_minor=10_000)
    pay(payment)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = notify(last_hook(payment))

    # Then the fee is charged once, the line is active again, and the balance is 400 + 10000 - 1000
    assert outcome == "credited"
    assert Line.objects.get(pk=line.pk).status == "active"
    assert list(FeeCharge.objects.filter(line=line).values_list("amount_minor", "status")) == [
        (1_000, "charged")
    ]
    assert balance_of(line) == 9_400
