"""Writes of the identity domain. `record_audit` is what every other service calls for its audit row.

The subscriber flows (docs/identity.md): one-time codes, registration, password and code sign-in,
new-device confirmation, password reset and change, web sessions, devices and API tokens. Every
function here that looks a number up behaves the same for numbers we serve and numbers we do not:
the caller gets no return value or error that tells them apart.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet

from selfcare.identity.errors import (
    AliasNotAvailable,
    EmailNotEditable,
    InvalidCode,
    InvalidCredentials,
    InvalidEmail,
    InvalidPhone,
    InvalidToken,
    LoginDelayed,
    NoLine,
    ResendTooSoon,
    TooManyRequests,
    UnknownLanguage,
    UnknownSmsKind,
    WrongCurrentPassword,
)
from selfcare.identity.models import (
    ApiKey,
    AuditEvent,
    CodePurpose,
    Device,
    OneTimeCode,
    RefreshToken,
    User,
    UserSession,
)
from selfcare.identity.throttles import get_limiter
from selfcare.identity.validators import PASSWORD_MAX_LENGTH, normalize_password
from selfcare.kit import clock
from selfcare.kit.phone import InvalidPhoneNumber, normalize_msisdn
from selfcare.kit.signing import keyed_hash

SYSTEM_ACTOR = "system"


def record_audit(
    actor: str,
    action: str,
    *,
    subject_type: str = "",
    subject_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: str = "ok",
    ip: str | None = None,
    user_agent: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        created_at=clock.now(),
        actor=actor,
        action=action,
        subject_type=subject_type,
        # A subject named by what a caller typed (an unknown login of up to 150 characters) is cut to the
        # column, as PostgreSQL refuses a longer one (found by schemathesis).
        subject_id=str(subject_id)[:64],
        before=before,
        after=after,
        outcome=outcome,
        ip=ip,
        user_agent=user_agent[:300],
    )


def actor_of(user: Any) -> str:
    """The audit name of a Django user: staff and subscribers are told apart."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return f"{'staff' if user.is_staff else 'user'}:{user.pk}"


def _hash_api_key(secret: str) -> str:
    return keyed_hash(settings.SELFCARE_HASH_KEY, "api-key", secret)


