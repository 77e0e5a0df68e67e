"""Template filters of the cabinet: `{{ amount|money }}`, `{{ e164|msisdn }}`, `{{ bucket|allowance }}`."""

from __future__ import annotations

import functools
from typing import Any

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from selfcare.cabinet import formatting

register = template.Library()


@register.filter
def money(amount_minor: int | None) -> str:
    return formatting.money(amount_minor or 0)


@register.filter
def msisdn(e164: str) -> str:
    return formatting.msisdn(e164)


@register.filter
def allowance(amount: int, usage_kind: str) -> str:
    """`{{ bucket.remaining|allowance:bucket.usage_kind }}`"""
    return formatting.allowance(usage_kind, amount)


@register.filter
def duration(seconds: int) -> str:
    return formatting.duration(seconds)


@register.filter
def volume(volume_bytes: int) -> str:
    return formatting.volume(volume_bytes)


@register.filter
def number(value: Any) -> str:
    return formatting.number(value)


@register.filter
def money_abs(amount_minor: int | None) -> str:
    """An amount without its sign, where the words already say which way it went ("Last write-off")."""
    return formatting.money(abs(amount_minor or 0))


@register.filter
def fee(product: Any) -> SafeString:
    """A product's recurring fee for people: "<bdi>450.00 ₽</bdi> a month" (a tariff, a service, or
    anything with `fee_minor` and `fee_period`)."""
    amount = escape(formatting.money(product.fee_minor))
    if product.fee_minor and product.fee_period == "daily":
        return mark_safe(_("<bdi>%(amount)s</bdi> a day") % {"amount": amount})  # noqa: S308 - escaped
    if product.fee_minor and product.fee_period == "monthly":
        return mark_safe(_("<bdi>%(amount)s</bdi> a month") % {"amount": amount})  # noqa: S308 - escaped
    return mark_safe(escape(_("no recurring fee")))  # noqa: S308 - escaped


PAGES = {
    "home": "cabinet:home",
    "spending": "cabinet:spending",
    "history": "cabinet:history",
    "tariff": "cabinet:tariff",
    "services": "cabinet:services",
    "black_list": "cabinet:black-list",
    "black_list_add": "cabinet:black-list-add",
    "topup": "payments:topup",
    "promised": "payments:promised",
}


@functools.cache
def _urls(prefix: str) -> dict[str, str]:
    return {key: reverse(name) for key, name in PAGES.items()}


@register.simple_tag
def cabinet_urls() -> dict[str, str]:
    """The cabinet's fixed URLs, reversed once per process (the home page links to a dozen of them)."""
    return _urls(get_script_prefix())


# --- Fixed fragments --------------------------------------------------------------------------------------

FROZEN_MAX_VARIANTS = 64


class FrozenNode(template.Node):
    """Renders its content once per process for each language and each combination of the values it is
    keyed on, then repeats it: for the fixed parts of a page (buttons, navigation, headings) that the
    home page would otherwise rebuild from a dozen translation and URL tags on every request and poll.
    Whatever the content shows must come from the language, settings, fixed URLs or the key values."""

    def __init__(self, nodelist: template.NodeList, keys: list[Any]) -> None:
        self.nodelist = nodelist
        self.keys = keys
        self.rendered: dict[tuple[Any, ...], SafeString] = {}

    def render(self, context: template.Context) -> str:
        key = (get_language(), *(str(k.resolve(context)) for k in self.keys))
        found = self.rendered.get(key)
        if found is None:
            found = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered by the template engine
            if len(self.rendered) >= FROZEN_MAX_VARIANTS:
                self.rendered.clear()
            self.rendered[key] = found
        return found


@register.tag
def frozen(parser: template.base.Parser, token: template.base.Token) -> FrozenNode:
    """`{% frozen home.low_balance help_url %}...{% endfrozen %}`: see FrozenNode."""
    keys = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endfrozen",))
    parser.delete_first_token()
    return FrozenNode(nodelist, keys)
