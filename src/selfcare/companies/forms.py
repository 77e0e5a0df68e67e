"""Forms of the business application, the invitation acceptance and the staff review.

They check shape (a phone number, a tax id, an e-mail); PUK codes, availability of the numbers and
the decisions are the services'.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from selfcare.companies.errors import InvalidTaxId
from selfcare.companies.models import BulkAction, Role
from selfcare.companies.queries import list_region_choices
from selfcare.companies.services import ACCOUNT_POSTPAID, ACCOUNT_PREPAID, clean_tax_id
from selfcare.identity.errors import InvalidPhone
from selfcare.identity.services import normalize_number, validate_subscriber_password
from selfcare.identity.validators import PASSWORD_MAX_LENGTH
from selfcare.kit.money import InvalidAmount, parse_money

# The empty rows a new application starts with, and how many more the "more rows" button adds.
INITIAL_ROWS = 3
ROWS_STEP = 3


def _ltr(attrs: dict[str, str] | None = None) -> dict[str, str]:
    return {"dir": "ltr", **(attrs or {})}


class ApplicationForm(forms.Form):
    region = forms.TypedChoiceField(label=_("Region"), coerce=int, choices=())
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    tax_id = forms.CharField(
        label=_("Tax id (INN)"),
        max_length=30,
        widget=forms.TextInput(attrs=_ltr({"inputmode": "numeric", "autocomplete": "off"})),
    )
    legal_address = forms.CharField(label=_("Legal address"), max_length=300)
    contact_name = forms.CharField(
        label=_("Contact person"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=40,
        widget=forms.TextInput(attrs=_ltr({"autocomplete": "tel", "inputmode": "tel"})),
    )
    contact_email = forms.EmailField(
        label=_("Contact e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs=_ltr({"autocomplete": "email"})),
    )
    accept_terms = forms.BooleanField(
        label=_(
            "I accept the terms of service for business clients and confirm the numbers are the company's"
        ),
        error_messages={"required": _("Tick the box to accept the terms.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = [("", _("Choose a region")), *list_region_choices()]
        if settings.SELFCARE_PHONE_REGION != "RU":
            self.fields["tax_id"].label = _("Tax id")
            self.fields["tax_id"].widget.attrs.pop("inputmode", None)

    def clean_tax_id(self) -> str:
        try:
            return clean_tax_id(self.cleaned_data["tax_id"])
        except InvalidTaxId as exc:
            raise ValidationError(exc.render_message(), code=exc.code) from exc

    def clean_contact_phone(self) -> str:
        try:
            return normalize_number(self.cleaned_data["contact_phone"])
        except InvalidPhone as exc:
            raise ValidationError(exc.render_message(), code=exc.code) from exc


class NumberRowForm(forms.Form):
    number = forms.CharField(
        label=_("Number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs=_ltr({"autocomplete": "off", "inputmode": "tel"})),
    )
    puk = forms.CharField(
        label=_("PUK code"),
        max_length=16,
        required=False,
        widget=forms.TextInput(attrs=_ltr({"autocomplete": "off", "inputmode": "numeric"})),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw, puk = (data.get("number") or "").strip(), (data.get("puk") or "").strip().replace(" ", "")
        if not raw and not puk:
            return data
        if not raw:
            self.add_error("number", _("Enter the number of this PUK code."))
        elif not puk:
            self.add_error("puk", _("Enter the PUK code of this number."))
        elif not puk.isdigit():
            self.add_error("puk", _("A PUK code is made of digits."))
        try:
            data["number"] = normalize_number(raw) if raw else ""
        except InvalidPhone as exc:
            self.add_error("number", exc.render_message())
        data["puk"] = puk
        return data


class BaseNumberFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        filled = 0
        for form in self.forms:
            number = form.cleaned_data.get("number")
            if not number:
                continue
            filled += 1
            if number in seen:
                form.add_error("number", _("This number is listed twice."))
            seen.add(number)
        if filled == 0:
            raise ValidationError(_("Add at least one number with its PUK code."))

    def pairs(self) -> list[tuple[str, str]]:
        return [
            (form.cleaned_data["number"], form.cleaned_data["puk"])
            for form in self.forms
            if form.cleaned_data.get("number")
        ]


def number_formset(
    data: Any = None, *, initial: list[dict[str, str]] | None = None, extra: int = INITIAL_ROWS
) -> Any:
    """The number rows: bound to `data`, or `initial` rows followed by `extra` empty ones."""
    maximum = int(settings.SELFCARE_BUSINESS_MAX_NUMBERS)
    formset_class = forms.formset_factory(
        NumberRowForm,
        formset=BaseNumberFormSet,
        extra=extra,
        max_num=maximum,
        absolute_max=maximum,
        validate_max=True,
    )
    return formset_class(data, initial=initial, prefix="numbers")


def _password_field(label: Any, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class NewPasswordForm(forms.Form):
    """For a person without an account: a new password, twice, checked by the password rules."""

    password1 = _password_field(_("New password"), "new-password")
    password2 = _password_field(_("New password again"), "new-password")

    def __init__(self, *args: Any, msisdn: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.msisdn = msisdn
        self.fields["password1"].help_text = _("At least 8 characters. A long phrase is easiest to remember.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords do not match."))
        elif first:
            try:
                validate_subscriber_password(first, msisdn=self.msisdn)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def password(self) -> str:
        return str(self.cleaned_data["password1"])


class ExistingPasswordForm(forms.Form):
    """For a person who already signs in with the invited number: their current password."""

    password1 = _password_field(_("Your password"), "current-password")

    def __init__(self, *args: Any, msisdn: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.msisdn = msisdn

    def password(self) -> str:
        return str(self.cleaned_data["password1"])


class MoneyField(forms.CharField):
    """An amount typed in major units ("50000", "50 000,50"), cleaned to minor units (never negative)."""

    def clean(self, value: Any) -> int:
        text = super().clean(value)
        if not text:
            return 0
        try:
            amount = parse_money(text, settings.SELFCARE_CURRENCY)
        except InvalidAmount:
            raise ValidationError(_("Enter an amount, for example 50000.")) from None
        if amount < 0:
            raise ValidationError(_("Enter an amount, for example 50000."))
        return amount


class ReviewForm(forms.Form):
    """Staff's decision on an application: approve with the account's terms, or reject with a reason."""

    APPROVE = "approve"
    REJECT = "reject"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))],
        widget=forms.RadioSelect,
    )
    account_kind = forms.ChoiceField(
        label=_("Account"),
        required=False,
        choices=[(ACCOUNT_POSTPAID, _("Postpaid, with a credit limit")), (ACCOUNT_PREPAID, _("Prepaid"))],
        initial=ACCOUNT_POSTPAID,
    )
    credit_limit = MoneyField(
        label=_("Credit limit"),
        required=False,
        max_length=20,
    )
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The applicant reads it on the status page."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["credit_limit"].help_text = _("In %(currency)s, for a postpaid account.") % {
            "currency": settings.SELFCARE_CURRENCY
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == self.APPROVE:
            if not data.get("account_kind"):
                self.add_error("account_kind", _("Choose the kind of account."))
            elif data["account_kind"] == ACCOUNT_PREPAID and data.get("credit_limit"):
                self.add_error("credit_limit", _("A prepaid account has no credit limit."))
        elif data.get("decision") == self.REJECT and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Write the reason for the rejection: the applicant receives it."))
        return data


# --- The company's cabinet: the lines filter, inviting a person, a member's role -------------------

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


# --- Call detail of a company line (an admin's order; statements makes and keeps the file) ----------------


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


class BulkForm(forms.Form):
    """A bulk change: the action, its target, and the lines (ticked ids, the lines list's filter, or
    an uploaded CSV of numbers). The preview carries the chosen lines on as `line_ids`."""

    action = forms.ChoiceField(label=_("Change"), choices=BulkAction.choices)
    tariff = forms.TypedChoiceField(label=_("New tariff"), required=False, coerce=int, empty_value=None)
    service = forms.TypedChoiceField(label=_("Service"), required=False, coerce=int, empty_value=None)
    quota = forms.CharField(
        label=_("Monthly quota (empty: no quota)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    numbers_file = forms.FileField(label=_("Or upload a CSV of numbers"), required=False)
    line_ids = forms.CharField(required=False, widget=forms.HiddenInput)
    by_filter = forms.BooleanField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    # The filter's tariff is any id (a line's old tariff may be closed now): the query checks it.
    filter_tariff = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    status = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    selection = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        tariffs: list[tuple[int, str]] | None = None,
        services: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in (("tariff", tariffs), ("service", services)):
            field = self.fields[name]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = [("", "—"), *[(str(pk), label) for pk, label in choices or []]]

    def clean_quota(self) -> int | None:
        text = str(self.cleaned_data.get("quota") or "").strip()
        if not text:
            return None
        try:
            amount = parse_money(text, settings.SELFCARE_CURRENCY)
        except InvalidAmount:
            raise ValidationError(_("Enter an amount, for example 500.")) from None
        if amount < 0:
            raise ValidationError(_("Enter an amount, for example 500."))
        return amount

    def clean_line_ids(self) -> list[int]:
        text = str(self.cleaned_data.get("line_ids") or "")
        ids: list[int] = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 18:
                raise ValidationError(_("The chosen lines are not valid."))
            ids.append(int(part))
        return ids