def create_api_key(*, name: str, scopes: list[str], actor: str) -> tuple[ApiKey, str]:
    """Create a network/partner API key; returns the row and the full key, which is shown only once."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=_hash_api_key(secret),
            scopes=sorted(set(scopes)),
            created_at=clock.now(),
        )
        record_audit(
            actor,
            "api_key.create",
            subject_type="api_key",
            subject_id=key.pk,
            after={"name": name, "scopes": key.scopes, "prefix": prefix},
        )
    return key, f"sk_{prefix}_{secret}"


def find_api_key(presented: str) -> ApiKey | None:
    """The active key matching `presented` (format sk_<prefix>_<secret>), whatever its scopes, or None."""
    parts = presented.split("_", 2) if presented else []
    if len(parts) != 3 or parts[0] != "sk":
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash_api_key(parts[2])):
        return None
    return key


def authenticate_api_key(presented: str, *, scope: str) -> ApiKey | None:
    """The active key with this scope matching `presented`, or None."""
    key = find_api_key(presented)
    if key is None or scope not in key.scopes:
        return None
    return key


def revoke_api_key(key: ApiKey, *, actor: str) -> None:
    with transaction.atomic():
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
        record_audit(actor, "api_key.revoke", subject_type="api_key", subject_id=key.pk)


# =====================================================================================================
# Subscriber identity
# =====================================================================================================

log = structlog.get_logger(__name__)

CODE_DIGITS = 6
ANONYMOUS = "anonymous"
# The state of a line in which it may register (lines.models.LineStatus.ACTIVE) and the one in which
# it may no longer sign in (TERMINATED). Compared as strings: identity does not import lines.models.
LINE_ACTIVE = "active"
LINE_TERMINATED = "terminated"
LINE_BLOCKED_BY_SUBSCRIBER = "blocked_subscriber"


@dataclass(frozen=True)
class Client:
    """Where a request came from, for throttles and audit rows."""

    ip: str | None = None
    user_agent: str = ""
    language: str = ""


def _audit(actor: str, action: str, client: Client, **fields: Any) -> AuditEvent:
    return record_audit(actor, action, ip=client.ip, user_agent=client.user_agent, **fields)


def _hash(purpose: str, value: str) -> str:
    return keyed_hash(settings.SELFCARE_HASH_KEY, purpose, value)


def normalize_number(raw: str) -> str:
    """E.164 of a number typed in any common format; raises InvalidPhone."""
    try:
        return normalize_msisdn(raw, settings.SELFCARE_PHONE_REGION)
    except InvalidPhoneNumber as exc:
        raise InvalidPhone() from exc


def _line_status(msisdn: str) -> str | None:
    from selfcare.lines.queries import get_line_by_msisdn

    line = get_line_by_msisdn(msisdn)
    return line.status if line is not None else None


def _subscriber_by_msisdn(msisdn: str) -> User | None:
    return User.objects.filter(msisdn=msisdn, is_active=True).first()


# --- one-time codes ------------------------------------------------------------------------------------


def _code_hash(msisdn: str, purpose: str, code: str) -> str:
    # Number and purpose are inside the hash too: a code can only ever match its own row's binding.
    return _hash("otp", f"{purpose}|{msisdn}|{code}")


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _is_eligible(msisdn: str, purpose: str) -> bool:
    status = _line_status(msisdn)
    if purpose == CodePurpose.REGISTRATION:
        return status == LINE_ACTIVE
    if purpose == CodePurpose.STATEMENT:
        # Asked only by a signed-in user for their own account's phone (statements'
        # request_order_code): a company admin's phone need not be a line of ours.
        return status != LINE_TERMINATED and _subscriber_by_msisdn(msisdn) is not None
    return status is not None and status != LINE_TERMINATED and _subscriber_by_msisdn(msisdn) is not None


def _throttle_code_request(msisdn: str, purpose: str, client: Client) -> None:
    """The limits a requester can see. They count requests, not sends, and so behave the same for
    every number, served or not."""
    limiter = get_limiter()
    ip = client.ip or "unknown"
    if not limiter.acquire(
        "otp-ip", ip, amount=settings.SELFCARE_OTP_REQUESTS_PER_IP_10MIN, period_s=600
    ) or not limiter.acquire(
        "otp-ip-day", ip, amount=settings.SELFCARE_OTP_REQUESTS_PER_IP_DAY, period_s=86400
    ):
        raise TooManyRequests()
    if not limiter.acquire_cooldown(
        "otp-cooldown", f"{msisdn}|{purpose}", seconds=settings.SELFCARE_OTP_RESEND_COOLDOWN_S
    ):
        raise ResendTooSoon()
    if not limiter.acquire(
        "otp-number", msisdn, amount=settings.SELFCARE_OTP_SENDS_PER_NUMBER_10MIN, period_s=600
    ) or not limiter.acquire(
        "otp-number-day", msisdn, amount=settings.SELFCARE_OTP_SENDS_PER_NUMBER_DAY, period_s=86400
    ):
        raise TooManyRequests()


def request_code(msisdn: str, *, purpose: str, client: Client, actor: str = ANONYMOUS) -> None:
    """Send a one-time code for `purpose` to `msisdn` if that number may have one.

    Returns nothing on purpose: callers (pages, API) cannot tell a served number from another.
    Raises TooManyRequests / ResendTooSoon by limits that count every number alike.
    """
    _throttle_code_request(msisdn, purpose, client)
    code = _new_code()
    code_hash = _code_hash(msisdn, purpose, code)
    with transaction.atomic():
        if not _is_eligible(msisdn, purpose):
            _audit(
                actor,
                "otp.request",
                client,
                subject_type="msisdn",
                subject_id=msisdn,
                after={"purpose": purpose},
                outcome="not_eligible",
            )
            return
        prefix = msisdn[: settings.SELFCARE_OTP_PREFIX_LENGTH]
        if not get_limiter().acquire_daily(
            "otp-prefix-day", prefix, amount=settings.SELFCARE_OTP_SENDS_PER_PREFIX_DAY
        ):
            # SMS pumping defence: silent, so a flood cannot learn where the cap stands.
            log.warning("otp.prefix_cap_reached", prefix=prefix, purpose=purpose)
            _audit(
                actor,
                "otp.request",
                client,
                subject_type="msisdn",
                subject_id=msisdn,
                after={"purpose": purpose},
                outcome="prefix_cap",
            )
            return
        now = clock.now()
        OneTimeCode.objects.filter(
            msisdn=msisdn, purpose=purpose, used_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
        otp = OneTimeCode.objects.create(
            msisdn=msisdn,
            purpose=purpose,
            code_hash=code_hash,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.SELFCARE_OTP_TTL_S),
        )
        user = _subscriber_by_msisdn(msisdn)
        language = (user.language if user is not None and user.language else "") or client.language
        _audit(
            actor,
            "otp.send",
            client,
            subject_type="msisdn",
            subject_id=msisdn,
            after={"purpose": purpose, "code_id": otp.pk},
        )
        from selfcare.notifications.services import queue_sms

        queue_sms(msisdn, template=f"otp.{purpose}", params={"code": code}, language=language, actor=actor)


def _clean_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "")


def check_code(msisdn: str, code: str, *, purpose: str, client: Client, actor: str = ANONYMOUS) -> bool:
    """Consume the current code of `msisdn` for `purpose` if `code` is it; False otherwise.

    Single use under concurrency: the row is marked used by a conditional update, so of any number of
    simultaneous correct submissions exactly one gets True. A code dies after SELFCARE_OTP_MAX_ATTEMPTS
    wrong tries, so the next try fails even with the right code.
    """
    limiter = get_limiter()
    if not limiter.acquire(
        "otp-check-ip", client.ip or "unknown", amount=settings.SELFCARE_OTP_CHECKS_PER_IP_10MIN, period_s=600
    ) or not limiter.acquire(
        "otp-check-number", msisdn, amount=settings.SELFCARE_OTP_CHECKS_PER_NUMBER_10MIN, period_s=600
    ):
        raise TooManyRequests()
    cleaned = _clean_code(code)
    now = clock.now()
    max_attempts = settings.SELFCARE_OTP_MAX_ATTEMPTS
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.filter(
                msisdn=msisdn, purpose=purpose, used_at__isnull=True, superseded_at__isnull=True
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        outcome = "wrong"
        if otp is None:
            outcome = "no_code"
        elif otp.expires_at <= now:
            outcome = "expired"
        elif otp.attempts >= max_attempts:
            outcome = "attempts_spent"
        elif hmac.compare_digest(otp.code_hash, _code_hash(msisdn, purpose, cleaned)):
            claimed = OneTimeCode.objects.filter(
                pk=otp.pk,
                used_at__isnull=True,
                superseded_at__isnull=True,
                attempts__lt=max_attempts,
                expires_at__gt=now,
            ).update(used_at=now)
            outcome = "ok" if claimed == 1 else "already_used"
        else:
            OneTimeCode.objects.filter(pk=otp.pk, attempts__lt=max_attempts).update(
                attempts=F("attempts") + 1
            )
        _audit(
            actor,
            "otp.check",
            client,
            subject_type="msisdn",
            subject_id=msisdn,
            after={"purpose": purpose, **({"code_id": otp.pk} if otp else {})},
            outcome=outcome,
        )
    return outcome == "ok"


# --- passwords -----------------------------------------------------------------------------------------

# Hashing a password for a login name that does not exist costs the same as checking a real one.
_DUMMY_HASH: list[str] = []


def _dummy_check(password: str) -> None:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(make_password(secrets.token_urlsafe(16)))
    check_password(password, _DUMMY_HASH[0])


def validate_subscriber_password(password: str, *, msisdn: str) -> None:
    """Django's validators (settings.AUTH_PASSWORD_VALIDATORS) for a subscriber with this number;
    raises django.core.exceptions.ValidationError."""
    validate_password(password, user=User(username=msisdn, msisdn=msisdn))


def _set_password(user: User, password: str) -> None:
    user.set_password(normalize_password(password))


def _login_key(identifier: str) -> str:
    """The one spelling of a login name, so "8 900 123-45-67" and "+79001234567" share a throttle."""
    try:
        return normalize_number(identifier)
    except InvalidPhone:
        return identifier.strip().lower()[:150]


def _find_login_user(login_key: str) -> User | None:
    if login_key.startswith("+"):
        return User.objects.filter(msisdn=login_key, is_active=True).first()
    return User.objects.filter(username=login_key, is_active=True, msisdn__isnull=False).first()


def _check_login_delays(login_key: str, client: Client) -> None:
    limiter = get_limiter()
    for name, key, free in (
        ("login-account", login_key, settings.SELFCARE_LOGIN_FREE_FAILURES_PER_ACCOUNT),
        ("login-ip", client.ip or "unknown", settings.SELFCARE_LOGIN_FREE_FAILURES_PER_IP),
    ):
        delay = limiter.login_delay(name, key, free_failures=free)
        if delay.wait_s > 0:
            raise LoginDelayed(seconds=delay.wait_s)


def _record_login_failure(login_key: str, client: Client) -> None:
    limiter = get_limiter()
    limiter.record_login_failure("login-account", login_key)
    limiter.record_login_failure("login-ip", client.ip or "unknown")


def authenticate_subscriber(identifier: str, password: str, *, client: Client) -> User:
    """The subscriber whose number or alias and password these are; raises InvalidCredentials (same
    message for an unknown name and a wrong password) or LoginDelayed after repeated failures."""
    login_key = _login_key(identifier)
    _check_login_delays(login_key, client)
    user = _find_login_user(login_key)
    candidate = normalize_password(password)[: PASSWORD_MAX_LENGTH * 4]
    if user is None:
        _dummy_check(candidate)
        ok = False
    else:
        ok = user.check_password(candidate)
    if not ok:
        _record_login_failure(login_key, client)
        with transaction.atomic():
            _audit(
                ANONYMOUS,
                "login.failed",
                client,
                subject_type="user" if user is not None else "login",
                subject_id=user.pk if user is not None else login_key,
                outcome="wrong_password",
            )
        raise InvalidCredentials()
    get_limiter().clear_login_failures("login-account", login_key)
    return user  # type: ignore[return-value]


# --- devices and web sessions --------------------------------------------------------------------------


def new_device_id() -> str:
    return secrets.token_urlsafe(24)


def _device_hash(device_id: str) -> str:
    return _hash("device", device_id)


def is_known_device(user: User, device_id: str) -> bool:
    return bool(device_id) and Device.objects.filter(user=user, device_hash=_device_hash(device_id)).exists()


def needs_device_confirmation(user: User, device_id: str) -> bool:
    return bool(settings.SELFCARE_NEW_DEVICE_CONFIRMATION) and not is_known_device(user, device_id)


def _note_device(user: User, device_id: str, client: Client) -> tuple[Device, bool]:
    """The device row (created or refreshed) and whether it is new to this user."""
    now = clock.now()
    device_hash = _device_hash(device_id)
    device = Device.objects.select_for_update().filter(user=user, device_hash=device_hash).first()
    if device is not None:
        Device.objects.filter(pk=device.pk).update(
            last_seen_at=now, last_ip=client.ip, user_agent=client.user_agent[:300]
        )
        return device, False
    try:
        with transaction.atomic():
            device = Device.objects.create(
                user=user,
                device_hash=device_hash,
                user_agent=client.user_agent[:300],
                first_seen_at=now,
                last_seen_at=now,
                last_ip=client.ip,
            )
    except IntegrityError:
        # The same new device signed in twice at once; the other request made the row.
        return Device.objects.get(user=user, device_hash=device_hash), False
    return device, True


def _describe_device(user_agent: str) -> str:
    agent = user_agent or ""
    for name in ("Edg", "Firefox", "Chrome", "Safari", "Opera"):
        if name in agent:
            browser = {"Edg": "Edge"}.get(name, name)
            break
    else:
        browser = "app" if agent else "?"
    for system in ("Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"):
        if system in agent:
            return f"{browser}, {system}"
    return browser


def _signed_in(user: User, *, device_id: str, client: Client, method: str) -> Device:
    """What every successful sign-in does: note the device, tell the subscriber about a new one, audit."""
    # The very first device (registration) is no news to the subscriber; any later new one is.
    had_devices = Device.objects.filter(user=user).exists()
    device, is_new = _note_device(user, device_id, client)
    User.objects.filter(pk=user.pk).update(last_login=clock.now())
    _audit(
        f"user:{user.pk}",
        "login",
        client,
        subject_type="user",
        subject_id=user.pk,
        after={"method": method, "device_id": device.pk, "new_device": is_new},
    )
    if is_new and had_devices and user.msisdn:
        from selfcare.notifications.services import queue_sms

        queue_sms(
            user.msisdn,
            template="security.new_sign_in",
            params={"device": _describe_device(client.user_agent)},
            language=user.language or client.language,
            actor=f"user:{user.pk}",
        )
    return device


def session_hash(session_key: str) -> str:
    return _hash("session", session_key)


def start_web_session(
    user: User, *, session_key: str, device_id: str, client: Client, method: str
) -> UserSession:
    """Record a browser session that django.contrib.auth.login has just opened (new session key)."""
    with transaction.atomic():
        device = _signed_in(user, device_id=device_id, client=client, method=method)
        now = clock.now()
        return UserSession.objects.create(
            user=user,
            session_hash=session_hash(session_key),
            device=device,
            created_at=now,
            last_activity_at=now,
            ip=client.ip,
            user_agent=client.user_agent[:300],
        )


def check_web_session(user: User, *, session_key: str, client: Client) -> str:
    """ "" if the session may go on (its last activity is refreshed), else why it has ended."""
    now = clock.now()
    row = UserSession.objects.filter(session_hash=session_hash(session_key)).first()
    if row is None:
        # A session opened outside the subscriber login (staff through the back office): track it from now.
        with transaction.atomic():
            UserSession.objects.create(
                user=user,
                session_hash=session_hash(session_key),
                created_at=now,
                last_activity_at=now,
                ip=client.ip,
                user_agent=client.user_agent[:300],
            )
        return ""
    if row.ended_at is not None or row.user_id != user.pk:
        return row.end_reason or "ended"
    reason = ""
    if now - row.created_at >= timedelta(seconds=settings.SELFCARE_SESSION_ABSOLUTE_TIMEOUT_S):
        reason = "absolute_timeout"
    elif now - row.last_activity_at >= timedelta(seconds=settings.SELFCARE_SESSION_IDLE_TIMEOUT_S):
        reason = "idle_timeout"
    if reason:
        _end_sessions(UserSession.objects.filter(pk=row.pk), actor="system", reason=reason, client=client)
        return reason
    # One write a minute at most: the activity clock needs no more precision than that.
    if now - row.last_activity_at >= timedelta(seconds=60):
        UserSession.objects.filter(pk=row.pk, ended_at__isnull=True).update(last_activity_at=now)
    return ""


def _end_sessions(sessions: QuerySet[UserSession], *, actor: str, reason: str, client: Client) -> int:
    now = clock.now()
    with transaction.atomic():
        ended = list(sessions.filter(ended_at__isnull=True).values_list("pk", "user_id"))
        UserSession.objects.filter(pk__in=[pk for pk, _user in ended]).update(ended_at=now, end_reason=reason)
        for pk, user_id in ended:
            _audit(
                actor,
                "session.end",
                client,
                subject_type="user",
                subject_id=user_id,
                after={"session_id": pk, "reason": reason},
            )
    return len(ended)


def end_web_session(user: User, session_id: int, *, actor: str, client: Client, reason: str = "ended") -> int:
    """End one of `user`'s sessions (by row id); 0 when it is not theirs or already over."""
    return _end_sessions(
        UserSession.objects.filter(user=user, pk=session_id), actor=actor, reason=reason, client=client
    )


