"""Form pieces for translatable catalog text: one input per configured language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings


def _languages() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


class TranslatedTextWidget(forms.MultiWidget):
    def __init__(self, *, textarea: bool = False, attrs: dict[str, Any] | None = None) -> None:
        self.codes = [code for code, _ in _languages()]
        inner = forms.Textarea(attrs={"rows": 2}) if textarea else forms.TextInput()
        super().__init__(widgets={code: inner for code in self.codes}, attrs=attrs)

    def decompress(self, value: Any) -> list[str]:
        value = value or {}
        return [value.get(code, "") for code in self.codes]


class TranslatedTextField(forms.MultiValueField):
    def __init__(self, *, textarea: bool = False, required: bool = True, **kwargs: Any) -> None:
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.pop("max_length", None)
        codes = [code for code, _ in _languages()]
        fields = [forms.CharField(required=False, label=name) for _, name in _languages()]
        super().__init__(
            fields=fields,
            widget=TranslatedTextWidget(textarea=textarea),
            require_all_fields=False,
            required=required,
            **kwargs,
        )
        self.codes = codes
        self.help_text = kwargs.get("help_text") or " / ".join(name for _, name in _languages())

    def compress(self, data_list: list[str]) -> dict[str, str]:
        return {
            code: text.strip()
            for code, text in zip(self.codes, data_list or [], strict=False)
            if text and text.strip()
        }


class TranslatedFieldsAdminMixin:
    """Admin mixin: edits the JSON `name`/`description` fields as one input per language."""

    translated_fields: tuple[str, ...] = ("name", "description")

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name in self.translated_fields:
            return TranslatedTextField(
                textarea=db_field.name == "description",
                required=not db_field.blank,
                label=db_field.verbose_name,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
