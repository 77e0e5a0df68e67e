"""/dev/sms: what the console gateway "sent", so a person trying the demo can read their code.

It exists only in demo and debug mode (404 otherwise, as if there were no such page). In debug mode
outside the demo it is for staff only; in the demo every visitor may see it, because the demo numbers
belong to nobody and reading the code is how one signs in there.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from selfcare.notifications import services

MESSAGES_SHOWN = 20


@never_cache
@require_GET
def dev_sms(request: HttpRequest) -> HttpResponse:
    if not (settings.DEMO or settings.DEBUG):
        raise Http404
    if not settings.DEMO and not (request.user.is_authenticated and request.user.is_staff):
        # Staff sign in through the back office, not the subscriber login page.
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    context = {"sms_messages": services.list_recent_console_messages(MESSAGES_SHOWN)}
    # django-htmx sets request.htmx; the page polls for new messages and only the list is swapped in.
    polling = bool(getattr(request, "htmx", False))
    template = "notifications/dev_sms.html#message-list" if polling else "notifications/dev_sms.html"
    response = render(request, template, context)
    response["X-Robots-Tag"] = "noindex"
    return response