def end_current_session(user: User, *, session_key: str, client: Client, reason: str = "logout") -> int:
    return _end_sessions(
        UserSession.objects.filter(user=user, session_hash=session_hash(session_key)),
        actor=f"user:{user.pk}",
        reason=reason,
        client=client,
    )


def end_other_sessions(user: User, *, keep_session_key: str, actor: str, client: Client, reason: str) -> int:
    keep = session_hash(keep_session_key) if keep_session_key else ""
    return _end_sessions(
        UserSession.objects.filter(user=user).exclude(session_hash=keep),
        actor=actor,
        reason=reason,
        client=client,
    )


def forget_device(user: User, device_id: int, *, client: Client) -> bool:
    """Forget a device: the next sign-in from it asks for a confirmation code again."""
    with transaction.atomic():
        deleted, _rows = Device.objects.filter(user=user, pk=device_id).delete()
        if deleted:
            _audit(
                f"user:{user.pk}",
                "device.forget",
                client,
                subject_type="user",
                subject_id=user.pk,
                after={"device_id": device_id},
            )
    return bool(deleted)


def list_active_sessions(user: User) -> QuerySet[UserSession]:
    return UserSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_activity_at")


def list_devices(user: User) -> QuerySet[Device]:
    return Device.objects.filter(user=user).order_by("-last_seen_at")


