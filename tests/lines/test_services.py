"""Customers, accounts and lines: every change goes through a service, leaves an audit row, and a
refused change leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from selfcare.identity.models import AuditEvent
from selfcare.kit import clock
from selfcare.ledger import services as ledger
from selfcare.ledger.errors import InsufficientFunds
from selfcare.ledger.models import LedgerAccount
from selfcare.ledger.services import Leg
from selfcare.lines import services
from selfcare.lines.errors import (
    InvalidNumber,
    LineTerminated,
    NumberTaken,
    ServiceAlreadyConnected,
    ServiceExcludes,
    ServiceNotAllowed,
    ServiceNotConnected,
    ServiceRequires,
    SimCardTaken,
    TariffNotAvailable,
)
from selfcare.lines.models import (
    Account,
    AccountKind,
    Customer,
    CustomerKind,
    Line,
    LineStatus,
    ServiceAssignment,
    TariffAssignment,
)
from tests.factories import (
    make_account,
    make_customer,
    make_line,
    make_service,
    make_system_account,
    make_tariff,
    unique_iccid,
)

pytestmark = pytest.mark.django_db


def audit_actions(subject_type: str, subject_id: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_type=subject_type, subject_id=str(subject_id))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_create_customer_stores_it_and_audits(frozen_clock):
    # Given nothing, when an organisation is created
    customer = services.create_customer(
        name="Romashka LLC",
        kind=CustomerKind.ORGANIZATION,
        email="it@romashka.example",
        tax_id="7701234567",
        actor="staff:1",
    )

    # Then it is stored with the clock's time and the default language
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.name, stored.kind, stored.email, stored.tax_id, stored.language) == (
        "Romashka LLC",
        "organization",
        "it@romashka.example",
        "7701234567",
        "en",
    )
    assert stored.created_at == clock.now()
    # and an audit row says who created it
    event = AuditEvent.objects.get(subject_type="customer", subject_id=str(customer.pk))
    assert (event.actor, event.action, event.after) == (
        "staff:1",
        "customer.create",
        {"kind": "organization", "name": "Romashka LLC"},
    )


def test_prepaid_account_gets_a_ledger_account_with_zero_floor_and_usage_overdraft(settings):
    # Given a customer
    customer = make_customer(name="Anna")

    # When a prepaid account is opened
    account = services.open_account(customer, actor="staff:1", number="0000000042")

    # Then its ledger account is a customer account at zero, with floor 0 and the configured overdraft room
    assert account.number == "0000000042"
    assert account.currency == settings.SELFCARE_CURRENCY
    ledger_account = LedgerAccount.objects.get(pk=account.ledger_account_id)
    assert (ledger_account.code, ledger_account.kind, ledger_account.name) == (
        "customer:0000000042",
        "customer",
        "Anna",
    )
    assert (ledger_account.balance_minor, ledger_account.floor_minor) == (0, 0)
    assert ledger_account.overdraft_minor == settings.SELFCARE_USAGE_OVERDRAFT_MINOR
    assert audit_actions("account", account.pk) == ["account.open"]


def test_generated_account_numbers_are_ten_digits():
    # Given a customer, when an account is opened without a number, then a 10-digit one is allocated
    account = make_account()
    assert len(account.number) == 10
    assert account.number.isdigit()


def test_postpaid_credit_limit_sets_the_ledger_floor():
    # Given a company
    company = make_customer(name="Romashka LLC", kind=CustomerKind.ORGANIZATION)

    # When a postpaid account with a 5,000.00 credit limit is opened
    account = services.open_account(
        company, actor="staff:1", kind=AccountKind.POSTPAID, credit_limit_minor=500_000
    )

    # Then the ledger floor is minus the limit and there is no usage overdraft beyond it
    ledger_account = LedgerAccount.objects.get(pk=account.ledger_account_id)
    assert (ledger_account.floor_minor, ledger_account.overdraft_minor) == (-500_000, 0)
    # and the account can spend exactly its credit limit, not a kopeck more
    revenue = make_system_account()
    ledger.post_transaction(
        "charge",
        legs=[Leg(ledger_account.pk, -500_000), Leg(revenue.pk, 500_000)],
        idempotency_key="credit-used",
        actor="test",
    )
    with pytest.raises(InsufficientFunds):
        ledger.post_transaction(
            "charge",
            legs=[Leg(ledger_account.pk, -1), Leg(revenue.pk, 1)],
            idempotency_key="credit-exceeded",
            actor="test",
        )


def test_prepaid_account_with_a_credit_limit_is_refused():
    # Given a customer, when a prepaid account with a credit limit is asked for, then it is refused
    customer = make_customer()
    with pytest.raises(ValueError, match="prepaid"):
        services.open_account(customer, actor="staff:1", credit_limit_minor=100)
    assert Account.objects.filter(customer=customer).count() == 0


def test_set_credit_limit_moves_the_floor_and_audits():
    # Given a postpaid account with a 1,000.00 limit
    account = make_account(kind=AccountKind.POSTPAID, credit_limit_minor=100_000)

    # When the limit is raised to 2,500.00
    services.set_credit_limit(account, credit_limit_minor=250_000, actor="staff:2")

    # Then the account and its ledger floor change, and the audit row has before and after
    assert Account.objects.get(pk=account.pk).credit_limit_minor == 250_000
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).floor_minor == -250_000
    event = AuditEvent.objects.get(
        subject_type="account", subject_id=str(account.pk), action="account.credit_limit"
    )
    assert (event.before, event.after) == ({"credit_limit_minor": 100_000}, {"credit_limit_minor": 250_000})


def test_set_credit_limit_refuses_prepaid_and_negative_limits():
    # Given a prepaid and a postpaid account
    prepaid = make_account()
    postpaid = make_account(kind=AccountKind.POSTPAID, credit_limit_minor=100)

    # When a limit is set on the prepaid one, or a negative limit on the postpaid one, then both are refused
    with pytest.raises(ValueError, match="postpaid"):
        services.set_credit_limit(prepaid, credit_limit_minor=100, actor="staff:1")
    with pytest.raises(ValueError, match="not negative"):
        services.set_credit_limit(postpaid, credit_limit_minor=-1, actor="staff:1")
    assert LedgerAccount.objects.get(pk=postpaid.ledger_account_id).floor_minor == -100


@pytest.mark.parametrize("typed", ["8 900 123-45-67", "+7 (900) 123 45 67", "9001234567"])
def test_activate_line_normalises_the_number_and_records_history(typed, frozen_clock):
    # Given an account and a tariff
    account = make_account()
    tariff = make_tariff(code="smart")

    # When a line is activated with the number as people type it
    line = services.activate_line(
        account,
        msisdn=typed,
        iccid="89701011234567890123",
        tariff=tariff,
        actor="staff:1",
        imsi="250011234567890",
    )

    # Then it is stored in E.164, active, on the tariff, with one current tariff assignment
    stored = Line.objects.get(pk=line.pk)
    assert (stored.msisdn, stored.iccid, stored.imsi, stored.status) == (
        "+79001234567",
        "89701011234567890123",
        "250011234567890",
        LineStatus.ACTIVE,
    )
    assert stored.tariff_id == tariff.pk
    assert stored.activated_at == stored.status_changed_at == clock.now()
    history = list(TariffAssignment.objects.filter(line=line).values_list("tariff_id", "ended_at", "actor"))
    assert history == [(tariff.pk, None, "staff:1")]
    assert audit_actions("line", line.pk) == ["line.activate"]


def test_duplicate_number_in_another_format_is_number_taken_and_changes_nothing():
    # Given a line on +79001234567
    tariff = make_tariff()
    make_line(msisdn="+79001234567", tariff=tariff)
    account = make_account()
    lines_before = Line.objects.count()
    audits_before = AuditEvent.objects.count()

    # When the same number, typed the Russian national way, is activated again
    # Then it is refused and no line, assignment or audit row is added
    with pytest.raises(NumberTaken):
        services.activate_line(
            account, msisdn="8 900 123-45-67", iccid=unique_iccid(), tariff=tariff, actor="staff:1"
        )
    assert Line.objects.count() == lines_before
    assert TariffAssignment.objects.count() == lines_before
    assert AuditEvent.objects.count() == audits_before


def test_duplicate_iccid_is_sim_card_taken_not_number_taken():
    # Given a line with a known ICCID
    tariff = make_tariff()
    existing = make_line(msisdn="+79001234567", tariff=tariff)
    lines_before = Line.objects.count()

    # When another number is activated on the same SIM card
    # Then the error names the SIM, not the number, and nothing is added
    with pytest.raises(SimCardTaken):
        services.activate_line(
            make_account(), msisdn="+79001234568", iccid=existing.iccid, tariff=tariff, actor="staff:1"
        )
    assert Line.objects.count() == lines_before


def test_invalid_number_is_refused():
    # Given an account, when a line is activated with something that is not a number, then it is refused
    account = make_account()
    with pytest.raises(InvalidNumber):
        services.activate_line(
            account, msisdn="12345", iccid=unique_iccid(), tariff=make_tariff(), actor="staff:1"
        )
    assert Line.objects.count() == 0


def test_archived_tariff_cannot_be_given_to_a_new_line():
    # Given an archived tariff, when a line is activated on it, then it is refused
    account = make_account()
    archived = make_tariff(is_active=False)
    with pytest.raises(TariffNotAvailable):
        services.activate_line(
            account, msisdn="+79001234567", iccid=unique_iccid(), tariff=archived, actor="staff:1"
        )
    assert Line.objects.count() == 0


def test_puk_is_stored_hashed_and_checked():
    # Given a line activated with a PUK
    line = make_line(puk="12345678")
    stored = Line.objects.get(pk=line.pk)

    # Then the PUK itself is nowhere in the row, only its 64-hex-digit keyed hash
    assert "12345678" not in stored.puk_hash
    assert len(stored.puk_hash) == 64
    assert stored.puk_hash == services.hash_puk("12345678")
    # and the right PUK checks (spaces around it ignored), a wrong one does not
    assert services.check_puk(stored, "12345678") is True
    assert services.check_puk(stored, " 12345678 ") is True
    assert services.check_puk(stored, "12345679") is False


def test_line_without_puk_never_matches_one():
    # Given a line activated without a PUK, when any PUK is checked, then it does not match
    line = make_line()
    assert line.puk_hash == ""
    assert services.check_puk(line, "") is False
    assert services.check_puk(line, "00000000") is False


def test_set_line_status_changes_status_and_audits(frozen_clock):
    # Given an active line
    line = make_line()

    # When the subscriber blocks it
    clock.advance(timedelta(hours=1))
    blocked = services.set_line_status(
        line, status=LineStatus.BLOCKED_BY_SUBSCRIBER, actor="user:5", reason="lost phone"
    )

    # Then the status and its time change, and the audit row says from what to what and why
    stored = Line.objects.get(pk=line.pk)
    assert blocked.status == stored.status == LineStatus.BLOCKED_BY_SUBSCRIBER
    assert stored.status_changed_at == clock.now()
    event = AuditEvent.objects.get(subject_type="line", subject_id=str(line.pk), action="line.status")
    assert (event.actor, event.before, event.after) == (
        "user:5",
        {"status": "active"},
        {"status": "blocked_subscriber", "reason": "lost phone"},
    )


def test_setting_the_same_status_again_writes_nothing():
    # Given an active line, when it is set active again, then no audit row is written
    line = make_line()
    services.set_line_status(line, status=LineStatus.ACTIVE, actor="staff:1")
    assert audit_actions("line", line.pk) == ["line.activate"]


def test_terminated_line_cannot_change_status_tariff_or_services():
    # Given a terminated line
    line = make_line()
    service = make_service()
    services.set_line_status(line, status=LineStatus.TERMINATED, actor="staff:1")
    actions_before = audit_actions("line", line.pk)

    # When anything is changed on it, then it is refused and nothing is recorded
    with pytest.raises(LineTerminated):
        services.set_line_status(line, status=LineStatus.ACTIVE, actor="staff:1")
    with pytest.raises(LineTerminated):
        services.assign_tariff(line, tariff=make_tariff(), actor="staff:1")
    with pytest.raises(LineTerminated):
        services.connect_service(line, service=service, actor="staff:1")
    assert Line.objects.get(pk=line.pk).status == LineStatus.TERMINATED
    assert audit_actions("line", line.pk) == actions_before


def test_assign_tariff_keeps_history_with_one_current_assignment(frozen_clock):
    # Given a line on tariff A since activation
    tariff_a = make_tariff(code="tariff-a")
    tariff_b = make_tariff(code="tariff-b")
    line = make_line(tariff=tariff_a)
    activated = clock.now()

    # When it switches to B a day later, then back to A another day later
    clock.advance(timedelta(days=1))
    services.assign_tariff(line, tariff=tariff_b, actor="user:5")
    switched = clock.now()
    clock.advance(timedelta(days=1))
    services.assign_tariff(line, tariff=tariff_a, actor="user:5")

    # Then the line is on A, and the history has three periods of which only the last is open
    assert Line.objects.get(pk=line.pk).tariff_id == tariff_a.pk
    history = list(
        TariffAssignment.objects.filter(line=line)
        .order_by("started_at")
        .values_list("tariff__code", "started_at", "ended_at")
    )
    assert history == [
        ("tariff-a", activated, switched),
        ("tariff-b", switched, clock.now()),
        ("tariff-a", clock.now(), None),
    ]
    assert TariffAssignment.objects.filter(line=line, ended_at__isnull=True).count() == 1
    tariff_events = AuditEvent.objects.filter(subject_id=str(line.pk), action="line.tariff").order_by("id")
    assert [(e.before, e.after) for e in tariff_events] == [
        ({"tariff": "tariff-a"}, {"tariff": "tariff-b"}),
        ({"tariff": "tariff-b"}, {"tariff": "tariff-a"}),
    ]


def test_assign_the_current_tariff_again_changes_nothing():
    # Given a line on a tariff, when the same tariff is assigned, then there is no new history or audit
    tariff = make_tariff()
    line = make_line(tariff=tariff)
    services.assign_tariff(line, tariff=tariff, actor="user:5")
    assert TariffAssignment.objects.filter(line=line).count() == 1
    assert audit_actions("line", line.pk) == ["line.activate"]


def test_assign_archived_tariff_is_refused():
    # Given a line and an archived tariff, when it is assigned, then it is refused and nothing changes
    tariff = make_tariff()
    line = make_line(tariff=tariff)
    with pytest.raises(TariffNotAvailable):
        services.assign_tariff(line, tariff=make_tariff(is_active=False), actor="user:5")
    assert Line.objects.get(pk=line.pk).tariff_id == tariff.pk
    assert TariffAssignment.objects.filter(line=line).count() == 1


def test_connect_service_records_it_and_audits(frozen_clock):
    # Given a line and an open service
    line = make_line()
    service = make_service(code="caller-id")

    # When it is connected
    assignment = services.connect_service(line, service=service, actor="user:5")

    # Then it is current on the line and audited
    assert (assignment.service_id, assignment.connected_at, assignment.disconnected_at) == (
        service.pk,
        clock.now(),
        None,
    )
    assert services.connected_service_ids(line) == {service.pk}
    assert audit_actions("line", line.pk) == ["line.activate", "line.service.connect"]


def snapshot_services(line: Line) -> tuple[set[int], int, int]:
    return (
        services.connected_service_ids(line),
        ServiceAssignment.objects.filter(line=line).count(),
        AuditEvent.objects.filter(subject_id=str(line.pk)).count(),
    )


def test_closed_or_archived_service_is_refused():
    # Given a line, a service closed for new connections and an archived one
    line = make_line()
    before = snapshot_services(line)

    # When either is connected, then it is refused and nothing changes
    with pytest.raises(ServiceNotAllowed) as closed:
        services.connect_service(line, service=make_service(is_open=False), actor="user:5")
    with pytest.raises(ServiceNotAllowed):
        services.connect_service(line, service=make_service(is_active=False), actor="user:5")
    assert closed.value.code == "service_closed"
    assert snapshot_services(line) == before


def test_service_limited_to_other_tariffs_is_refused():
    # Given a line on "basic" and a service allowed only on "premium"
    basic = make_tariff(code="basic")
    premium = make_tariff(code="premium")
    line = make_line(tariff=basic)
    roaming = make_service(allowed_tariffs=[premium])
    before = snapshot_services(line)

    # When it is connected, then it is refused and nothing changes
    with pytest.raises(ServiceNotAllowed):
        services.connect_service(line, service=roaming, actor="user:5")
    assert snapshot_services(line) == before
    # and on premium it is allowed
    services.assign_tariff(line, tariff=premium, actor="user:5")
    services.connect_service(line, service=roaming, actor="user:5")
    assert services.connected_service_ids(line) == {roaming.pk}


def test_service_requiring_another_is_refused_until_that_one_is_connected():
    # Given a line, a base service and an add-on that requires it
    line = make_line()
    base = make_service(code="base", name={"en": "Mobile Internet"})
    addon = make_service(code="addon", requires=[base])
    before = snapshot_services(line)

    # When the add-on is connected first, then it is refused, naming what it needs
    with pytest.raises(ServiceRequires) as refused:
        services.connect_service(line, service=addon, actor="user:5")
    assert refused.value.params == {"required": "Mobile Internet"}
    assert refused.value.render_message() == "This service needs Mobile Internet to be connected first."
    assert snapshot_services(line) == before
    # and after the base service it is accepted
    services.connect_service(line, service=base, actor="user:5")
    services.connect_service(line, service=addon, actor="user:5")
    assert services.connected_service_ids(line) == {base.pk, addon.pk}


def test_mutually_exclusive_services_cannot_both_be_connected():
    # Given a line with one of two services that exclude each other
    line = make_line()
    pack_s = make_service(code="pack-s", name={"en": "Data S"})
    pack_l = make_service(code="pack-l", excludes=[pack_s])
    services.connect_service(line, service=pack_s, actor="user:5")
    before = snapshot_services(line)

    # When the other one is connected (the exclusion is symmetric), then it is refused and nothing changes
    with pytest.raises(ServiceExcludes) as refused:
        services.connect_service(line, service=pack_l, actor="user:5")
    assert refused.value.params == {"other": "Data S"}
    assert snapshot_services(line) == before


def test_already_connected_service_is_refused():
    # Given a line with a service, when it is connected again, then it is refused and nothing changes
    line = make_line()
    service = make_service()
    services.connect_service(line, service=service, actor="user:5")
    before = snapshot_services(line)
    with pytest.raises(ServiceAlreadyConnected):
        services.connect_service(line, service=service, actor="user:5")
    assert snapshot_services(line) == before


def test_disconnect_service_closes_the_assignment_and_allows_reconnecting(frozen_clock):
    # Given a line with a service
    line = make_line()
    service = make_service()
    services.connect_service(line, service=service, actor="user:5")

    # When it is disconnected an hour later
    clock.advance(timedelta(hours=1))
    closed = services.disconnect_service(line, service=service, actor="user:5")

    # Then the assignment is closed at that time, and the service can be connected again
    assert closed.disconnected_at == clock.now()
    assert services.connected_service_ids(line) == set()
    services.connect_service(line, service=service, actor="user:5")
    assert ServiceAssignment.objects.filter(line=line, service=service).count() == 2
    assert audit_actions("line", line.pk)[-2:] == ["line.service.disconnect", "line.service.connect"]


def test_disconnect_refuses_a_service_that_is_not_connected_or_still_required():
    # Given a line with a base service and an add-on that requires it
    line = make_line()
    base = make_service()
    addon = make_service(requires=[base])
    services.connect_service(line, service=base, actor="user:5")
    services.connect_service(line, service=addon, actor="user:5")
    before = snapshot_services(line)

    # When the base service is disconnected while the add-on needs it, then it is refused
    with pytest.raises(ServiceNotAllowed):
        services.disconnect_service(line, service=base, actor="user:5")
    # and a service that is not connected cannot be disconnected
    with pytest.raises(ServiceNotConnected):
        services.disconnect_service(line, service=make_service(), actor="user:5")
    assert snapshot_services(line) == before
