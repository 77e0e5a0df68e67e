"""Subscriber pages of payments (top-up, payment status, history, cards, autopay, promised payment)
and the provider webhook endpoint."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from selfcare.payments import services
from selfcare.payments.errors import InvalidWebhook, ProviderUnavailable


@csrf_exempt  # server to server: the provider's signature (or our re-fetch) stands in for the CSRF token
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    try:
        outcome = services.receive_webhook(provider, body=request.body, headers=request.headers)
    except InvalidWebhook:
        return HttpResponse(status=400)
    except ProviderUnavailable:
        # The provider retries a notification we could not confirm yet.
        return HttpResponse(status=503)
    return HttpResponse(outcome, content_type="text/plain", status=200)