def list_own_audit_events(user: User, *, limit: int = 50) -> list[AuditEvent]:
    subject = Q(subject_type="user", subject_id=str(user.pk)) | Q(actor=f"user:{user.pk}")
    if user.msisdn:
        subject |= Q(subject_type="msisdn", subject_id=user.msisdn)
    return list(AuditEvent.objects.filter(subject).order_by("-created_at", "-pk")[:limit])


# --- registration, code sign-in, reset, change ----------------------------------------------------------


def _revoke_everything(
    user: User, *, actor: str, client: Client, reason: str, keep_session_key: str = ""
) -> None:
    end_other_sessions(user, keep_session_key=keep_session_key, actor=actor, client=client, reason=reason)
    revoke_token_families(RefreshToken.objects.filter(user=user), actor=actor, client=client, reason=reason)


def complete_registration(msisdn: str, *, code: str, password: str, client: Client) -> User:
    """Check the registration code and set the password: a new subscriber account, or (when the number
    already has one) a new password for it, since holding the SIM proves the same thing either way.

    The password is validated before the code is touched, so a weak password does not burn the code.
    Raises ValidationError (password), InvalidCode, TooManyRequests.
    """
    validate_subscriber_password(password, msisdn=msisdn)
    if not check_code(msisdn, code, purpose=CodePurpose.REGISTRATION, client=client):
        raise InvalidCode()
    with transaction.atomic():
        if _line_status(msisdn) != LINE_ACTIVE:
            raise InvalidCode()
        user = User.objects.select_for_update().filter(msisdn=msisdn).first()
        existed = user is not None
        if user is None:
            user = User(username=msisdn, msisdn=msisdn, language=client.language[:8])
        _set_password(user, password)
        user.is_active = True
        user.save()
        _audit(
            f"user:{user.pk}",
            "registration",
            client,
            subject_type="user",
            subject_id=user.pk,
            after={"msisdn": msisdn, "existing_account": existed},
        )
        if existed:
            _revoke_everything(user, actor=f"user:{user.pk}", client=client, reason="password_reset")
    return user


