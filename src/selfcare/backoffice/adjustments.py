"""The back office's "Adjust balance" page on an account (docs/backoffice.md).

Only staff with the `billing.adjust_balance` permission reach it (others get 403). The form carries a
hidden idempotency key made when the page is shown: submitting it twice (a double click, a resend
after a timeout) posts once. The money moves only through billing.services.adjust_balance.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from selfcare.billing import services as billing
from selfcare.identity.services import actor_of
from selfcare.kit.errors import BusinessError
from selfcare.kit.money import format_money
from selfcare.ledger import queries as ledger_queries

PERMISSION = "billing.adjust_balance"


class AdjustBalanceForm(forms.Form):
    CREDIT = "credit"
    DEBIT = "debit"

    direction = forms.ChoiceField(
        label=_("direction"),
        choices=[(CREDIT, _("Credit (add money)")), (DEBIT, _("Debit (take money)"))],
        widget=forms.RadioSelect,
    )
    amount_minor = forms.IntegerField(label=_("amount (minor units)"), min_value=1, max_value=10**12)
    reason = forms.CharField(
        label=_("reason"),
        max_length=billing.ADJUSTMENT_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The subscriber sees it in the balance history: write it for them."),
    )
    allow_below_floor = forms.BooleanField(
        label=_("allow below the floor"),
        required=False,
        help_text=_(
            "For debits: may use the usage overdraft room below the floor. Never further: the ledger "
            "must stay verifiable."
        ),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def clean_reason(self) -> str:
        reason = (self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise forms.ValidationError(_("Write the reason."))
        return reason

    def signed_amount(self) -> int:
        amount = int(self.cleaned_data["amount_minor"])
        return -amount if self.cleaned_data["direction"] == self.DEBIT else amount


def _money(amount_minor: int) -> str:
    return format_money(amount_minor, settings.SELFCARE_CURRENCY, settings.LANGUAGE_CODE)


def adjust_balance_view(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    account = get_object_or_404(model_admin.model, pk=object_id)
    change_url = reverse("admin:lines_account_change", args=[account.pk])
    form = AdjustBalanceForm(
        request.POST or None, initial={"idempotency_key": f"staff-{uuid.uuid4().hex}", "direction": "credit"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = billing.adjust_balance(
                account,
                amount_minor=form.signed_amount(),
                reason=form.cleaned_data["reason"],
                actor=actor_of(request.user),
                idempotency_key=form.cleaned_data["idempotency_key"],
                allow_below_floor=form.cleaned_data["allow_below_floor"],
            )
        except BusinessError as exc:
            form.add_error(None, exc.render_message())
        else:
            adjustment = result.adjustment
            text = _("Balance adjusted by %(amount)s: %(before)s → %(after)s.") % {
                "amount": _money(adjustment.amount_minor),
                "before": _money(adjustment.balance_before_minor),
                "after": _money(adjustment.balance_after_minor),
            }
            if result.replayed:
                text = _("This form was already submitted; nothing was posted again. %(result)s") % {
                    "result": text
                }
            model_admin.message_user(request, text, messages.SUCCESS)
            return HttpResponseRedirect(change_url)
    balance, floor = ledger_queries.get_balance_and_floor(int(account.ledger_account_id))
    hard_floor = ledger_queries.get_hard_floor_minor(int(account.ledger_account_id))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Adjust the balance of account %(number)s") % {"number": account.number},
        "opts": model_admin.model._meta,
        "original": account,
        "form": form,
        "balance": _money(balance),
        "floor": _money(floor) if floor is not None else "—",
        "hard_floor": _money(hard_floor) if hard_floor is not None else "—",
        "change_url": change_url,
    }
    return TemplateResponse(request, "admin/backoffice/adjust_balance.html", context)
