"""What the identity services need to know about an HTTP request: the client's address and agent."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from selfcare.identity.services import Client


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the header a trusted proxy sets (SELFCARE_CLIENT_IP_HEADER) when configured.

    X-Forwarded-For is never read by default: any client can send it, and a throttle keyed on it would
    be a throttle the attacker chooses."""
    header = settings.SELFCARE_CLIENT_IP_HEADER
    raw = (request.META.get(header, "") if header else "") or request.META.get("REMOTE_ADDR", "")
    candidate = raw.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def client_of(request: HttpRequest) -> Client:
    return Client(
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:300],
        language=(translation.get_language() or settings.LANGUAGE_CODE)[:8],
    )