def login_with_code(msisdn: str, *, code: str, client: Client) -> User:
    """The subscriber of `msisdn` after a correct sign-in code; raises InvalidCode otherwise."""
    if not check_code(msisdn, code, purpose=CodePurpose.LOGIN, client=client):
        raise InvalidCode()
    user = _subscriber_by_msisdn(msisdn)
    if user is None:
        raise InvalidCode()
    return user


def confirm_device(user: User, *, code: str, client: Client) -> None:
    """Second step of a password sign-in from a new device; raises InvalidCode."""
    if not user.msisdn or not check_code(
        user.msisdn, code, purpose=CodePurpose.CONFIRM, client=client, actor=f"user:{user.pk}"
    ):
        raise InvalidCode()


def reset_password(msisdn: str, *, code: str, password: str, client: Client) -> User:
    """Set a new password with a reset code; every other session and API token of the account ends."""
    validate_subscriber_password(password, msisdn=msisdn)
    if not check_code(msisdn, code, purpose=CodePurpose.RESET, client=client):
        raise InvalidCode()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(msisdn=msisdn, is_active=True).first()
        if user is None:
            raise InvalidCode()
        _set_password(user, password)
        user.save(update_fields=["password"])
        _audit(f"user:{user.pk}", "password.reset", client, subject_type="user", subject_id=user.pk)
        _revoke_everything(user, actor=f"user:{user.pk}", client=client, reason="password_reset")
        _notify_password_changed(user, client)
    get_limiter().clear_login_failures("login-account", msisdn)
    return user


