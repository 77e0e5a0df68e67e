from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from selfcare.kit.idempotency import new_key
from selfcare.statements.models import Category, Format


class OrderForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    categories = forms.MultipleChoiceField(
        label=_("What to include"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one kind of event.")},
    )
    format = forms.ChoiceField(label=_("Format"), choices=Format.choices, widget=forms.RadioSelect)
    by_email = forms.BooleanField(label=_("Also send me an e-mail when it is ready"), required=False)
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    # The idempotency key of this order: a double submit places one order.
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["token"].initial = new_key()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("The last day cannot be before the first."))
        return cleaned


class EventFilterForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("", _("Everything")), *[(c, label) for c, label in Category.choices if c != "other"]],
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    number = forms.CharField(label=_("Number contains"), required=False, max_length=20)

    def __init__(self, *args: Any, today: Any, days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.earliest = today - timedelta(days=days - 1)
        self.today = today

    def clean_number(self) -> str:
        digits = re.sub(r"\D", "", self.cleaned_data.get("number") or "")
        return digits

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field in ("since", "until"):
            day = cleaned.get(field)
            if day is not None and not (self.earliest <= day <= self.today):
                self.add_error(
                    field,
                    _("Choose a day from %(earliest)s to %(today)s.")
                    % {"earliest": self.earliest.isoformat(), "today": self.today.isoformat()},
                )
        return cleaned
