"""Forms of the cabinet pages: the history filter, the confirmations of changes, the black list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from selfcare.cabinet.queries import HISTORY_FILTERS
from selfcare.kit.idempotency import KEY_PATTERN, new_key


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Show"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("Everything"))] + [
            (code, label) for code, (label, _kinds) in HISTORY_FILTERS.items()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start of the period is after its end."))
        return cleaned

    def kinds(self) -> tuple[str, ...] | None:
        code = self.cleaned_data.get("kind") if self.is_valid() else ""
        return HISTORY_FILTERS[code][1] if code else None


class ConfirmForm(forms.Form):
    """The confirmation of a previewed change: one token per rendered preview, so a double click or
    a retried post applies the change once (the token is the change's idempotency key)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, prefix_key: str = "change-", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", new_key(prefix_key))

    def clean_token(self) -> str:
        token = str(self.cleaned_data["token"])
        if not KEY_PATTERN.fullmatch(token):
            raise forms.ValidationError(_("This form has expired; please try again."))
        return token


class BlackListForm(forms.Form):
    number = forms.CharField(label=_("Number"), max_length=40)
    note = forms.CharField(label=_("Note (optional)"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off", "dir": "ltr"})
        self.fields["note"].widget.attrs.update({"autocomplete": "off"})


class BlackListConfirmForm(BlackListForm, ConfirmForm):
    pass