def _notify_password_changed(user: User, client: Client) -> None:
    if user.msisdn:
        from selfcare.notifications.services import queue_sms

        queue_sms(
            user.msisdn,
            template="security.password_changed",
            params={},
            language=user.language or client.language,
            actor=f"user:{user.pk}",
        )


def change_password(
    user: User, *, current_password: str, new_password: str, keep_session_key: str, client: Client
) -> None:
    """Change the password with the current one. Other sessions and all API tokens end; the session
    the change was made from stays. Wrong current passwords count as failed logins."""
    login_key = user.msisdn or user.username
    _check_login_delays(login_key, client)
    if not user.check_password(normalize_password(current_password)):
        _record_login_failure(login_key, client)
        with transaction.atomic():
            _audit(
                f"user:{user.pk}",
                "password.change",
                client,
                subject_type="user",
                subject_id=user.pk,
                outcome="wrong_current",
            )
        raise WrongCurrentPassword()
    validate_password(new_password, user=user)
    with transaction.atomic():
        _set_password(user, new_password)
        user.save(update_fields=["password"])
        _audit(f"user:{user.pk}", "password.change", client, subject_type="user", subject_id=user.pk)
        _revoke_everything(
            user,
            actor=f"user:{user.pk}",
            client=client,
            reason="password_changed",
            keep_session_key=keep_session_key,
        )
        _notify_password_changed(user, client)


_ALIAS_RE = re.compile(r"^[a-z][a-z0-9._-]{2,29}$")


def set_alias(user: User, *, alias: str, client: Client) -> None:
    """Let the subscriber sign in with `alias` instead of the number ("" goes back to the number)."""
    alias = alias.strip().lower()
    new_username = alias or (user.msisdn or user.username)
    if alias and not _ALIAS_RE.match(alias):
        raise AliasNotAvailable()
    before = user.username
    with transaction.atomic():
        if alias and User.objects.filter(username=alias).exclude(pk=user.pk).exists():
            raise AliasNotAvailable()
        try:
            with transaction.atomic():
                User.objects.filter(pk=user.pk).update(username=new_username)
        except IntegrityError as exc:
            raise AliasNotAvailable() from exc
        _audit(
            f"user:{user.pk}",
            "alias.set",
            client,
            subject_type="user",
            subject_id=user.pk,
            before={"username": before},
            after={"username": new_username},
        )
    user.username = new_username


def log_out(user: User, *, session_key: str, client: Client) -> None:
    end_current_session(user, session_key=session_key, client=client, reason="logout")


def check_rate_limit(name: str, key: str, *, amount: int, period_s: int) -> None:
    """Take one unit of `amount` per `period_s` for `key` (a user id, an address) from the shared
    limiter, for other domains' forms; raises TooManyRequests when none is left."""
    if not get_limiter().acquire(name, key, amount=amount, period_s=period_s):
        raise TooManyRequests()


def rate_limit_left(name: str, key: str, *, amount: int, period_s: int) -> int:
    """How many units of `amount` per `period_s` are left for `key` in the shared limiter, taking
    none (a check before work whose failures alone are counted with `check_rate_limit`)."""
    return get_limiter().remaining(name, key, amount=amount, period_s=period_s)


# --- people invited to a company (selfcare.companies) ---------------------------------------------------


def has_subscriber_account(msisdn: str) -> bool:
    """Whether an active user signs in with this number (an invitation then asks for its password)."""
    return _subscriber_by_msisdn(msisdn) is not None


