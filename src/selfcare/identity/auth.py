"""django-ninja authentication: network and partner systems (API keys with scopes) and subscribers
(bearer access tokens)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer

from selfcare.identity.errors import MissingScope
from selfcare.identity.services import authenticate_access_token, find_api_key


class NetworkApiKey(APIKeyHeader):
    """`X-API-Key: sk_<prefix>_<secret>` with the scope the route needs."""

    param_name = "X-API-Key"

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        api_key = find_api_key(key)
        if api_key is not None and self.scope not in api_key.scopes:
            # The caller is known: tell it what is missing (403) rather than "who are you?" (401).
            raise MissingScope(scope=self.scope)
        return api_key


class SubscriberBearer(HttpBearer):
    """`Authorization: Bearer at_...`: a short-lived access token from /api/v1/auth/ whose sign-in has
    not been revoked (logout, password change, refresh-token reuse end it at once)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_access_token(token)
        if user is not None:
            request.user = user
        return user
