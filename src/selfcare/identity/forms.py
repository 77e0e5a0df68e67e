"""Forms of the subscriber sign-in pages. They check shape only; the services decide everything else."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from selfcare.identity.errors import InvalidPhone
from selfcare.identity.services import normalize_number, validate_subscriber_password
from selfcare.identity.validators import PASSWORD_MAX_LENGTH
from selfcare.notifications.queries import list_sms_kinds


def _password_field(label: Any, autocomplete: str) -> forms.CharField:
    # strip=False: spaces are part of a passphrase. The length cap stops hashing of huge inputs.
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def _code_field() -> forms.CharField:
    return forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "dir": "ltr",
            }
        ),
    )


class NumberForm(forms.Form):
    number = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "dir": "ltr"}),
    )

    def clean_number(self) -> str:
        try:
            return normalize_number(self.cleaned_data["number"])
        except InvalidPhone as exc:
            raise ValidationError(exc.render_message(), code="invalid_number") from exc


class CodeForm(forms.Form):
    code = _code_field()


class NewPasswordMixin(forms.Form):
    """Two password fields that must match and pass the password rules for the given number."""

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


class CodeAndPasswordForm(NewPasswordMixin):
    code = _code_field()
    field_order = ["code", "password1", "password2"]


class LoginForm(forms.Form):
    login = forms.CharField(
        label=_("Phone number or alias"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "dir": "ltr"}),
    )
    password = _password_field(_("Password"), "current-password")


class PasswordChangeForm(forms.Form):
    current_password = _password_field(_("Current password"), "current-password")
    password1 = _password_field(_("New password"), "new-password")
    password2 = _password_field(_("New password again"), "new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords do not match."))
        return data


class AliasForm(forms.Form):
    alias = forms.CharField(
        label=_("Alias"),
        required=False,
        max_length=30,
        help_text=_("Sign in with this name instead of your number. Leave empty to use the number."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "dir": "ltr"}),
    )


class ProfileForm(forms.Form):
    """E-mail for statements (individual customers only), language, and the SMS the subscriber wants."""

    email = forms.EmailField(
        label=_("E-mail for statements"),
        required=False,
        max_length=254,
        help_text=_("Leave empty to receive no statements by e-mail."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "dir": "ltr"}),
    )
    language = forms.ChoiceField(
        label=_("Language"), help_text=_("For these pages and for our SMS."), choices=()
    )
    sms_kinds = forms.MultipleChoiceField(
        label=_("SMS I want to receive"),
        required=False,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Sign-in codes, security notices, notices that your number is blocked or that services are "
            "suspended for debt, and answers to your requests are always sent."
        ),
    )

    def __init__(self, *args: Any, email_editable: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        kinds = self.fields["sms_kinds"]
        assert isinstance(language, forms.ChoiceField)
        assert isinstance(kinds, forms.ChoiceField)
        language.choices = [(code, name) for code, name in settings.LANGUAGES]
        kinds.choices = list_sms_kinds()
        if not email_editable:
            del self.fields["email"]


class BlockConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, block my number now"),
        error_messages={"required": _("Tick the box to confirm the block.")},
    )