def enroll_invited_user(msisdn: str, *, password: str, client: Client) -> User:
    """The user who accepts an invitation sent to `msisdn`.

    When the number already has an account, `password` must be its password (checked like a
    sign-in, with the same delays after failures): an invitation link never resets a password. Else
    a new account is made with this password (the password rules apply). Raises InvalidCredentials,
    LoginDelayed, ValidationError (password).
    """
    if _subscriber_by_msisdn(msisdn) is not None:
        return authenticate_subscriber(msisdn, password, client=client)
    validate_subscriber_password(password, msisdn=msisdn)
    with transaction.atomic():
        user = User(username=msisdn, msisdn=msisdn, language=client.language[:8])
        _set_password(user, password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            # A disabled account holds the number (or one was made a moment ago): never taken over here.
            raise InvalidCredentials() from exc
        _audit(
            f"user:{user.pk}",
            "user.invited",
            client,
            subject_type="user",
            subject_id=user.pk,
            after={"msisdn": msisdn},
        )
    return user


# --- profile: e-mail for statements, language, SMS preferences, the subscriber's own block --------------
# The data lives with its domain (the customer's e-mail in lines, SMS preferences in notifications);
# these functions are the subscriber's door to it, for the profile page and the API alike.

CUSTOMER_INDIVIDUAL = "individual"  # lines.models.CustomerKind.INDIVIDUAL


@dataclass(frozen=True)
class Profile:
    msisdn: str
    # The e-mail for statements; only an individual customer's own (a company's is staff's to change).
    email: str
    email_editable: bool
    language: str
    # The optional SMS kinds (notifications.models.SmsKind) that are switched on.
    sms_enabled: frozenset[str]
    line_status: str
    # True when the line is under the subscriber's own block (it can be lifted from the profile).
    blocked_by_subscriber: bool


def _own_line(user: User) -> Any:
    from selfcare.lines.queries import get_line_by_msisdn

    line = get_line_by_msisdn(user.msisdn or "") if user.msisdn else None
    if line is None:
        raise NoLine()
    return line


def get_profile(user: User) -> Profile:
    from selfcare.notifications.queries import get_sms_settings

    line = _own_line(user)
    customer = line.account.customer
    sms = get_sms_settings(line.msisdn)
    return Profile(
        msisdn=line.msisdn,
        email=customer.email if customer.kind == CUSTOMER_INDIVIDUAL else "",
        email_editable=customer.kind == CUSTOMER_INDIVIDUAL,
        language=user.language or sms.language or customer.language or settings.LANGUAGE_CODE,
        sms_enabled=sms.enabled_kinds,
        line_status=line.status,
        blocked_by_subscriber=line.status == LINE_BLOCKED_BY_SUBSCRIBER,
    )


def _check_language(language: str) -> str:
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise UnknownLanguage()
    return language


def update_profile(
    user: User,
    *,
    client: Client,
    email: str | None = None,
    language: str | None = None,
    sms_enabled: set[str] | None = None,
) -> Profile:
    """Change what the subscriber may change about themselves; None leaves a field as it is.

    E-mail: no SMS code is asked (it only says where statements go) but the change is audited with
    before and after. Language: the pages (user), the SMS (notifications) and, for an individual
    customer, statements and billing messages (lines). Raises InvalidEmail, EmailNotEditable,
    UnknownLanguage, UnknownSmsKind; nothing changes when one is raised.
    """
    from selfcare.lines.services import set_customer_contact
    from selfcare.notifications.queries import get_sms_settings, list_sms_kinds
    from selfcare.notifications.services import set_sms_preferences

    actor = f"user:{user.pk}"
    line = _own_line(user)
    customer = line.account.customer
    individual = customer.kind == CUSTOMER_INDIVIDUAL
    if email is not None:
        email = email.strip()
        if email != customer.email and not individual:
            raise EmailNotEditable()
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise InvalidEmail() from exc
    if language is not None:
        language = _check_language(language)
    kinds = {value for value, _label in list_sms_kinds()}
    if sms_enabled is not None and not set(sms_enabled) <= kinds:
        raise UnknownSmsKind()
    with transaction.atomic():
        if language is not None and language != user.language:
            before = user.language
            User.objects.filter(pk=user.pk).update(language=language)
            user.language = language
            _audit(
                actor,
                "profile.language",
                client,
                subject_type="user",
                subject_id=user.pk,
                before={"language": before},
                after={"language": language},
            )
        if individual and (email is not None or language is not None):
            set_customer_contact(
                customer,
                email=customer.email if email is None else email,
                language=language or customer.language,
                actor=actor,
            )
        if language is not None or sms_enabled is not None:
            current = get_sms_settings(line.msisdn)
            enabled = current.enabled_kinds if sms_enabled is None else frozenset(sms_enabled)
            set_sms_preferences(
                line.msisdn,
                language=language or current.language,
                muted_kinds=kinds - enabled,
                actor=actor,
            )
    return get_profile(user)


def block_own_line(user: User) -> Profile:
    """The subscriber blocks their own number (lost phone); see lines.services.block_line_voluntarily."""
    from selfcare.lines.services import block_line_voluntarily

    block_line_voluntarily(_own_line(user), actor=f"user:{user.pk}")
    return get_profile(user)


def unblock_own_line(user: User) -> Profile:
    """Lift the subscriber's own block; a block for debt stays (lines.services.unblock_line_voluntarily)."""
    from selfcare.lines.services import unblock_line_voluntarily

    unblock_line_voluntarily(_own_line(user), actor=f"user:{user.pk}")
    return get_profile(user)


# --- API tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign_payload(purpose: str, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_hash(purpose, body)}"


def _read_signed(purpose: str, token: str) -> dict[str, Any] | None:
    body, _dot, signature = (token or "").partition(".")
    if not body or not signature or not hmac.compare_digest(signature, _hash(purpose, body)):
        return None
    try:
        payload = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) <= clock.now().timestamp():
        return None
    return payload


