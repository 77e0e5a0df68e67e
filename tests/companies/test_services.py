"""Business applications end to end through the services: PUK proof, rate limits, staff decisions,
and the invitation that follows an approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from selfcare.companies import services
from selfcare.companies.errors import (
    AlreadyMember,
    ApplicationNotPending,
    InvalidAccountTerms,
    InvalidTaxId,
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationNotFound,
    NumberNotAvailable,
    NumberNotEligible,
    NumberOrPukWrong,
    NumbersRefused,
    RejectionReasonRequired,
)
from selfcare.companies.models import (
    Application,
    ApplicationNumber,
    Company,
    Invitation,
    Membership,
)
from selfcare.identity.errors import InvalidCredentials, TooManyRequests
from selfcare.identity.models import AuditEvent, User
from selfcare.identity.services import Client as ServiceClient
from selfcare.kit import clock
from selfcare.ledger.models import LedgerAccount
from selfcare.lines import services as lines
from selfcare.lines.errors import LineInDebt
from selfcare.lines.models import Account, Customer, Line, TariffAssignment
from selfcare.notifications.models import OutboundSms
from tests.companies.conftest import CLIENT, PASSWORD, make_puk_line
from tests.companies.factories import CONTACT_EMAIL, CONTACT_PHONE, submit
from tests.factories import TEST_ACTOR, fund, make_account, unique_msisdn

pytestmark = pytest.mark.django_db

STAFF = "staff:1"


def _counts() -> tuple[int, int, int, int]:
    return (
        Application.objects.count(),
        ApplicationNumber.objects.count(),
        OutboundSms.objects.count(),
        len(mail.outbox),
    )


# --- submitting ----------------------------------------------------------------------------------------


def test_an_application_with_right_puks_is_recorded_and_the_contact_gets_its_link(
    region, three_lines, committing
):
    # When a company applies with three numbers and their right PUK codes
    application = committing(submit, region, three_lines)

    # Then the application is stored with its numbers, a tracking number and the applicant's language
    stored = Application.objects.get()
    assert stored.pk == application.pk
    assert stored.status == "submitted"
    assert stored.tracking_number.startswith(f"B-{clock.local_today('Europe/Moscow').year}-")
    assert len(stored.tracking_number) == 15
    assert (stored.company_name, stored.tax_id, stored.contact_phone, stored.language) == (
        "Romashka LLC",
        "7707083893",
        CONTACT_PHONE,
        "ru",
    )
    assert sorted(stored.numbers.values_list("line_id", flat=True)) == sorted(
        line.pk for line, _ in three_lines
    )
    # And the contact gets an SMS and an e-mail with the secret status link
    link = services.status_url(stored)
    assert link.endswith(
        f"/business/applications/{stored.tracking_number}/{services.status_token(stored.tracking_number)}/"
    )
    sms = OutboundSms.objects.get()
    assert (sms.msisdn, sms.template) == (CONTACT_PHONE, "companies.application_received")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [CONTACT_EMAIL]
    assert link in mail.outbox[0].body
    assert (
        AuditEvent.objects.filter(action="business_application.submit", subject_id=str(stored.pk)).count()
        == 1
    )


def test_a_wrong_puk_and_an_unknown_number_get_the_same_error_and_nothing_is_stored(region, three_lines):
    # Given one known number with a wrong PUK and one number we do not serve
    (line, _puk), *_rest = three_lines
    unknown = unique_msisdn()

    # When the company applies with them
    with pytest.raises(NumbersRefused) as refused:
        submit(region, [], numbers=[(line.msisdn, "99999999"), (unknown, "12345678")])

    # Then each pair gets the one generic error, with the same words
    problems = refused.value.problems
    assert set(problems) == {line.msisdn, unknown}
    assert all(type(error) is NumberOrPukWrong for error in problems.values())
    assert problems[line.msisdn].render_message() == problems[unknown].render_message()
    # And nothing is stored or sent; only the audit row of the failure
    assert _counts() == (0, 0, 0, 0)
    failed = AuditEvent.objects.get(action="business_application.puk_failed")
    assert failed.after == {"numbers": [line.msisdn, unknown], "checked": 2}


def test_one_wrong_pair_refuses_the_whole_application(region, three_lines):
    (first, first_puk), (second, _puk), _third = three_lines

    with pytest.raises(NumbersRefused) as refused:
        submit(region, [], numbers=[(first.msisdn, first_puk), (second.msisdn, "00000000")])

    assert list(refused.value.problems) == [second.msisdn]
    assert _counts() == (0, 0, 0, 0)


def test_a_terminated_line_is_refused_like_a_wrong_puk(region):
    line = make_puk_line("12345678")
    lines.set_line_status(line, status="terminated", actor=TEST_ACTOR)

    with pytest.raises(NumbersRefused) as refused:
        submit(region, [(line, "12345678")])

    assert type(refused.value.problems[line.msisdn]) is NumberOrPukWrong


def test_wrong_pairs_from_one_address_are_rate_limited(region, settings):
    # Given an address allowed 3 wrong pairs an hour
    settings.SELFCARE_BUSINESS_PUK_FAILURES_PER_IP_HOUR = 3
    line = make_puk_line("12345678")
    for _attempt in range(3):
        with pytest.raises(NumbersRefused):
            submit(region, [], numbers=[(unique_msisdn(), "11111111")])

    # When it then sends even the right pair
    with pytest.raises(TooManyRequests):
        submit(region, [(line, "12345678")])

    # Then it is refused before any check, and nothing is stored
    assert _counts() == (0, 0, 0, 0)
    assert AuditEvent.objects.filter(action="business_application.puk_failed").count() == 3


def test_one_number_is_tried_a_limited_number_of_times_from_any_address(region, settings):
    # Given a number that may be checked twice an hour
    settings.SELFCARE_BUSINESS_PUK_TRIES_PER_NUMBER_HOUR = 2
    line = make_puk_line("12345678")
    for index in range(2):
        with pytest.raises(NumbersRefused):
            submit(
                region,
                [],
                numbers=[(line.msisdn, f"0000000{index}")],
                client=ServiceClient(ip=f"198.51.100.{index}"),
            )

    # When a third address sends the right PUK
    with pytest.raises(TooManyRequests):
        submit(region, [(line, "12345678")], client=ServiceClient(ip="198.51.100.9"))

    # Then it is refused; an hour later the right PUK is taken
    assert _counts() == (0, 0, 0, 0)
    with clock.frozen(clock.now() + timedelta(hours=1, minutes=7)):
        application = submit(region, [(line, "12345678")], client=ServiceClient(ip="198.51.100.9"))
    assert application.numbers.count() == 1


def test_a_number_in_another_open_application_or_a_company_is_refused(region, three_lines):
    # Given an open application for the first number, and the second number on an organisation's account
    (first, first_puk), (second, second_puk), (third, third_puk) = three_lines
    submit(region, [(first, first_puk)])
    organization = make_account(
        customer=lines.create_customer(name="Other LLC", kind="organization", actor=TEST_ACTOR)
    )
    lines.move_line(second, account=organization, actor=TEST_ACTOR)

    # When another application names them with their right PUKs
    with pytest.raises(NumbersRefused) as refused:
        submit(region, [(first, first_puk), (second, second_puk), (third, third_puk)])

    # Then both are refused as not available, and nothing new is stored
    assert {msisdn: type(error) for msisdn, error in refused.value.problems.items()} == {
        first.msisdn: NumberNotAvailable,
        second.msisdn: NumberNotAvailable,
    }
    assert (Application.objects.count(), ApplicationNumber.objects.count()) == (1, 1)


def test_a_number_blocked_for_debt_is_refused(region):
    line = make_puk_line("12345678")
    lines.set_line_status(line, status="blocked_debt", actor=TEST_ACTOR)

    with pytest.raises(NumbersRefused) as refused:
        submit(region, [(line, "12345678")])

    assert type(refused.value.problems[line.msisdn]) is NumberNotEligible
    assert Application.objects.count() == 0


def test_a_number_of_a_rejected_application_may_apply_again(region, three_lines):
    pair = three_lines[0]
    services.reject_application(submit(region, [pair]), reason="Incomplete", actor=STAFF)

    again = submit(region, [pair])

    assert again.status == "submitted"


def test_a_wrong_inn_is_refused(region, three_lines):
    with pytest.raises(InvalidTaxId):
        submit(region, three_lines, tax_id="7707083894")
    assert _counts() == (0, 0, 0, 0)


# --- approving and rejecting ----------------------------------------------------------------------------


def test_approval_creates_the_company_its_account_and_the_admin_invitation_and_moves_the_lines(
    region, three_lines, committing
):
    # Given a submitted application; the first line's individual account holds 150.00
    application = submit(region, three_lines)
    old_account = three_lines[0][0].account
    fund(old_account.ledger_account, 15_000)
    history_before = TariffAssignment.objects.filter(line__in=[line for line, _ in three_lines]).count()
    sms_before = OutboundSms.objects.count()

    # When staff approve it as postpaid with a credit limit of 50 000.00
    company = committing(
        services.approve_application,
        application,
        account_kind="postpaid",
        credit_limit_minor=5_000_000,
        actor=STAFF,
    )

    # Then the organisation customer, its postpaid account and ledger account exist
    customer = Customer.objects.get(pk=company.customer_id)
    assert (customer.kind, customer.name, customer.tax_id, customer.email, customer.language) == (
        "organization",
        "Romashka LLC",
        "7707083893",
        CONTACT_EMAIL,
        "ru",
    )
    account = Account.objects.get(pk=company.account_id)
    assert (account.customer_id, account.kind, account.credit_limit_minor) == (
        customer.pk,
        "postpaid",
        5_000_000,
    )
    ledger_account = LedgerAccount.objects.get(pk=account.ledger_account_id)
    assert (ledger_account.balance_minor, ledger_account.floor_minor) == (0, -5_000_000)
    # And the company copies the application's details
    assert (company.name, company.tax_id, company.region_id, company.contact_phone) == (
        "Romashka LLC",
        "7707083893",
        region.pk,
        CONTACT_PHONE,
    )
    # And the three lines are on the new account with their history kept; the old balance stays behind
    assert set(Line.objects.filter(account=account).values_list("pk", flat=True)) == {
        line.pk for line, _ in three_lines
    }
    assert (
        TariffAssignment.objects.filter(line__in=[line for line, _ in three_lines]).count() == history_before
    )
    assert LedgerAccount.objects.get(pk=old_account.ledger_account_id).balance_minor == 15_000
    # And the application is approved and names the company
    stored = Application.objects.get(pk=application.pk)
    assert (stored.status, stored.reviewed_by, stored.company_id) == ("approved", STAFF, company.pk)
    # And the contact is invited as the company's admin by SMS and e-mail
    invitation = Invitation.objects.get()
    assert (
        invitation.company_id,
        invitation.role,
        invitation.phone,
        invitation.email,
        invitation.line_id,
    ) == (
        company.pk,
        "admin",
        CONTACT_PHONE,
        CONTACT_EMAIL,
        None,
    )
    assert invitation.expires_at == invitation.created_at + timedelta(hours=168)
    assert Membership.objects.count() == 0
    sms = OutboundSms.objects.order_by("pk")[sms_before:]
    assert [(s.msisdn, s.template) for s in sms] == [(CONTACT_PHONE, "companies.invitation")]
    assert "/business/invitations/" in mail.outbox[-1].body
    assert AuditEvent.objects.filter(action="business_application.approve").count() == 1
    assert AuditEvent.objects.filter(action="line.move").count() == 3


def test_prepaid_approval_has_no_credit_and_a_prepaid_with_credit_is_refused(region, three_lines):
    application = submit(region, three_lines)

    with pytest.raises(InvalidAccountTerms):
        services.approve_application(application, account_kind="prepaid", credit_limit_minor=100, actor=STAFF)
    company = services.approve_application(
        application, account_kind="prepaid", credit_limit_minor=0, actor=STAFF
    )

    assert (company.account.kind, company.account.credit_limit_minor) == ("prepaid", 0)


def test_an_application_is_decided_once(region, three_lines):
    # Given an approved application
    application = submit(region, three_lines)
    services.approve_application(application, account_kind="postpaid", credit_limit_minor=0, actor=STAFF)
    rows = (Company.objects.count(), Account.objects.count(), Invitation.objects.count())

    # When staff approve it again (a stale page) or reject it
    with pytest.raises(ApplicationNotPending):
        services.approve_application(
            application, account_kind="postpaid", credit_limit_minor=0, actor="staff:2"
        )
    with pytest.raises(ApplicationNotPending):
        services.reject_application(application, reason="Too late", actor="staff:2")

    # Then nothing changed
    assert (Company.objects.count(), Account.objects.count(), Invitation.objects.count()) == rows
    assert Application.objects.get(pk=application.pk).reviewed_by == STAFF


def test_approval_is_undone_whole_when_a_line_cannot_move(region, three_lines):
    # Given an application whose last line was blocked for debt after it was submitted
    application = submit(region, three_lines)
    lines.set_line_status(three_lines[2][0], status="blocked_debt", actor=TEST_ACTOR)
    accounts = Account.objects.count()

    with pytest.raises(LineInDebt):
        services.approve_application(application, account_kind="postpaid", credit_limit_minor=0, actor=STAFF)

    assert Application.objects.get(pk=application.pk).status == "submitted"
    assert (Company.objects.count(), Account.objects.count(), Invitation.objects.count()) == (0, accounts, 0)
    assert {line.account_id for line in Line.objects.all()} == {line.account_id for line, _ in three_lines}


def test_rejection_records_the_reason_and_tells_the_contact(region, three_lines, committing):
    application = submit(region, three_lines)

    with pytest.raises(RejectionReasonRequired):
        services.reject_application(application, reason="  ", actor=STAFF)
    committing(
        services.reject_application, application, reason="The INN belongs to another company.", actor=STAFF
    )

    stored = Application.objects.get(pk=application.pk)
    assert (stored.status, stored.rejection_reason, stored.reviewed_by) == (
        "rejected",
        "The INN belongs to another company.",
        STAFF,
    )
    assert (
        OutboundSms.objects.filter(template="companies.application_rejected", msisdn=CONTACT_PHONE).count()
        == 1
    )
    assert "The INN belongs to another company." in mail.outbox[-1].body
    assert AuditEvent.objects.filter(action="business_application.reject").count() == 1
    assert Company.objects.count() == 0


# --- invitations ------------------------------------------------------------------------------------------


@pytest.fixture
def approved(region, three_lines):
    application = submit(region, three_lines)
    company = services.approve_application(
        application, account_kind="postpaid", credit_limit_minor=0, actor=STAFF
    )
    return company


def _invite(company, phone=None):
    return services.create_invitation(
        company, role="admin", name="Anna", phone=phone or unique_msisdn(), actor=STAFF
    )


def test_accepting_an_invitation_creates_the_user_and_the_membership_once(approved):
    # Given an invitation to a number without an account
    invitation, token = _invite(approved)

    # When it is accepted with a new password
    membership = services.accept_invitation(token, password=PASSWORD, client=CLIENT)

    # Then the user signs in with that number, is the company's admin, and the invitation is used
    user = User.objects.get(msisdn=invitation.phone)
    assert user.check_password(PASSWORD)
    assert (membership.company_id, membership.user_id, membership.role, membership.line_id) == (
        approved.pk,
        user.pk,
        "admin",
        None,
    )
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.accepted_at is not None
    assert stored.membership_id == membership.pk
    # And the link does not work twice
    with pytest.raises(InvitationAlreadyAccepted):
        services.accept_invitation(token, password=PASSWORD, client=CLIENT)
    assert Membership.objects.count() == 1


def test_an_expired_invitation_is_refused(approved):
    invitation, token = _invite(approved)

    with clock.frozen(invitation.expires_at), pytest.raises(InvitationExpired):
        services.accept_invitation(token, password=PASSWORD, client=CLIENT)

    assert (Membership.objects.count(), User.objects.filter(msisdn=invitation.phone).count()) == (0, 0)
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_an_unknown_token_is_refused(approved):
    with pytest.raises(InvitationNotFound):
        services.accept_invitation("not-a-token", password=PASSWORD, client=CLIENT)


def test_an_existing_account_joins_with_its_own_password_and_is_never_reset(approved):
    # Given a subscriber who already signs in with the invited number
    phone = unique_msisdn()
    existing = User.objects.create_user(username=phone, msisdn=phone, password="the old one is kept")
    _invitation, token = _invite(approved, phone=phone)

    # When the link is used with another password, it is refused and nothing changes
    with pytest.raises(InvalidCredentials):
        services.accept_invitation(token, password=PASSWORD, client=CLIENT)
    assert Membership.objects.count() == 0
    existing.refresh_from_db()
    assert existing.check_password("the old one is kept")

    # When it is used with the account's password, that account joins
    membership = services.accept_invitation(token, password="the old one is kept", client=CLIENT)
    assert membership.user_id == existing.pk
    assert User.objects.filter(msisdn=phone).count() == 1


def test_a_member_invited_again_is_refused(approved):
    phone = unique_msisdn()
    _first, token = _invite(approved, phone=phone)
    services.accept_invitation(token, password=PASSWORD, client=CLIENT)
    second, token2 = _invite(approved, phone=phone)

    with pytest.raises(AlreadyMember):
        services.accept_invitation(token2, password=PASSWORD, client=CLIENT)

    assert Invitation.objects.get(pk=second.pk).accepted_at is None
    assert Membership.objects.count() == 1


# --- move_line (lines) --------------------------------------------------------------------------------------


def test_move_line_changes_only_the_account_and_is_audited():
    line = make_puk_line("12345678")
    target = make_account(kind="postpaid", credit_limit_minor=1000)
    before = line.account.number

    moved = lines.move_line(line, account=target, actor=TEST_ACTOR)

    stored = Line.objects.get(pk=line.pk)
    assert (stored.account_id, stored.status, stored.tariff_id) == (target.pk, "active", line.tariff_id)
    assert moved.account_id == target.pk
    event = AuditEvent.objects.get(action="line.move")
    assert (event.before, event.after) == ({"account": before}, {"account": target.number})
