"""JSON shapes of /api/v1/auth/."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from pydantic import model_validator

from selfcare.identity.validators import PASSWORD_MAX_LENGTH

_NUMBER = Field(
    ..., max_length=40, description="The phone number in any common format.", examples=["+79001234567"]
)
_CODE = Field(..., max_length=12, description="The one-time code from the SMS.", examples=["123456"])
_PASSWORD = Field(..., max_length=PASSWORD_MAX_LENGTH, description="8 to 256 characters, any script.")
_DEVICE = Field(
    "",
    max_length=200,
    description="A random id the app generates once per installation; a sign-in with a password from an "
    "id not seen before needs an SMS confirmation.",
)


class NumberIn(Schema):
    msisdn: str = _NUMBER


class Accepted(Schema):
    status: str = Field(
        "accepted",
        description="Always 'accepted': a code is sent only if the number may have one, and the answer "
        "does not say which.",
    )


class RegisterConfirmIn(Schema):
    msisdn: str = _NUMBER
    code: str = _CODE
    password: str = _PASSWORD
    device_id: str = _DEVICE


class ResetConfirmIn(RegisterConfirmIn):
    pass


class CodeLoginIn(Schema):
    msisdn: str = _NUMBER
    code: str = _CODE
    device_id: str = _DEVICE


class PasswordLoginIn(Schema):
    login: str = Field(..., max_length=150, description="The phone number or the alias.")
    password: str = _PASSWORD
    device_id: str = _DEVICE


class ConfirmLoginIn(Schema):
    challenge: str = Field(..., max_length=500)
    code: str = _CODE
    device_id: str = _DEVICE


class TokensOut(Schema):
    access_token: str = Field(
        ..., description="Send as `Authorization: Bearer <token>`; valid for expires_in s."
    )
    refresh_token: str = Field(..., description="Single use: each refresh returns a new one.")
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int


class ConfirmationRequired(Schema):
    confirmation_required: bool = True
    challenge: str = Field(..., description="Send back with the SMS code to /auth/login/confirm.")


class RefreshIn(Schema):
    refresh_token: str = Field(..., max_length=200)


class MeOut(Schema):
    msisdn: str | None
    username: str
    language: str


class ProfileOut(Schema):
    msisdn: str
    email: str = Field(..., description="Where statements go; empty: none. Only an individual's own.")
    email_editable: bool = Field(..., description="False for company lines: the company's address is used.")
    language: str = Field(..., description="en, ru or fa: pages, SMS and statements.")
    sms_enabled: list[str] = Field(
        ...,
        description="Optional SMS kinds switched on (low_balance, payments, blocking). Codes, security "
        "notices, block notices and support answers are always sent.",
    )
    line_status: str = Field(..., description="active, blocked_subscriber, blocked_debt or terminated.")
    blocked_by_subscriber: bool


class ProfileIn(Schema):
    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        # ninja reads a schema's fields as attributes of whatever was sent: with every field optional, a
        # JSON number or string would pass as "change nothing" (found by schemathesis).
        if not isinstance(data, dict) and type(data).__name__ == "DjangoGetter":
            data = data._obj
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    email: str | None = Field(None, max_length=254, description="Omit to keep; empty string: no e-mail.")
    language: str | None = Field(None, max_length=8)
    sms_enabled: list[str] | None = Field(None, description="The full list of optional kinds to keep on.")