def _new_refresh(user: User, *, family: uuid.UUID, device: Device | None, client: Client) -> str:
    token = "rt_" + secrets.token_urlsafe(32)
    now = clock.now()
    RefreshToken.objects.create(
        user=user,
        family=family,
        token_hash=_hash("refresh-token", token),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SELFCARE_REFRESH_TOKEN_TTL_S),
        device=device,
        ip=client.ip,
        user_agent=client.user_agent[:300],
    )
    return token


def _new_access(user: User, family: uuid.UUID) -> str:
    expires = clock.now().timestamp() + settings.SELFCARE_ACCESS_TOKEN_TTL_S
    return "at_" + _sign_payload("access-token", {"u": user.pk, "f": str(family), "exp": int(expires)})


def issue_api_tokens(user: User, *, device_id: str, client: Client, method: str) -> TokenPair:
    """A new token family for a sign-in through the API (the app's install id is its device id)."""
    with transaction.atomic():
        device = _signed_in(
            user, device_id=device_id or new_device_id(), client=client, method=f"api:{method}"
        )
        family = uuid.uuid4()
        refresh = _new_refresh(user, family=family, device=device, client=client)
    return TokenPair(_new_access(user, family), refresh, settings.SELFCARE_ACCESS_TOKEN_TTL_S)


def revoke_token_families(tokens: QuerySet[RefreshToken], *, actor: str, client: Client, reason: str) -> int:
    now = clock.now()
    with transaction.atomic():
        families = sorted(
            {str(f) for f in tokens.filter(revoked_at__isnull=True).values_list("family", flat=True)}
        )
        if families:
            RefreshToken.objects.filter(family__in=families, revoked_at__isnull=True).update(revoked_at=now)
        for family in families:
            user_id = RefreshToken.objects.filter(family=family).values_list("user_id", flat=True).first()
            _audit(
                actor,
                "token.revoke",
                client,
                subject_type="user",
                subject_id=user_id,
                after={"family": family, "reason": reason},
            )
    return len(families)


def rotate_refresh_token(token: str, *, client: Client) -> TokenPair:
    """Trade a refresh token for a new pair. A token presented twice means it leaked: its whole family
    (every token descended from the same sign-in) is revoked and both holders must sign in again."""
    token_hash = _hash("refresh-token", token or "")
    now = clock.now()
    reused = False
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update()
            .filter(token_hash=token_hash)
            .select_related("user")
            .first()
        )
        if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.is_active:
            row = None
        elif row.used_at is not None:
            reused = True
        else:
            claimed = RefreshToken.objects.filter(
                pk=row.pk, used_at__isnull=True, revoked_at__isnull=True
            ).update(used_at=now)
            reused = claimed != 1
        if row is not None and not reused:
            refresh = _new_refresh(row.user, family=row.family, device=row.device, client=client)
            _audit(
                f"user:{row.user_id}",
                "token.refresh",
                client,
                subject_type="user",
                subject_id=row.user_id,
                after={"family": str(row.family)},
            )
            return TokenPair(_new_access(row.user, row.family), refresh, settings.SELFCARE_ACCESS_TOKEN_TTL_S)
    if row is not None and reused:
        revoke_token_families(
            RefreshToken.objects.filter(family=row.family),
            actor="system",
            client=client,
            reason="refresh_token_reuse",
        )
    raise InvalidToken()


def revoke_refresh_token(token: str, *, client: Client) -> None:
    """Log out of the API: the token's family ends (its access tokens stop working at once)."""
    row = RefreshToken.objects.filter(token_hash=_hash("refresh-token", token or "")).first()
    if row is None:
        raise InvalidToken()
    revoke_token_families(
        RefreshToken.objects.filter(family=row.family),
        actor=f"user:{row.user_id}",
        client=client,
        reason="logout",
    )


def authenticate_access_token(token: str) -> User | None:
    """The user of a valid, unexpired access token whose family is not revoked."""
    if not token.startswith("at_"):
        return None
    payload = _read_signed("access-token", token[3:])
    if payload is None:
        return None
    family, user_id = str(payload.get("f", "")), int(payload.get("u", 0))
    if not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists():
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def make_login_challenge(user: User, *, device_id: str, client: Client) -> str:
    """API password sign-in from a new device: send a confirmation code and return a short-lived
    signed challenge naming the user and device, to be presented with the code."""
    request_code(user.msisdn or "", purpose=CodePurpose.CONFIRM, client=client, actor=f"user:{user.pk}")
    expires = int(clock.now().timestamp()) + settings.SELFCARE_OTP_TTL_S
    return _sign_payload("login-challenge", {"u": user.pk, "d": _device_hash(device_id), "exp": expires})


def read_login_challenge(challenge: str, *, device_id: str) -> User:
    payload = _read_signed("login-challenge", challenge)
    if payload is None or not hmac.compare_digest(str(payload.get("d", "")), _device_hash(device_id)):
        raise InvalidToken()
    user = User.objects.filter(pk=int(payload.get("u", 0)), is_active=True).first()
    if user is None:
        raise InvalidToken()
    return user
