"""django-ninja authentication for network and partner systems (API keys with scopes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader

from selfcare.identity.services import authenticate_api_key


class NetworkApiKey(APIKeyHeader):
    """`X-API-Key: sk_<prefix>_<secret>` with the scope the route needs."""

    param_name = "X-API-Key"

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        return authenticate_api_key(key, scope=self.scope)
