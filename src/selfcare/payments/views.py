"""Subscriber pages of payments (top-up, payment status, history, cards and autopay, promised
payment) and the provider webhook endpoint.

Every page is the signed-in subscriber's own: their line comes from their number, and a payment is
shown only to its payer or the owner of the account it credited. The return page from a provider
shows what *we* know (polling with htmx while pending); its URL carries nothing we would believe.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from selfcare.identity.services import actor_of
from selfcare.kit.errors import BusinessError
from selfcare.kit.idempotency import new_key
from selfcare.kit.money import format_money, to_major
from selfcare.kit.phone import format_international
from selfcare.lines import queries as lines_queries
from selfcare.payments import queries, services
from selfcare.payments.errors import InvalidWebhook, PaymentNotFound, ProviderUnavailable
from selfcare.payments.forms import AutopayForm, PromisedForm, TopUpForm
from selfcare.web.errors import render_business_error


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


def _line(request: HttpRequest) -> Any:
    line = lines_queries.get_line_by_msisdn(getattr(request.user, "msisdn", None) or "")
    if line is None:
        raise Http404
    return line


def _money(amount_minor: int) -> str:
    return format_money(amount_minor, settings.SELFCARE_CURRENCY, _locale())


def _locale() -> str:
    from django.utils import translation

    return translation.get_language() or settings.LANGUAGE_CODE


@never_cache
@login_required
def topup(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    form = TopUpForm(request.POST or None, initial={"number": format_international(line.msisdn)})
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.start_topup(
                request.user,
                msisdn=form.cleaned_data["number"],
                amount_minor=form.cleaned_data["amount"],
                idempotency_key=form.cleaned_data["token"],
                save_card=form.cleaned_data["save_card"],
                actor=actor_of(request.user),
            )
        except BusinessError as error:
            fragment = render_business_error(request, error)
            if fragment is not None:
                return fragment
        else:
            if payment.confirmation_url and payment.status == "pending":
                return HttpResponseRedirect(payment.confirmation_url)
            return redirect("payments:payment", public_id=payment.public_id)
    quick = [
        {"value": str(to_major(a, settings.SELFCARE_CURRENCY)), "label": _money(a)}
        for a in settings.SELFCARE_TOPUP_QUICK_AMOUNTS_MINOR
    ]
    return render(
        request,
        "payments/topup.html",
        {
            "form": form,
            "quick_amounts": quick,
            "min_amount": _money(settings.SELFCARE_TOPUP_MIN_MINOR),
            "max_amount": _money(settings.SELFCARE_TOPUP_MAX_MINOR),
        },
    )


@never_cache
@login_required
def payment(request: HttpRequest, public_id: str) -> HttpResponse:
    line = lines_queries.get_line_by_msisdn(getattr(request.user, "msisdn", None) or "")
    try:
        found = queries.get_payment_for(request.user, public_id, account_id=line.account_id if line else None)
    except PaymentNotFound:
        raise Http404 from None
    context = {
        "payment": found,
        "amount": _money(found.amount_minor),
        "number": format_international(found.msisdn),
    }
    if getattr(request, "htmx", False):
        return render(request, "payments/payment.html#status", context)
    return render(request, "payments/payment.html", context)


@never_cache
@login_required
def history(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    payments = [
        {"payment": p, "amount": _money(p.amount_minor), "number": format_international(p.msisdn)}
        for p in queries.list_payments(request.user, account_id=line.account_id)
    ]
    promised = [
        {
            "promised": p,
            "amount": _money(p.amount_minor),
            "fee": _money(p.fee_minor),
            "outstanding": _money(p.outstanding_minor),
        }
        for p in queries.list_promised(line.account_id)
    ]
    return render(request, "payments/history.html", {"payments": payments, "promised": promised})


@never_cache
@login_required
def promised(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    offer = queries.promised_offer(line)
    form = PromisedForm(request.POST or None, initial={"token": new_key("promised-")})
    form.fields["amount_minor"].widget.choices = [
        (t.amount_minor, _money(t.amount_minor)) for t in offer.tiers
    ]
    if request.method == "POST" and form.is_valid():
        try:
            services.request_promised(
                request.user,
                amount_minor=form.cleaned_data["amount_minor"],
                idempotency_key=form.cleaned_data["token"],
                actor=actor_of(request.user),
            )
        except BusinessError as error:
            fragment = render_business_error(request, error)
            if fragment is not None:
                return fragment
        else:
            from django.contrib import messages

            messages.success(request, _("The promised payment is on your balance."))
            return redirect("payments:history")
    tiers = [
        {
            "amount_minor": t.amount_minor,
            "amount": _money(t.amount_minor),
            "fee": _money(t.fee_minor),
            "credited": _money(t.amount_minor - t.fee_minor),
        }
        for t in offer.tiers
    ]
    return render(
        request,
        "payments/promised.html",
        {
            "offer": offer,
            "tiers": tiers,
            "form": form,
            "balance": _money(offer.balance_minor),
            "max_amount": _money(offer.max_amount_minor),
        },
    )


@never_cache
@login_required
def cards(request: HttpRequest) -> HttpResponse:
    line = _line(request)
    saved = list(queries.list_saved_cards(request.user))
    current = queries.get_autopay(line.account_id)
    form = AutopayForm(
        request.POST if request.method == "POST" else None,
        initial={
            "card": current.card_id if current else (saved[0].pk if saved else None),
            "threshold": str(to_major(current.threshold_minor, settings.SELFCARE_CURRENCY))
            if current
            else "50",
            "amount": str(to_major(current.amount_minor, settings.SELFCARE_CURRENCY)) if current else "300",
            "max_per_month": current.max_per_month if current else 3,
            "enabled": current.enabled if current else True,
        },
    )
    form.fields["card"].choices = [(c.pk, f"{c.brand} •••• {c.last4}") for c in saved]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            services.set_autopay(
                request.user,
                card_id=form.cleaned_data["card"],
                threshold_minor=form.cleaned_data["threshold"],
                amount_minor=form.cleaned_data["amount"],
                max_per_month=form.cleaned_data["max_per_month"],
                enabled=form.cleaned_data["enabled"],
                actor=actor_of(request.user),
            )
        except BusinessError as error:
            fragment = render_business_error(request, error)
            if fragment is not None:
                return fragment
        else:
            return redirect("payments:cards")
    return render(request, "payments/cards.html", {"cards": saved, "form": form, "autopay": current})


@require_POST
@login_required
def remove_card(request: HttpRequest, card_id: int) -> HttpResponse:
    try:
        services.remove_card(request.user, card_id=card_id, actor=actor_of(request.user))
    except BusinessError as error:
        render_business_error(request, error)
    return redirect("payments:cards")


@require_POST
@login_required
def replace_card(request: HttpRequest, card_id: int) -> HttpResponse:
    """One tap: a minimum top-up on the provider's page with a new card, which takes the old one's place."""
    card = queries.list_saved_cards(request.user).filter(pk=card_id).first()
    if card is None:
        raise Http404
    try:
        started = services.start_topup(
            request.user,
            msisdn=request.user.msisdn or "",  # type: ignore[union-attr]
            amount_minor=settings.SELFCARE_TOPUP_MIN_MINOR,
            idempotency_key=request.POST.get("token") or new_key("replace-"),
            replaces_card=card,
            actor=actor_of(request.user),
        )
    except (BusinessError, ProviderUnavailable) as error:
        render_business_error(request, error)
        return redirect("payments:cards")
    return HttpResponseRedirect(started.confirmation_url or "/payments/cards/")
