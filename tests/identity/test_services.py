"""One-time codes, passwords, API tokens and the SMS caps, at the service level."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from selfcare.identity import services
from selfcare.identity.errors import (
    InvalidCode,
    InvalidCredentials,
    InvalidToken,
    ResendTooSoon,
    TooManyRequests,
)
from selfcare.identity.models import AuditEvent, CodePurpose, OneTimeCode, RefreshToken, User
from selfcare.notifications.models import OutboundSms
from tests.factories import make_account, make_line
from tests.identity.conftest import CLIENT, PASSWORD, last_code, unserved_msisdn

pytestmark = pytest.mark.django_db

REG = CodePurpose.REGISTRATION


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def register_user(committing, msisdn: str, password: str = PASSWORD) -> User:
    committing(services.request_code, msisdn, purpose=REG, client=CLIENT)
    return services.complete_registration(msisdn, code=last_code(msisdn), password=password, client=CLIENT)


# --- one-time codes --------------------------------------------------------------------------------------


def test_code_is_six_digits_stored_only_as_a_keyed_hash(line, committing):
    # When a registration code is sent
    committing(services.request_code, line.msisdn, purpose=REG, client=CLIENT)

    # Then the SMS holds 6 digits and the row only a 64-hex keyed hash of them
    code = last_code(line.msisdn)
    row = OneTimeCode.objects.get()
    assert len(code) == 6
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert (row.expires_at - row.created_at) == timedelta(minutes=5)
    assert OutboundSms.objects.get().text == ""  # blanked once sent


def test_code_is_accepted_at_4_59_and_refused_at_5_01(frozen_clock, committing):
    # Given two active lines, each sent a registration code at 09:00
    first, second = make_line(), make_line()
    committing(services.request_code, first.msisdn, purpose=REG, client=CLIENT)
    committing(services.request_code, second.msisdn, purpose=REG, client=CLIENT)
    first_code, second_code = last_code(first.msisdn), last_code(second.msisdn)

    # When the first is entered at 09:04:59 and the second at 09:05:01
    frozen_clock.advance(timedelta(minutes=4, seconds=59))
    accepted = services.check_code(first.msisdn, first_code, purpose=REG, client=CLIENT)
    frozen_clock.advance(timedelta(seconds=2))
    refused = services.check_code(second.msisdn, second_code, purpose=REG, client=CLIENT)

    # Then only the first works
    assert accepted is True
    assert refused is False
    assert AuditEvent.objects.filter(action="otp.check", outcome="expired").count() == 1


def test_code_works_once(line, committing):
    # Given a sent code
    committing(services.request_code, line.msisdn, purpose=REG, client=CLIENT)
    code = last_code(line.msisdn)

    # When it is entered twice
    results = [services.check_code(line.msisdn, code, purpose=REG, client=CLIENT) for _ in range(2)]

    # Then only the first time counts
    assert results == [True, False]


def test_sixth_try_is_refused_even_with_the_right_code(line, committing):
    # Given a sent code and five wrong tries
    committing(services.request_code, line.msisdn, purpose=REG, client=CLIENT)
    code = last_code(line.msisdn)
    wrong = [services.check_code(line.msisdn, other_code(code), purpose=REG, client=CLIENT) for _ in range(5)]

    # When the right code comes sixth
    sixth = services.check_code(line.msisdn, code, purpose=REG, client=CLIENT)

    # Then it is refused: the code is dead
    assert wrong == [False] * 5
    assert sixth is False
    assert OneTimeCode.objects.get().attempts == 5
    assert OneTimeCode.objects.get().used_at is None


def test_registration_code_does_not_reset_a_password_nor_work_for_another_number(committing, frozen_clock):
    # Given two registered subscribers, and a fresh registration code for the first one
    account = make_account()
    first, second = make_line(account=account), make_line(account=account)
    register_user(committing, first.msisdn)
    register_user(committing, second.msisdn)
    OneTimeCode.objects.all().delete()
    frozen_clock.advance(timedelta(seconds=61))
    committing(services.request_code, first.msisdn, purpose=REG, client=CLIENT)
    code = last_code(first.msisdn)

    # When that code is used to reset the first password, and to register the second number
    with pytest.raises(InvalidCode):
        services.reset_password(first.msisdn, code=code, password="a brand new passphrase", client=CLIENT)
    with pytest.raises(InvalidCode):
        services.complete_registration(
            second.msisdn, code=code, password="a brand new passphrase", client=CLIENT
        )

    # Then both are refused, both passwords are unchanged, and the code still works where it belongs
    assert User.objects.get(msisdn=first.msisdn).check_password(PASSWORD)
    assert User.objects.get(msisdn=second.msisdn).check_password(PASSWORD)
    assert services.check_code(first.msisdn, code, purpose=REG, client=CLIENT) is True


def test_a_new_code_replaces_the_previous_one(line, committing, frozen_clock):
    # Given a code, and a second one asked a minute later
    committing(services.request_code, line.msisdn, purpose=REG, client=CLIENT)
    old = last_code(line.msisdn)
    frozen_clock.advance(timedelta(seconds=61))
    committing(services.request_code, line.msisdn, purpose=REG, client=CLIENT)
    new = last_code(line.msisdn)

    # When the old one is entered, then the new one
    results = [services.check_code(line.msisdn, c, purpose=REG, client=CLIENT) for c in (old, new)]

    # Then only the newest works (unless both happened to be equal)
    assert results == ([False, True] if old != new else [True, False])


def test_resend_waits_60_seconds(line, committing, frozen_clock):
    # Given a code sent at 09:00:00
    committing(services.request_code, line.msisdn, purpose=REG, client=CLIENT)

    # When another is asked at 09:00:59 and at 09:01:00
    frozen_clock.advance(timedelta(seconds=59))
    with pytest.raises(ResendTooSoon):
        committing(services.request_code, line.msisdn, purpose=REG, client=CLIENT)
    frozen_clock.advance(timedelta(seconds=1))
    committing(services.request_code, line.msisdn, purpose=REG, client=CLIENT)

    # Then exactly two SMS went out
    assert OutboundSms.objects.count() == 2


def test_at_most_3_codes_per_10_minutes_and_10_per_day(line, committing, frozen_clock):
    # Given a subscriber asking for a code every 61 s, from many addresses
    sent_per_try = []
    for n in range(60):
        client = services.Client(ip=f"198.51.100.{n}", user_agent="pytest")
        before = OutboundSms.objects.count()
        with contextlib.suppress(TooManyRequests):
            committing(services.request_code, line.msisdn, purpose=REG, client=client)
        sent_per_try.append(OutboundSms.objects.count() - before)
        frozen_clock.advance(timedelta(seconds=61))
    # When the day goes on (in 10-minute steps, so the 10-minute cap never binds)
    for n in range(130):
        client = services.Client(ip=f"198.51.101.{n}", user_agent="pytest")
        with contextlib.suppress(TooManyRequests):
            committing(services.request_code, line.msisdn, purpose=REG, client=client)
        frozen_clock.advance(timedelta(minutes=10))

    # Then the first 10 minutes gave 3 codes, and the whole day 10
    assert sum(sent_per_try[:10]) == 3
    assert OutboundSms.objects.count() == 10


def test_an_address_asking_for_many_numbers_is_stopped(committing):
    # Given one address asking codes for 12 numbers we do not serve (the limit is 10 per 10 minutes)
    outcomes = []
    for _ in range(12):
        try:
            committing(services.request_code, unserved_msisdn(), purpose=REG, client=CLIENT)
            outcomes.append("accepted")
        except TooManyRequests:
            outcomes.append("refused")

    # Then the last two are refused
    assert outcomes == ["accepted"] * 10 + ["refused"] * 2


def test_2000_scripted_requests_hand_exactly_the_caps_to_the_gateway(committing, frozen_clock, settings):
    # Given 400 active lines +7955…, a prefix cap of 150 SMS a day for "+7955", and 5 codes per address
    settings.SELFCARE_OTP_SENDS_PER_PREFIX_DAY = 150
    settings.SELFCARE_OTP_REQUESTS_PER_IP_10MIN = 5
    account = make_account()
    served = [f"+7955{n:07d}" for n in range(400)]
    for msisdn in served:
        make_line(account=account, msisdn=msisdn)

    # When a script asks 2,000 registration codes for sequential numbers +7955… (400 ours, 1,600 not),
    # 10 requests from each of 200 addresses
    refused = 0
    for n in range(2000):
        client = services.Client(ip=f"10.0.{n // 10 // 250}.{n // 10 % 250}", user_agent="script")
        try:
            committing(services.request_code, f"+7955{n:07d}", purpose=REG, client=client)
        except TooManyRequests:
            refused += 1

    # Then each address got 5 through (1,000 refused), and of the 1,000 accepted requests the 200 for
    # our own numbers were capped at 150 SMS for the prefix
    assert refused == 1000
    assert OutboundSms.objects.count() == 150
    assert OneTimeCode.objects.count() == 150
    assert AuditEvent.objects.filter(action="otp.request", outcome="prefix_cap").count() == 50
    assert AuditEvent.objects.filter(action="otp.request", outcome="not_eligible").count() == 800


# --- passwords -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("seven77", False),
        ("eight888", True),
        ("x" * 128, True),
        ("x" * 256, True),
        ("x" * 257, False),
        ("password123", False),
        ("мой пароль от кабинета", True),
        ("گذرواژه‌ی خیلی امن من", True),
    ],
)
def test_password_rules(password, accepted):
    # When a password is checked for a subscriber
    try:
        services.validate_subscriber_password(password, msisdn="+79001234567")
        outcome = True
    except ValidationError:
        outcome = False

    # Then only length and commonness matter, never composition
    assert outcome is accepted


@pytest.mark.parametrize("password", ["my number +7 900 123-45-67!", "call 9001234567 now", "xx1234567xx"])
def test_password_with_the_subscribers_number_is_refused(password):
    with pytest.raises(ValidationError):
        services.validate_subscriber_password(password, msisdn="+79001234567")


def test_long_passwords_are_not_truncated(line, committing):
    # Given a subscriber whose password is 100 characters long
    password = "".join(chr(ord("a") + n % 26) for n in range(100))
    register_user(committing, line.msisdn, password)

    # When someone tries only its first 72 characters (where bcrypt would stop), then the whole of it
    with pytest.raises(InvalidCredentials):
        services.authenticate_subscriber(line.msisdn, password[:72], client=CLIENT)
    user = services.authenticate_subscriber(line.msisdn, password, client=CLIENT)

    # Then only the whole password works
    assert user.msisdn == line.msisdn


def test_stored_hashes_are_argon2id(line, committing, production_hasher):
    user = register_user(committing, line.msisdn)
    assert User.objects.get(pk=user.pk).password.startswith("argon2$argon2id$")


def test_unicode_passwords_match_however_they_are_composed(line, committing):
    # Given a password set with a precomposed "é"
    register_user(committing, line.msisdn, "caf\u00e9 au lait s'il vous plaît")

    # When it is typed with "e" + combining accent
    user = services.authenticate_subscriber(line.msisdn, "cafe\u0301 au lait s'il vous plaît", client=CLIENT)

    # Then it is the same password
    assert user.msisdn == line.msisdn


# --- API tokens ----------------------------------------------------------------------------------------


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(line, committing):
    # Given a subscriber signed in through the API
    user = register_user(committing, line.msisdn)
    first = services.issue_api_tokens(user, device_id="app-1", client=CLIENT, method="password")

    # When the refresh token is used, and then used again (a thief replaying it)
    second = services.rotate_refresh_token(first.refresh_token, client=CLIENT)
    with pytest.raises(InvalidToken):
        services.rotate_refresh_token(first.refresh_token, client=CLIENT)

    # Then the second pair worked until the replay, after which nothing of the family works
    assert second.refresh_token != first.refresh_token
    assert services.authenticate_access_token(second.access_token) is None
    with pytest.raises(InvalidToken):
        services.rotate_refresh_token(second.refresh_token, client=CLIENT)
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 0
    assert AuditEvent.objects.filter(action="token.revoke", after__reason="refresh_token_reuse").count() == 1


def test_access_token_lives_10_minutes(line, committing, frozen_clock):
    # Given a fresh access token
    user = register_user(committing, line.msisdn)
    pair = services.issue_api_tokens(user, device_id="app-1", client=CLIENT, method="password")

    # When it is used at 9:59 and at 10:00
    frozen_clock.advance(timedelta(minutes=9, seconds=59))
    valid = services.authenticate_access_token(pair.access_token)
    frozen_clock.advance(timedelta(seconds=1))
    expired = services.authenticate_access_token(pair.access_token)

    # Then only the first works
    assert valid == user
    assert expired is None


def test_tampered_access_token_is_refused(line, committing):
    user = register_user(committing, line.msisdn)
    pair = services.issue_api_tokens(user, device_id="app-1", client=CLIENT, method="password")
    body, signature = pair.access_token[3:].split(".")
    flipped = signature[:-1] + ("1" if signature[-1] == "0" else "0")
    assert services.authenticate_access_token(f"at_{body}.{flipped}") is None
    assert services.authenticate_access_token(f"at_{body[:-2]}.{signature}") is None
