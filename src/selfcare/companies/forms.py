"""Forms of the corporate pages: the lines filter, inviting a person, changing a member's role."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from selfcare.companies.models import Role

SORT_CHOICES = (
    ("number", _("Number")),
    ("name", _("Employee name")),
    ("spend", _("Spent this month")),
)
STATUS_CHOICES = (
    ("", _("Any status")),
    ("active", _("Active")),
    ("blocked_subscriber", _("Blocked by the subscriber")),
    ("blocked_debt", _("Blocked for debt")),
    ("terminated", _("Terminated")),
)


class LineFilterForm(forms.Form):
    q = forms.CharField(label=_("Number or employee name"), required=False, max_length=100)
    tariff = forms.TypedChoiceField(label=_("Tariff"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, tariffs: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tariff = self.fields["tariff"]
        assert isinstance(tariff, forms.TypedChoiceField)
        tariff.choices = [("", _("Any tariff")), *[(str(pk), name) for pk, name in tariffs or []]]

    def values(self) -> dict[str, Any]:
        # A wrong value in one field (a page number typed by hand) leaves the others in force:
        # cleaned_data keeps every field that is valid.
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "tariff_id": data.get("tariff"),
            "status": data.get("status") or "",
            "order": data.get("sort") or "number",
            "page": data.get("page") or 1,
        }


class InviteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    line = forms.CharField(
        label=_("Employee's line (for the Employee role)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
