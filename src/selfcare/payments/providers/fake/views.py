"""The fake acquirer's own pages: the hosted card page, the 3-D Secure step, its status API and the
test hooks. This is the outside system's side: our payment logic never calls these views."""

from __future__ import annotations

import hmac
import json

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from selfcare.kit.money import format_money
from selfcare.payments.models import FakeAcquirerPayment
from selfcare.payments.providers.fake import acquirer

_REASONS = {
    "invalid_number": _("This is not a valid card number."),
    "invalid_cvc": _("The security code has 3 or 4 digits."),
    "expired_card": _("The card has expired."),
}


class CardForm(forms.Form):
    number = forms.CharField(label=_("Card number"), max_length=23)
    expiry = forms.RegexField(
        label=_("Expiry (MM/YY)"), regex=r"^\s*(0[1-9]|1[0-2])\s*/\s*(\d{2})\s*$", max_length=7
    )
    cvc = forms.CharField(label=_("Security code"), max_length=4)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["number"].widget.attrs.update({"autocomplete": "cc-number", "inputmode": "numeric"})
        self.fields["expiry"].widget.attrs.update({"autocomplete": "cc-exp", "placeholder": "MM/YY"})
        self.fields["cvc"].widget.attrs.update({"autocomplete": "cc-csc", "inputmode": "numeric"})


def _payment_or_404(payment_id: str) -> FakeAcquirerPayment:
    payment = acquirer.get_payment(payment_id)
    if payment is None:
        raise Http404
    return payment


def _back_to_merchant(payment: FakeAcquirerPayment) -> HttpResponse:
    return HttpResponseRedirect(payment.return_url or "/")


@never_cache
@sensitive_post_parameters("number", "cvc", "expiry")
def pay(request: HttpRequest, payment_id: str) -> HttpResponse:
    payment = _payment_or_404(payment_id)
    if payment.status == acquirer.REQUIRES_ACTION:
        return HttpResponseRedirect(f"/fake-acquirer/pay/{payment.id}/challenge/")
    if payment.status != acquirer.PENDING:
        return _back_to_merchant(payment)
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        expiry = form.cleaned_data["expiry"].replace(" ", "")
        month, year = expiry.split("/")
        try:
            payment = acquirer.submit_card(
                payment.id,
                number=form.cleaned_data["number"].strip(),
                exp_month=int(month),
                exp_year=2000 + int(year),
                cvc=form.cleaned_data["cvc"].strip(),
            )
        except acquirer.CardRejected as rejected:
            form.add_error(
                rejected.field if rejected.field != "expiry" else "expiry", _REASONS[rejected.reason]
            )
        else:
            if payment.status == acquirer.REQUIRES_ACTION:
                return HttpResponseRedirect(f"/fake-acquirer/pay/{payment.id}/challenge/")
            return _back_to_merchant(payment)
    # The typed values are never sent back into the page: a re-shown form starts empty.
    if form.is_bound:
        blanked = request.POST.copy()
        for name in ("number", "cvc", "expiry"):
            blanked[name] = ""
        form.data = blanked
    # The buyer sees the amount as money in their language (Babel), never as raw minor units.
    amount = format_money(payment.amount_minor, payment.currency, get_language() or settings.LANGUAGE_CODE)
    return render(request, "fake_acquirer/pay.html", {"payment": payment, "form": form, "amount": amount})


@never_cache
def challenge(request: HttpRequest, payment_id: str) -> HttpResponse:
    payment = _payment_or_404(payment_id)
    if payment.status != acquirer.REQUIRES_ACTION:
        return _back_to_merchant(payment)
    if request.method == "POST":
        payment = acquirer.complete_challenge(payment.id, passed=request.POST.get("action") == "confirm")
        return _back_to_merchant(payment)
    return render(request, "fake_acquirer/challenge.html", {"payment": payment})


def _authorized(request: HttpRequest) -> bool:
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
    return hmac.compare_digest(presented.encode(), settings.SELFCARE_FAKE_ACQUIRER_SECRET.encode())


@never_cache
def api_payment(request: HttpRequest, payment_id: str) -> HttpResponse:
    """The status query a merchant makes server to server (Bearer: the shared secret)."""
    if not _authorized(request):
        return JsonResponse({"error": "unauthorized"}, status=401)
    return JsonResponse(acquirer.payment_object(_payment_or_404(payment_id)))


@csrf_exempt
@require_POST
def test_hook(request: HttpRequest, payment_id: str) -> HttpResponse:
    """Misbehave on demand: `mode` = duplicate | late | out_of_order (test and demo setups only)."""
    if not settings.SELFCARE_FAKE_ACQUIRER_TEST_HOOKS:
        raise Http404
    _payment_or_404(payment_id)
    mode = request.POST.get("mode", "duplicate")
    copies = max(1, min(int(request.POST.get("copies", "2") or 2), 20))
    if mode == "duplicate":
        hooks = acquirer.redeliver(payment_id, copies=copies)
    elif mode == "late":
        hooks = acquirer.redeliver(
            payment_id, copies=1, delay_s=int(request.POST.get("delay_s", "120") or 120)
        )
    elif mode == "out_of_order":
        hooks = [acquirer.send_stale_event(payment_id)]
    else:
        return JsonResponse({"error": "unknown mode"}, status=400)
    return HttpResponse(json.dumps({"queued": len(hooks)}), content_type="application/json")
