"""/api/v1/auth/: the sign-in flows of the web pages for the mobile app, with bearer tokens.

A short-lived signed access token (SELFCARE_ACCESS_TOKEN_TTL_S, 10 minutes by default) and a rotating
refresh token: each refresh returns a new pair, and a refresh token used twice revokes its whole family.
Endpoints that take a number answer the same for every number (202, same body).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Status

from selfcare.api.problems import Problem
from selfcare.identity import services
from selfcare.identity.auth import SubscriberBearer
from selfcare.identity.http import client_of
from selfcare.identity.models import CodePurpose, User
from selfcare.identity.schemas import (
    Accepted,
    CodeLoginIn,
    ConfirmationRequired,
    ConfirmLoginIn,
    MeOut,
    NumberIn,
    PasswordLoginIn,
    ProfileIn,
    ProfileOut,
    RefreshIn,
    RegisterConfirmIn,
    ResetConfirmIn,
    TokensOut,
)
from selfcare.kit.errors import ValidationFailed

router = Router(tags=["auth"])

_ERRORS: dict[int, type[Problem]] = {400: Problem, 401: Problem, 422: Problem, 429: Problem}


def _tokens(pair: services.TokenPair) -> TokensOut:
    return TokensOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


def _request_code(request: HttpRequest, raw_number: str, purpose: str) -> Status[Any]:
    services.request_code(services.normalize_number(raw_number), purpose=purpose, client=client_of(request))
    return Status(202, Accepted(status="accepted"))


def _validated_password(password: str, msisdn: str) -> None:
    try:
        services.validate_subscriber_password(password, msisdn=msisdn)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages)) from exc


@router.post(
    "/register/start",
    response={202: Accepted, **_ERRORS},
    auth=None,
    summary="Registration, step 1: send a code to the number if it is an active line",
)
def register_start(request: HttpRequest, body: NumberIn) -> Status[Any]:
    return _request_code(request, body.msisdn, CodePurpose.REGISTRATION)


@router.post(
    "/register/confirm",
    response={200: TokensOut, **_ERRORS},
    auth=None,
    summary="Registration, step 2: the code and a password; returns tokens",
)
def register_confirm(request: HttpRequest, body: RegisterConfirmIn) -> TokensOut:
    msisdn = services.normalize_number(body.msisdn)
    _validated_password(body.password, msisdn)
    client = client_of(request)
    user = services.complete_registration(msisdn, code=body.code, password=body.password, client=client)
    return _tokens(
        services.issue_api_tokens(user, device_id=body.device_id, client=client, method="registration")
    )


@router.post(
    "/login",
    response={200: TokensOut, 202: ConfirmationRequired, **_ERRORS},
    auth=None,
    summary="Sign in with the number (or alias) and password",
    description="From a device id not seen before (when the operator requires it) the answer is 202 with a "
    "challenge, and an SMS code is sent; finish with /auth/login/confirm.",
)
def login(request: HttpRequest, body: PasswordLoginIn) -> Status[Any]:
    client = client_of(request)
    user = services.authenticate_subscriber(body.login, body.password, client=client)
    if services.needs_device_confirmation(user, body.device_id):
        challenge = services.make_login_challenge(user, device_id=body.device_id, client=client)
        return Status(202, ConfirmationRequired(challenge=challenge))
    tokens = services.issue_api_tokens(user, device_id=body.device_id, client=client, method="password")
    return Status(200, _tokens(tokens))


@router.post(
    "/login/confirm",
    response={200: TokensOut, **_ERRORS},
    auth=None,
    summary="Finish a password sign-in from a new device with the SMS code",
)
def login_confirm(request: HttpRequest, body: ConfirmLoginIn) -> TokensOut:
    client = client_of(request)
    user = services.read_login_challenge(body.challenge, device_id=body.device_id)
    services.confirm_device(user, code=body.code, client=client)
    return _tokens(
        services.issue_api_tokens(user, device_id=body.device_id, client=client, method="password+sms")
    )


@router.post(
    "/otp/start",
    response={202: Accepted, **_ERRORS},
    auth=None,
    summary="Sign in by SMS code, step 1: send a code to a registered number",
)
def otp_start(request: HttpRequest, body: NumberIn) -> Status[Any]:
    return _request_code(request, body.msisdn, CodePurpose.LOGIN)


@router.post(
    "/otp/confirm",
    response={200: TokensOut, **_ERRORS},
    auth=None,
    summary="Sign in by SMS code, step 2: the code; returns tokens",
)
def otp_confirm(request: HttpRequest, body: CodeLoginIn) -> TokensOut:
    client = client_of(request)
    user = services.login_with_code(services.normalize_number(body.msisdn), code=body.code, client=client)
    return _tokens(services.issue_api_tokens(user, device_id=body.device_id, client=client, method="code"))


@router.post(
    "/reset/start",
    response={202: Accepted, **_ERRORS},
    auth=None,
    summary="Password reset, step 1: send a code to a registered number",
)
def reset_start(request: HttpRequest, body: NumberIn) -> Status[Any]:
    return _request_code(request, body.msisdn, CodePurpose.RESET)


@router.post(
    "/reset/confirm",
    response={200: TokensOut, **_ERRORS},
    auth=None,
    summary="Password reset, step 2: the code and the new password; every other sign-in ends",
)
def reset_confirm(request: HttpRequest, body: ResetConfirmIn) -> TokensOut:
    msisdn = services.normalize_number(body.msisdn)
    _validated_password(body.password, msisdn)
    client = client_of(request)
    user = services.reset_password(msisdn, code=body.code, password=body.password, client=client)
    return _tokens(services.issue_api_tokens(user, device_id=body.device_id, client=client, method="reset"))


@router.post(
    "/refresh",
    response={200: TokensOut, **_ERRORS},
    auth=None,
    summary="Trade a refresh token for a new pair (the old refresh token stops working)",
)
def refresh(request: HttpRequest, body: RefreshIn) -> TokensOut:
    return _tokens(services.rotate_refresh_token(body.refresh_token, client=client_of(request)))


@router.post(
    "/logout",
    response={204: None, **_ERRORS},
    auth=SubscriberBearer(),
    summary="Sign out: the refresh token's family and its access tokens stop working",
)
def logout(request: HttpRequest, body: RefreshIn) -> Status[Any]:
    services.revoke_refresh_token(body.refresh_token, client=client_of(request))
    return Status(204, None)


@router.get(
    "/me", response={200: MeOut, 401: Problem}, auth=SubscriberBearer(), summary="Who the token belongs to"
)
def me(request: HttpRequest) -> MeOut:
    user: User = request.auth  # type: ignore[attr-defined]
    return MeOut(msisdn=user.msisdn, username=user.username, language=user.language)


# --- /api/v1/profile/: the profile page for the mobile app ------------------------------------------------

profile_router = Router(tags=["profile"], auth=SubscriberBearer())
_PROFILE_ERRORS: dict[int, type[Problem]] = {
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
}


def _profile(profile: services.Profile) -> ProfileOut:
    return ProfileOut(
        msisdn=profile.msisdn,
        email=profile.email,
        email_editable=profile.email_editable,
        language=profile.language,
        sms_enabled=sorted(profile.sms_enabled),
        line_status=profile.line_status,
        blocked_by_subscriber=profile.blocked_by_subscriber,
    )


@profile_router.get("/", response={200: ProfileOut, **_PROFILE_ERRORS}, summary="The subscriber's profile")
def get_profile(request: HttpRequest) -> ProfileOut:
    return _profile(services.get_profile(request.auth))  # type: ignore[attr-defined]


@profile_router.patch(
    "/",
    response={200: ProfileOut, **_PROFILE_ERRORS},
    summary="Change the e-mail for statements, the language or the SMS kinds (omitted fields stay)",
)
def patch_profile(request: HttpRequest, body: ProfileIn) -> ProfileOut:
    updated = services.update_profile(
        request.auth,  # type: ignore[attr-defined]
        client=client_of(request),
        email=body.email,
        language=body.language,
        sms_enabled=None if body.sms_enabled is None else set(body.sms_enabled),
    )
    return _profile(updated)


@profile_router.post(
    "/block",
    response={200: ProfileOut, **_PROFILE_ERRORS},
    summary="Block the subscriber's own number (lost phone); the app asks for confirmation first",
)
def block(request: HttpRequest) -> ProfileOut:
    return _profile(services.block_own_line(request.auth))  # type: ignore[attr-defined]


@profile_router.post(
    "/unblock",
    response={200: ProfileOut, **_PROFILE_ERRORS},
    summary="Lift the subscriber's own block (a block for debt stays: line_status tells)",
)
def unblock(request: HttpRequest) -> ProfileOut:
    return _profile(services.unblock_own_line(request.auth))  # type: ignore[attr-defined]
