"""Server-side session limits (ASVS V3): idle timeout, absolute lifetime, and sessions ended elsewhere.

Runs after AuthenticationMiddleware. A session whose UserSession row is ended (from the Security page,
a password change or reset) or that has been idle or alive too long is flushed before the view runs,
so the view sees an anonymous visitor and sends them to the login page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from selfcare.identity.http import client_of
from selfcare.identity.services import check_web_session


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session_key = request.session.session_key if hasattr(request, "session") else None
        if user is not None and user.is_authenticated and session_key:
            reason = check_web_session(user, session_key=session_key, client=client_of(request))
            if reason:
                logout(request)
                request.session["identity_session_ended"] = reason
        return self.get_response(request)
