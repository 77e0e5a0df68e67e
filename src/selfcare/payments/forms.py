from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from selfcare.kit.idempotency import new_key
from selfcare.kit.money import InvalidAmount, parse_money


class MoneyField(forms.CharField):
    """An amount typed in major units ("500", "500,50"), cleaned to minor units."""

    def clean(self, value: Any) -> int:
        text = super().clean(value)
        try:
            amount = parse_money(text, settings.SELFCARE_CURRENCY)
        except InvalidAmount:
            raise forms.ValidationError(_("Enter an amount, for example 500.")) from None
        if amount < 0:
            raise forms.ValidationError(_("Enter an amount, for example 500."))
        return amount


class TopUpForm(forms.Form):
    # Only the amount, the number and the consent: card details are typed on the provider's page.
    amount = MoneyField(label=_("Amount"), max_length=12)
    number = forms.CharField(label=_("Number to top up"), max_length=40)
    save_card = forms.BooleanField(label=_("Save the card for one-tap and automatic top-ups"), required=False)
    # One token per rendered form: posting it twice (double click, retry) makes one payment.
    token = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        self.fields["number"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel", "dir": "ltr"})
        if not self.is_bound:
            self.initial.setdefault("token", new_key("topup-"))


class PromisedForm(forms.Form):
    amount_minor = forms.IntegerField(widget=forms.RadioSelect)
    token = forms.CharField(widget=forms.HiddenInput, max_length=100)


class AutopayForm(forms.Form):
    card = forms.TypedChoiceField(label=_("Card"), coerce=int)
    threshold = MoneyField(label=_("When the balance falls below"), max_length=12)
    amount = MoneyField(label=_("Top up by"), max_length=12)
    max_per_month = forms.IntegerField(label=_("At most times a month"), min_value=1)
    enabled = forms.BooleanField(label=_("Autopay on"), required=False)
