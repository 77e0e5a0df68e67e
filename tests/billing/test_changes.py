"""Tariff changes, service connections and the black list with their money (billing/changes.py).

The clock is frozen at 2026-03-02 09:00 Moscow time: March has 31 days and 30 of them are left, so a
monthly fee of 310.00 is prorated to 300.00. Every refused change asserts that nothing changed:
balance, tariff and service assignments, buckets, fee rows, ledger rows, change rows, audit rows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from selfcare.billing import changes
from selfcare.billing import queries as billing_queries
from selfcare.billing import services as billing_services
from selfcare.billing.errors import (
    ChangeKeyReused,
    InsufficientBalance,
    InvalidRequestKey,
    LineBlockedBySubscriber,
    LineBlockedForDebt,
    TariffAlreadyCurrent,
    TariffClosed,
    TariffIncompatibleService,
)
from selfcare.billing.models import ProductChange
from selfcare.catalog.models import Allowance, FeePeriod, ServiceKind, Tariff
from selfcare.identity.models import AuditEvent
from selfcare.kit.errors import BusinessError
from selfcare.ledger.models import Posting, Transaction
from selfcare.ledger.queries import verify_ledger
from selfcare.lines import services as lines_services
from selfcare.lines.errors import (
    BlackListDuplicate,
    BlackListEntryNotFound,
    BlackListFull,
    BlackListOwnNumber,
    InvalidNumber,
    ServiceAlreadyConnected,
    ServiceClosed,
    ServiceExcludes,
    ServiceNotConnected,
    ServiceNotForTariff,
    ServiceRequiredBy,
    ServiceRequires,
)
from selfcare.lines.models import BlackListEntry, Line, ServiceAssignment, TariffAssignment
from selfcare.usage.models import Bucket
from selfcare.usage.queries import list_line_buckets
from tests.billing.helpers import balance_of, fees_of, line_with_money, status_of
from tests.concurrency import run_in_threads
from tests.factories import make_service, make_tariff
from tests.usage.factories import GB

pytestmark = pytest.mark.django_db

USER = "user:1"


# --- Builders -----------------------------------------------------------------------------------------


def tariff(
    fee_minor: int = 31_000,
    period: str = FeePeriod.MONTHLY,
    *,
    change_fee_minor: int = 0,
    voice_s: int = 0,
    data_bytes: int = 0,
    **kwargs: Any,
) -> Tariff:
    made = make_tariff(fee_minor=fee_minor, fee_period=period, **kwargs)
    if change_fee_minor:
        Tariff.objects.filter(pk=made.pk).update(change_fee_minor=change_fee_minor)
        made.refresh_from_db()
    if voice_s:
        Allowance.objects.create(tariff=made, usage_kind="voice", amount=voice_s)
    if data_bytes:
        Allowance.objects.create(tariff=made, usage_kind="data", amount=data_bytes)
    return made


def service(
    *,
    connect_fee_minor: int = 0,
    fee_minor: int = 0,
    period: str = FeePeriod.NONE,
    data_bytes: int = 0,
    **kwargs: Any,
) -> Any:
    made = make_service(connect_fee_minor=connect_fee_minor, fee_minor=fee_minor, fee_period=period, **kwargs)
    if data_bytes:
        Allowance.objects.create(service=made, usage_kind="data", amount=data_bytes)
    return made


def black_list_service(*, capacity: int = 200, entry_fee_minor: int = 1_000, **kwargs: Any) -> Any:
    kwargs.setdefault("connect_fee_minor", 500)
    kwargs.setdefault("fee_minor", 150)
    kwargs.setdefault("period", FeePeriod.DAILY)
    return service(
        kind=ServiceKind.BLACK_LIST,
        parameters={"capacity": capacity, "entry_fee_minor": entry_fee_minor},
        **kwargs,
    )


def snapshot(line: Line) -> dict[str, Any]:
    """Everything a refused change must leave as it was."""
    return {
        "balance": balance_of(line),
        "status": status_of(line),
        "tariff": Line.objects.values_list("tariff_id", flat=True).get(pk=line.pk),
        "tariff assignments": list(
            TariffAssignment.objects.filter(line=line).order_by("id").values_list("tariff_id", "ended_at")
        ),
        "service assignments": list(
            ServiceAssignment.objects.filter(line=line)
            .order_by("id")
            .values_list("service_id", "disconnected_at")
        ),
        "buckets": list(Bucket.objects.filter(line_id=line.pk).order_by("id").values_list("id", "remaining")),
        "fees": fees_of(line),
        "transactions": Transaction.objects.count(),
        "postings": Posting.objects.count(),
        "changes": ProductChange.objects.filter(line=line).count(),
        "black list": sorted(BlackListEntry.objects.filter(line=line).values_list("msisdn", flat=True)),
        "audit": AuditEvent.objects.count(),
    }


def refused(call: Any, error: type[BusinessError]) -> BusinessError:
    with pytest.raises(error) as caught:
        call()
    return caught.value


def key() -> str:
    return f"k-{ProductChange.objects.count()}-{Transaction.objects.count()}"


# --- Tariff change: money -----------------------------------------------------------------------------


def test_a_monthly_tariff_is_charged_from_the_change_prorated_and_the_fee_job_does_not_charge_it_again(
    frozen_clock,
):
    # Given a line on a 100.00 monthly tariff, its March paid (96.77), with 403.23 left
    old = tariff(10_000)
    line = line_with_money(old, 50_000)
    billing_services.charge_fees(actor="test")
    assert balance_of(line) == 40_323
    new = tariff(31_000)

    # When a change to a tariff of 310.00 a month is previewed on 2 March and then applied
    preview = changes.preview_tariff_change(line, tariff=new)
    applied = changes.change_tariff(line, tariff=new, actor=USER, idempotency_key="change-1")

    # Then 30 of March's 31 days are charged now: 300.00, and the preview said exactly that
    assert preview == applied
    assert (applied.allowed, applied.refusal_code) == (True, "")
    assert (applied.fee_today_minor, applied.change_fee_minor, applied.total_minor) == (30_000, 0, 30_000)
    assert (applied.balance_before_minor, applied.balance_after_minor) == (40_323, 10_323)
    assert applied.effective_at == frozen_clock.now()
    assert balance_of(line) == 10_323
    # as an ordinary fee of the period (the old tariff's month stays paid), on the new tariff from now
    assert fees_of(line) == [
        ("2026-03-01", old.pk, "tariff", 9_677, "charged"),
        ("2026-03-01", new.pk, "tariff", 30_000, "charged"),
    ]
    txn = Transaction.objects.filter(kind="tariff_fee").latest("id")
    assert txn.idempotency_key == f"fee:{line.pk}:tariff:{new.pk}:2026-03-01"
    assert Line.objects.get(pk=line.pk).tariff_id == new.pk
    assert list(
        TariffAssignment.objects.filter(line=line).order_by("id").values_list("tariff_id", "ended_at")
    ) == [(old.pk, frozen_clock.now()), (new.pk, None)]

    # When the fee job runs again today, then it charges nothing more for the month
    result = billing_services.charge_fees(actor="test")
    assert result.charged == 0
    assert balance_of(line) == 10_323
    assert verify_ledger().ok


def test_a_daily_tariff_is_charged_for_the_whole_day(frozen_clock):
    # Given a line on a daily tariff with 50.00 and another daily tariff of 20.00
    line = line_with_money(tariff(1_000, FeePeriod.DAILY), 5_000)
    new = tariff(2_000, FeePeriod.DAILY)

    # When it changes
    applied = changes.change_tariff(line, tariff=new, actor=USER, idempotency_key="daily")

    # Then today's fee is charged in full and the notes say what comes next
    assert (applied.fee_today_minor, applied.total_minor, applied.balance_after_minor) == (
        2_000,
        2_000,
        3_000,
    )
    assert balance_of(line) == 3_000
    assert applied.notes[1:3] == [
        f"RUB20.00 is charged now for {new.display_name} for today.",
        "After that: RUB20.00 a day.",
    ]


def test_the_change_fee_applies_only_within_the_window_after_the_previous_change(frozen_clock, settings):
    # Given a line (its activation is not a change) and tariffs with change fees of 50.00 and 70.00
    line = line_with_money(tariff(0, FeePeriod.NONE), 100_000)
    first = tariff(0, FeePeriod.NONE, change_fee_minor=5_000)
    second = tariff(0, FeePeriod.NONE, change_fee_minor=7_000)
    third = tariff(0, FeePeriod.NONE, change_fee_minor=7_000)

    # When it changes tariff for the first time: no change fee
    assert changes.change_tariff(line, tariff=first, actor=USER, idempotency_key="c1").change_fee_minor == 0

    # When it changes again 10 days later: the 70.00 change fee of the new tariff, in its own transaction
    frozen_clock.advance(timedelta(days=10))
    preview = changes.preview_tariff_change(line, tariff=second)
    applied = changes.change_tariff(line, tariff=second, actor=USER, idempotency_key="c2")
    assert (preview.change_fee_minor, applied.change_fee_minor, applied.total_minor) == (7_000, 7_000, 7_000)
    assert balance_of(line) == 93_000
    fee_txn = Transaction.objects.get(kind="tariff_change_fee")
    assert fee_txn.idempotency_key == f"change:{line.pk}:c2:change-fee"
    assert (fee_txn.cause_type, fee_txn.cause_id) == (
        "product_change",
        str(ProductChange.objects.latest("id").pk),
    )
    assert any("change fee" in note for note in applied.notes)

    # When it changes 30 days after that: outside the 30-day window, no change fee
    frozen_clock.advance(timedelta(days=30))
    assert changes.change_tariff(line, tariff=third, actor=USER, idempotency_key="c3").change_fee_minor == 0

    # and the window is a setting: with 5 days, a change 10 days after the previous is free
    settings.SELFCARE_TARIFF_CHANGE_FEE_WINDOW_DAYS = 5
    frozen_clock.advance(timedelta(days=10))
    assert changes.preview_tariff_change(line, tariff=second).change_fee_minor == 0
    assert balance_of(line) == 93_000


def test_the_old_tariffs_allowance_ends_at_the_change_and_comes_back_if_the_line_returns(frozen_clock):
    # Given a line on a bundle (300 minutes) that used 100 minutes, and another bundle with 10 GB
    old = tariff(0, FeePeriod.MONTHLY, voice_s=300 * 60)
    new = tariff(0, FeePeriod.MONTHLY, data_bytes=10 * GB)
    line = line_with_money(old, 10_000)
    from selfcare.usage.services import grant_buckets

    grant_buckets(line)
    Bucket.objects.filter(line_id=line.pk).update(remaining=200 * 60)

    # When it changes to the new bundle
    changes.change_tariff(line, tariff=new, actor=USER, idempotency_key="to-new")

    # Then only the new tariff's allowance is there, in full, at once
    assert [(b.usage_kind, b.remaining, b.tariff_id) for b in list_line_buckets(line.pk)] == [
        ("data", 10 * GB, new.pk)
    ]

    # When it changes back in the same month: what was left of the old bundle comes back, not a new one
    changes.change_tariff(line, tariff=old, actor=USER, idempotency_key="back")
    assert [(b.usage_kind, b.remaining, b.tariff_id) for b in list_line_buckets(line.pk)] == [
        ("voice", 200 * 60, old.pk)
    ]
    assert Bucket.objects.filter(line_id=line.pk).count() == 2


def test_returning_to_a_tariff_paid_for_this_month_charges_nothing_for_the_month(frozen_clock):
    # Given a line that changed from A (100.00) to B (310.00) today, with 500.00 before the change
    a = tariff(10_000)
    line = line_with_money(a, 50_000)
    b = tariff(31_000)
    billing_services.charge_fees(actor="test")  # A's March: 100.00 * 30 / 31 = 96.77
    changes.change_tariff(line, tariff=b, actor=USER, idempotency_key="to-b")
    assert balance_of(line) == 50_000 - 9_677 - 30_000

    # When it changes back to A the same day
    preview = changes.preview_tariff_change(line, tariff=a)
    changes.change_tariff(line, tariff=a, actor=USER, idempotency_key="to-a")

    # Then A's March is already paid: nothing is charged, and the notes say so
    assert (preview.fee_today_minor, preview.total_minor) == (0, 0)
    assert any("already paid" in note for note in preview.notes)
    assert balance_of(line) == 50_000 - 9_677 - 30_000


# --- Tariff change: refusals ----------------------------------------------------------------------------


def test_a_closed_tariff_is_not_offered_and_refused(frozen_clock):
    # Given a line, an open tariff and a closed one
    line = line_with_money(tariff(), 100_000)
    open_one = tariff()
    closed = tariff(is_open=False)
    before = snapshot(line)

    # When the offer is listed, then the closed tariff is not in it (the current one is, to compare)
    offered = billing_queries.list_tariffs_for_change(line)
    assert {c.tariff.pk: (c.is_current, c.can_choose) for c in offered} == {
        line.tariff_id: (True, False),
        open_one.pk: (False, True),
    }

    # When the closed tariff is previewed or asked for, then it is refused and nothing changes
    preview = changes.preview_tariff_change(line, tariff=closed)
    assert (preview.allowed, preview.refusal_code) == (False, "tariff_closed")
    assert preview.refusal_message == "This tariff is closed: it cannot be chosen any more."
    refused(lambda: changes.change_tariff(line, tariff=closed, actor=USER, idempotency_key="x"), TariffClosed)
    assert snapshot(line) == before


def test_the_current_tariff_is_refused(frozen_clock):
    line = line_with_money(tariff(), 100_000)
    before = snapshot(line)
    current = Tariff.objects.get(pk=line.tariff_id)
    assert changes.preview_tariff_change(line, tariff=current).refusal_code == "tariff_already_current"
    refused(
        lambda: changes.change_tariff(line, tariff=current, actor=USER, idempotency_key="x"),
        TariffAlreadyCurrent,
    )
    assert snapshot(line) == before


def test_not_enough_money_is_refused_with_the_missing_amount(frozen_clock):
    # Given a line with 250.00 and a tariff whose rest of March costs 300.00
    line = line_with_money(tariff(), 25_000)
    expensive = tariff(31_000)
    before = snapshot(line)

    # When it is previewed, then the preview says what is missing
    preview = changes.preview_tariff_change(line, tariff=expensive)
    assert (preview.allowed, preview.refusal_code, preview.total_minor) == (
        False,
        "insufficient_balance",
        30_000,
    )
    assert preview.balance_after_minor == 25_000
    assert preview.refusal_message == "There is not enough money on the balance: you need RUB50.00 more."

    # When it is asked for, then it is refused with the same message and nothing changes
    error = refused(
        lambda: changes.change_tariff(line, tariff=expensive, actor=USER, idempotency_key="x"),
        InsufficientBalance,
    )
    assert error.render_message() == preview.refusal_message
    assert snapshot(line) == before


def test_a_tariff_a_connected_service_does_not_allow_is_refused(frozen_clock):
    # Given a line with a roaming option allowed only on its current tariff
    line = line_with_money(tariff(), 100_000)
    option = service(name={"en": "Roaming+"}, allowed_tariffs=[Tariff.objects.get(pk=line.tariff_id)])
    lines_services.connect_service(line, service=option, actor=USER)
    other = tariff()
    before = snapshot(line)

    # When it changes to a tariff the option does not allow, then it is refused and nothing changes
    preview = changes.preview_tariff_change(line, tariff=other)
    assert preview.refusal_message == "Roaming+ does not work with this tariff: disconnect it first."
    refused(
        lambda: changes.change_tariff(line, tariff=other, actor=USER, idempotency_key="x"),
        TariffIncompatibleService,
    )
    assert snapshot(line) == before


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        ("blocked_debt", LineBlockedForDebt, "line_blocked_for_debt"),
        ("blocked_subscriber", LineBlockedBySubscriber, "line_blocked_by_subscriber"),
    ],
)
def test_a_blocked_line_cannot_change_what_costs_money(frozen_clock, status, error, code):
    line = line_with_money(tariff(), 100_000)
    lines_services.set_line_status(line, status=status, actor="test")
    other = tariff()
    option = service(connect_fee_minor=100)
    black = black_list_service()
    before = snapshot(line)

    assert changes.preview_tariff_change(line, tariff=other).refusal_code == code
    assert changes.preview_service_connect(line, service=option).refusal_code == code
    assert changes.preview_black_list_add(line, number="+79161234567").refusal_code == code
    refused(lambda: changes.change_tariff(line, tariff=other, actor=USER, idempotency_key="a"), error)
    refused(lambda: changes.connect_service(line, service=option, actor=USER, idempotency_key="b"), error)
    refused(
        lambda: changes.add_black_list_number(line, number="+79161234567", actor=USER, idempotency_key="c"),
        error,
    )
    assert snapshot(line) == before
    assert black.pk


# --- Idempotency -------------------------------------------------------------------------------------------


def test_a_repeated_change_returns_the_first_result_and_charges_once(frozen_clock):
    # Given a line that changed its tariff with a key
    line = line_with_money(tariff(), 50_000)
    new = tariff(31_000)
    first = changes.change_tariff(line, tariff=new, actor=USER, idempotency_key="same")
    after_first = snapshot(line)

    # When the same request comes again (a retry), then it returns the same result and changes nothing
    again = changes.change_tariff(line, tariff=new, actor=USER, idempotency_key="same")
    assert again == first
    assert snapshot(line) == after_first

    # When the key is reused for another change, then it is refused
    refused(
        lambda: changes.change_tariff(line, tariff=tariff(), actor=USER, idempotency_key="same"),
        ChangeKeyReused,
    )
    refused(
        lambda: changes.connect_service(line, service=service(), actor=USER, idempotency_key="same"),
        ChangeKeyReused,
    )
    assert snapshot(line) == after_first


def test_an_invalid_idempotency_key_is_refused(frozen_clock):
    line = line_with_money(tariff(), 50_000)
    before = snapshot(line)
    refused(
        lambda: changes.change_tariff(line, tariff=tariff(), actor=USER, idempotency_key=""),
        InvalidRequestKey,
    )
    refused(
        lambda: changes.change_tariff(line, tariff=tariff(), actor=USER, idempotency_key="bad key"),
        InvalidRequestKey,
    )
    assert snapshot(line) == before


def test_a_long_idempotency_key_gives_ledger_keys_within_their_limit(frozen_clock):
    line = line_with_money(tariff(), 50_000)
    long_key = "k" * 200
    changes.connect_service(
        line, service=service(connect_fee_minor=700), actor=USER, idempotency_key=long_key
    )
    txn = Transaction.objects.get(kind="service_connect_fee")
    assert len(txn.idempotency_key) <= 200
    assert (
        changes.connect_service(
            line,
            service=ServiceAssignment.objects.get(line=line).service,
            actor=USER,
            idempotency_key=long_key,
        ).total_minor
        == 700
    )
    assert Transaction.objects.filter(kind="service_connect_fee").count() == 1


# --- Services -----------------------------------------------------------------------------------------------


def test_connecting_a_monthly_option_charges_its_connection_fee_and_the_rest_of_the_month(frozen_clock):
    # Given a line with 500.00 and a 5 GB option: 30.00 to connect, 155.00 a month
    line = line_with_money(tariff(), 50_000)
    option = service(connect_fee_minor=3_000, fee_minor=15_500, period=FeePeriod.MONTHLY, data_bytes=5 * GB)

    # When it is previewed and connected
    preview = changes.preview_service_connect(line, service=option)
    applied = changes.connect_service(line, service=option, actor=USER, idempotency_key="opt")

    # Then 30.00 once plus 150.00 for March (30 of 31 days) are charged
    assert preview == applied
    assert (applied.fee_today_minor, applied.change_fee_minor, applied.total_minor) == (15_000, 3_000, 18_000)
    assert balance_of(line) == 32_000
    assert fees_of(line) == [("2026-03-01", option.pk, "service", 15_000, "charged")]
    assert sorted(
        Transaction.objects.filter(kind__in=["service_fee", "service_connect_fee"]).values_list(
            "kind", flat=True
        )
    ) == ["service_connect_fee", "service_fee"]
    # and its 5 GB are there at once
    assert [(b.usage_kind, b.remaining) for b in list_line_buckets(line.pk)] == [("data", 5 * GB)]
    assert any("Connection fee" in note for note in applied.notes)
    # and the fee job charges nothing more this month
    assert billing_services.charge_fees(actor="test").charged == 1  # only the tariff's March
    assert fees_of(line) == [
        ("2026-03-01", option.pk, "service", 15_000, "charged"),
        ("2026-03-01", line.tariff_id, "tariff", 30_000, "charged"),
    ]
    assert verify_ledger().ok


def test_each_service_rule_is_refused_with_its_message_and_nothing_changes(frozen_clock):
    # Given a line with a base option connected, and options that break each rule
    line = line_with_money(tariff(), 100_000)
    base = service(name={"en": "Base"})
    lines_services.connect_service(line, service=base, actor=USER)
    needed = service(name={"en": "Needed"})
    cases = [
        (service(is_open=False), ServiceClosed, "This service is closed for connection."),
        (
            service(allowed_tariffs=[tariff()]),
            ServiceNotForTariff,
            "This service is not available on your tariff.",
        ),
        (service(excludes=[base]), ServiceExcludes, "This service cannot work together with Base."),
        (service(requires=[needed]), ServiceRequires, "This service needs Needed to be connected first."),
        (base, ServiceAlreadyConnected, "This service is already connected."),
        (service(connect_fee_minor=100_001), InsufficientBalance, None),
    ]
    before = snapshot(line)

    for option, error, message in cases:
        # When it is previewed or connected, then it is refused with the rule's message
        preview = changes.preview_service_connect(line, service=option)
        assert (preview.allowed, preview.refusal_code) == (False, error.code)
        if message:
            assert preview.refusal_message == message
        refused(
            lambda o=option: changes.connect_service(line, service=o, actor=USER, idempotency_key="x"), error
        )

    # and the list says the same about each
    choices = {c.service.pk: c for c in billing_queries.list_services_for_line(line)}
    assert choices[cases[2][0].pk].refusal_code == "service_excludes"
    assert choices[cases[3][0].pk].refusal_code == "service_requires"
    assert choices[cases[1][0].pk].refusal_code == "service_not_for_tariff"
    assert cases[0][0].pk not in choices  # closed: not offered
    assert (choices[base.pk].connected, choices[base.pk].action, choices[base.pk].allowed) == (
        True,
        "disconnect",
        True,
    )
    assert snapshot(line) == before


def test_the_connection_fee_and_first_period_must_both_be_covered(frozen_clock):
    # Given 100.00 and an option of 30.00 + 75.00 a day
    line = line_with_money(tariff(), 10_000)
    option = service(connect_fee_minor=3_000, fee_minor=7_500, period=FeePeriod.DAILY)
    before = snapshot(line)

    preview = changes.preview_service_connect(line, service=option)
    assert (preview.total_minor, preview.refusal_code) == (10_500, "insufficient_balance")
    assert preview.refusal_message == "There is not enough money on the balance: you need RUB5.00 more."
    refused(
        lambda: changes.connect_service(line, service=option, actor=USER, idempotency_key="x"),
        InsufficientBalance,
    )
    assert snapshot(line) == before


def test_disconnecting_ends_the_allowance_refunds_nothing_and_respects_what_requires_it(frozen_clock):
    # Given a line with a 5 GB monthly option and an add-on that requires it
    line = line_with_money(tariff(), 50_000)
    option = service(name={"en": "Data"}, fee_minor=3_100, period=FeePeriod.MONTHLY, data_bytes=5 * GB)
    addon = service(name={"en": "Add-on"}, requires=[option])
    changes.connect_service(line, service=option, actor=USER, idempotency_key="o")
    changes.connect_service(line, service=addon, actor=USER, idempotency_key="a")
    before = snapshot(line)

    # When the option is disconnected while the add-on needs it, then it is refused
    preview = changes.preview_service_disconnect(line, service=option)
    assert preview.refusal_message == "This service cannot be disconnected while Add-on is connected."
    refused(
        lambda: changes.disconnect_service(line, service=option, actor=USER, idempotency_key="x"),
        ServiceRequiredBy,
    )
    refused(
        lambda: changes.disconnect_service(line, service=service(), actor=USER, idempotency_key="y"),
        ServiceNotConnected,
    )
    assert snapshot(line) == before

    # When the add-on and then the option are disconnected
    changes.disconnect_service(line, service=addon, actor=USER, idempotency_key="d1")
    applied = changes.disconnect_service(line, service=option, actor=USER, idempotency_key="d2")

    # Then nothing is charged or refunded, and the option's data is gone at once
    assert (applied.total_minor, applied.balance_after_minor) == (0, balance_of(line))
    assert balance_of(line) == before["balance"]
    assert list_line_buckets(line.pk) == []
    assert any("not refunded" in note for note in applied.notes)
    assert any("ends now" in note for note in applied.notes)


def test_reconnecting_in_the_same_month_does_not_charge_the_month_again_nor_renew_the_allowance(frozen_clock):
    # Given a line that connected a 5 GB monthly option (31.00 a month, 5.00 to connect) and used 4 GB
    line = line_with_money(tariff(), 50_000)
    option = service(connect_fee_minor=500, fee_minor=3_100, period=FeePeriod.MONTHLY, data_bytes=5 * GB)
    changes.connect_service(line, service=option, actor=USER, idempotency_key="c1")
    Bucket.objects.filter(line_id=line.pk).update(remaining=1 * GB)
    changes.disconnect_service(line, service=option, actor=USER, idempotency_key="d1")
    balance = balance_of(line)

    # When it is connected again an hour later
    frozen_clock.advance(timedelta(hours=1))
    preview = changes.preview_service_connect(line, service=option)
    applied = changes.connect_service(line, service=option, actor=USER, idempotency_key="c2")

    # Then only the connection fee is charged, and the 1 GB left is what it has
    assert (preview.fee_today_minor, preview.change_fee_minor) == (0, 500)
    assert (applied.fee_today_minor, applied.change_fee_minor) == (0, 500)
    assert balance_of(line) == balance - 500
    assert [(b.usage_kind, b.remaining) for b in list_line_buckets(line.pk)] == [("data", 1 * GB)]
    assert any("already paid" in note for note in applied.notes)


def test_a_pack_bought_again_gets_a_fresh_allowance(frozen_clock):
    # Given a 30-day pack of 3 GB for 200.00, used up and bought again
    line = line_with_money(tariff(), 50_000)
    pack = service(connect_fee_minor=20_000, data_bytes=3 * GB)
    Service = type(pack)
    Service.objects.filter(pk=pack.pk).update(validity_days=30)
    pack.refresh_from_db()
    changes.connect_service(line, service=pack, actor=USER, idempotency_key="p1")
    Bucket.objects.filter(line_id=line.pk).update(remaining=0)
    changes.disconnect_service(line, service=pack, actor=USER, idempotency_key="p2")
    frozen_clock.advance(timedelta(minutes=5))

    # When it is bought again, then it costs 200.00 again and brings 3 GB
    applied = changes.connect_service(line, service=pack, actor=USER, idempotency_key="p3")
    assert applied.total_minor == 20_000
    assert balance_of(line) == 10_000
    assert [(b.usage_kind, b.remaining) for b in list_line_buckets(line.pk)] == [("data", 3 * GB)]


def test_every_change_writes_an_audit_row_with_the_money(frozen_clock):
    line = line_with_money(tariff(), 50_000)
    option = service(connect_fee_minor=700)
    changes.connect_service(line, service=option, actor=USER, idempotency_key="audit")
    event = AuditEvent.objects.get(action="billing.change.connect")
    assert (event.actor, event.subject_type, event.subject_id) == (USER, "line", str(line.pk))
    assert event.before["balance_minor"] == 50_000
    assert (event.after["change_fee_minor"], event.after["balance_minor"]) == (700, 49_300)


def test_history_lists_the_changes_with_their_money(frozen_clock):
    line = line_with_money(tariff(), 50_000)
    new = tariff(3_100)
    option = service(connect_fee_minor=700)
    changes.change_tariff(line, tariff=new, actor=USER, idempotency_key="h1")
    changes.connect_service(line, service=option, actor=USER, idempotency_key="h2")
    history = billing_queries.list_product_changes(line.pk)
    assert [(c.action, c.product_id, c.total_minor) for c in history] == [
        ("connect", option.pk, 700),
        ("tariff", new.pk, 3_000),
    ]
    from selfcare.lines import queries as lines_queries

    assert [a.tariff_id for a in lines_queries.list_tariff_history(line.pk)] == [new.pk, line.tariff_id]
    assert [a.service_id for a in lines_queries.list_service_history(line.pk)] == [option.pk]


# --- Black list ---------------------------------------------------------------------------------------------


def test_the_first_number_connects_the_black_list_with_its_fees(frozen_clock):
    # Given a line with 100.00 and the Black list: 5.00 to connect, 1.50 a day, 10.00 a number
    line = line_with_money(tariff(), 10_000)
    black = black_list_service()

    # When a number typed the local way is previewed and added with a note
    preview = changes.preview_black_list_add(line, number="8 (916) 123-45-67")
    entry = changes.add_black_list_number(
        line, number="8 (916) 123-45-67", note="spam", actor=USER, idempotency_key="bl1"
    )

    # Then the service is connected, its fees and the entry fee are charged, the number is E.164
    assert (preview.fee_today_minor, preview.change_fee_minor, preview.total_minor) == (150, 1_500, 1_650)
    assert any("connects" in note for note in preview.notes)
    assert (entry.msisdn, entry.note) == ("+79161234567", "spam")
    assert balance_of(line) == 10_000 - 1_650
    assert ServiceAssignment.objects.filter(line=line, service=black, disconnected_at__isnull=True).exists()
    assert sorted(
        Transaction.objects.filter(
            kind__in=["service_fee", "service_connect_fee", "black_list_entry_fee"]
        ).values_list("kind", flat=True)
    ) == ["black_list_entry_fee", "service_connect_fee", "service_fee"]

    # When a second number is added, then only its entry fee is charged
    second = changes.preview_black_list_add(line, number="+7 495 123 45 67")
    assert (second.fee_today_minor, second.change_fee_minor) == (0, 1_000)
    changes.add_black_list_number(line, number="+7 495 123 45 67", actor=USER, idempotency_key="bl2")
    assert balance_of(line) == 10_000 - 1_650 - 1_000

    # and the list shows both, newest first, with the service on
    black_list = billing_queries.get_black_list(line)
    assert [e.msisdn for e in black_list.entries] == ["+74951234567", "+79161234567"]
    assert (black_list.is_on, black_list.capacity, black_list.entry_fee_minor) == (True, 200, 1_000)


def test_black_list_refusals_change_nothing(frozen_clock):
    # Given a line whose black list (capacity 2) already has one number
    line = line_with_money(tariff(), 100_000)
    black_list_service(capacity=2)
    changes.add_black_list_number(line, number="+79161234567", actor=USER, idempotency_key="first")
    before = snapshot(line)
    cases = [
        ("8 916 123-45-67", BlackListDuplicate, "This number is already on your black list."),
        (line.msisdn, BlackListOwnNumber, "You cannot put your own number on the black list."),
        ("12", InvalidNumber, "This is not a valid phone number."),
    ]
    for number, error, message in cases:
        preview = changes.preview_black_list_add(line, number=number)
        assert (preview.allowed, preview.refusal_code, preview.refusal_message) == (
            False,
            error.code,
            message,
        )
        refused(
            lambda n=number: changes.add_black_list_number(line, number=n, actor=USER, idempotency_key="x"),
            error,
        )
    assert snapshot(line) == before

    # When the list is full, then one more number is refused
    changes.add_black_list_number(line, number="+79161234568", actor=USER, idempotency_key="second")
    full = snapshot(line)
    preview = changes.preview_black_list_add(line, number="+79161234569")
    assert preview.refusal_message == "The black list is full: it holds at most 2 numbers."
    refused(
        lambda: changes.add_black_list_number(line, number="+79161234569", actor=USER, idempotency_key="y"),
        BlackListFull,
    )
    assert snapshot(line) == full


def test_without_a_black_list_service_in_the_catalog_nothing_can_be_added(frozen_clock):
    line = line_with_money(tariff(), 100_000)
    before = snapshot(line)
    assert (
        changes.preview_black_list_add(line, number="+79161234567").refusal_code == "black_list_not_available"
    )
    assert snapshot(line) == before


def test_not_enough_money_for_the_black_list_changes_nothing(frozen_clock):
    line = line_with_money(tariff(), 1_000)
    black_list_service()
    before = snapshot(line)
    preview = changes.preview_black_list_add(line, number="+79161234567")
    assert (preview.total_minor, preview.refusal_code) == (1_650, "insufficient_balance")
    refused(
        lambda: changes.add_black_list_number(line, number="+79161234567", actor=USER, idempotency_key="x"),
        InsufficientBalance,
    )
    assert snapshot(line) == before


def test_a_repeated_add_returns_the_same_entry_and_charges_once(frozen_clock):
    line = line_with_money(tariff(), 10_000)
    black_list_service()
    first = changes.add_black_list_number(line, number="+79161234567", actor=USER, idempotency_key="same")
    state = snapshot(line)
    again = changes.add_black_list_number(line, number="8 916 123 45 67", actor=USER, idempotency_key="same")
    assert again.pk == first.pk
    assert snapshot(line) == state
    refused(
        lambda: changes.add_black_list_number(
            line, number="+79161234599", actor=USER, idempotency_key="same"
        ),
        ChangeKeyReused,
    )


def test_removing_a_number_refunds_nothing_and_only_the_owner_can(frozen_clock):
    line = line_with_money(tariff(), 10_000)
    other = line_with_money(tariff(), 10_000)
    black_list_service()
    entry = changes.add_black_list_number(line, number="+79161234567", actor=USER, idempotency_key="a")
    balance = balance_of(line)

    refused(
        lambda: changes.remove_black_list_number(other, entry_id=entry.pk, actor=USER), BlackListEntryNotFound
    )
    changes.remove_black_list_number(line, entry_id=entry.pk, actor=USER)

    assert BlackListEntry.objects.filter(line=line).count() == 0
    assert balance_of(line) == balance
    assert AuditEvent.objects.filter(action="line.black_list.remove", subject_id=str(line.pk)).count() == 1
    refused(
        lambda: changes.remove_black_list_number(line, entry_id=entry.pk, actor=USER), BlackListEntryNotFound
    )


def test_a_switched_off_black_list_is_kept_30_days_then_purged(frozen_clock):
    # Given a line with two black-listed numbers
    line = line_with_money(tariff(), 100_000)
    black = black_list_service()
    for number in ("+79161234567", "+79161234568"):
        changes.add_black_list_number(line, number=number, actor=USER, idempotency_key=number[1:])

    # When the Black list is switched off
    preview = changes.preview_service_disconnect(line, service=black)
    changes.disconnect_service(line, service=black, actor=USER, idempotency_key="off")

    # Then the numbers are kept for 30 days, and the preview said so
    assert any("kept for 30 days" in note for note in preview.notes)
    kept = billing_queries.get_black_list(line)
    assert (kept.is_on, len(kept.entries), kept.kept_until) == (
        False,
        2,
        frozen_clock.now() + timedelta(days=30),
    )
    frozen_clock.advance(timedelta(days=29))
    assert changes.purge_expired_black_lists() == 0

    # When it is reconnected within the 30 days (by adding a number), then the old numbers come back
    preview = changes.preview_black_list_add(line, number="+79161234569")
    assert any("2 numbers kept" in note for note in preview.notes)

    # When instead 30 days pass, then the job deletes them
    frozen_clock.advance(timedelta(days=2))
    assert changes.purge_expired_black_lists() == 2
    assert BlackListEntry.objects.filter(line=line).count() == 0
    assert AuditEvent.objects.filter(action="line.black_list.purge").count() == 1


def test_the_purge_keeps_lists_whose_service_is_on_or_was_switched_off_recently(frozen_clock):
    on = line_with_money(tariff(), 100_000)
    off = line_with_money(tariff(), 100_000)
    black = black_list_service()
    for line in (on, off):
        changes.add_black_list_number(line, number="+79161234567", actor=USER, idempotency_key=f"a{line.pk}")
    frozen_clock.advance(timedelta(days=40))
    changes.disconnect_service(off, service=black, actor=USER, idempotency_key="off")
    frozen_clock.advance(timedelta(days=10))
    assert changes.purge_expired_black_lists() == 0
    assert BlackListEntry.objects.count() == 2


# --- Concurrency --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_connects_of_one_service_connect_it_once_and_charge_once(frozen_clock):
    # Given a line with 500.00 and an option of 30.00 + 10.00 a day
    line = line_with_money(tariff(0, FeePeriod.NONE), 50_000)
    option = service(connect_fee_minor=3_000, fee_minor=1_000, period=FeePeriod.DAILY)

    # When two requests (two taps, two keys) connect it at the same instant
    results = run_in_threads(
        2,
        lambda i: changes.connect_service(line, service=option, actor=USER, idempotency_key=f"tap-{i}"),
        exceptions_as_results=True,
    )

    # Then one connects it and the other is told it is connected; it is charged once
    assert sorted(type(r).__name__ for r in results) == ["ChangePreview", "ServiceAlreadyConnected"]
    assert balance_of(line) == 46_000
    assert ServiceAssignment.objects.filter(line=line, service=option).count() == 1
    assert sorted(Transaction.objects.filter(kind__startswith="service_").values_list("kind", flat=True)) == [
        "service_connect_fee",
        "service_fee",
    ]
    assert ProductChange.objects.filter(line=line).count() == 1
    assert verify_ledger().ok


@pytest.mark.django_db(transaction=True)
def test_the_same_request_twice_at_once_applies_once(frozen_clock):
    # Given a line with 500.00 and a tariff whose rest of March costs 300.00
    line = line_with_money(tariff(0, FeePeriod.NONE), 50_000)
    new = tariff(31_000)

    # When the app sends the same change twice at the same instant (one Idempotency-Key)
    results = run_in_threads(
        2, lambda _i: changes.change_tariff(line, tariff=new, actor=USER, idempotency_key="one-key")
    )

    # Then both answers are the one change, charged once
    assert results[0] == results[1]
    assert results[0].total_minor == 30_000
    assert balance_of(line) == 20_000
    assert ProductChange.objects.filter(line=line).count() == 1
    assert verify_ledger().ok
