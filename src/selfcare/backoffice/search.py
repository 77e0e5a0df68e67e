"""Number search for back-office lists: staff type numbers as people say them (docs/backoffice.md)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from selfcare.kit.errors import BusinessError
from selfcare.lines.services import normalize_number

_PHONE_LIKE = re.compile(r"^[\d\s()+\-.]{5,32}$")


def normalized_number(term: str) -> str:
    """The E.164 form of a search term that looks like a phone number ("8 900 123-45-67"), or ""."""
    term = (term or "").strip()
    if not _PHONE_LIKE.match(term) or sum(c.isdigit() for c in term) < 5:
        return ""
    try:
        return normalize_number(term)
    except BusinessError:
        return ""


class NumberSearchMixin:
    """Adds exact matches of the normalised number on `number_search_fields` to the ordinary search."""

    number_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        found, may_have_duplicates = super().get_search_results(  # type: ignore[misc]
            request, queryset, search_term
        )
        number = normalized_number(search_term)
        if number and self.number_search_fields:
            condition = Q()
            for field in self.number_search_fields:
                condition |= Q(**{field: number})
            found = found | queryset.filter(condition)
            may_have_duplicates = may_have_duplicates or any("__" in f for f in self.number_search_fields)
        return found, may_have_duplicates
