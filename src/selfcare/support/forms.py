"""The support request form. It checks shape; the service decides the rest (account lines, limits)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from selfcare.kit.phone import format_international
from selfcare.support.services import MESSAGE_MAX, SUBJECT_MAX


class SupportRequestForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    message = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Do not write passwords, codes from SMS or card numbers: we never ask for them."),
    )
    line = forms.ChoiceField(label=_("About the number"), required=False, choices=())

    def __init__(self, *args: Any, numbers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        line = self.fields["line"]
        assert isinstance(line, forms.ChoiceField)
        line.choices = [("", _("Not about one number")), *((n, format_international(n)) for n in numbers)]
