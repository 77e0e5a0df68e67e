"""Template filters of the cabinet: `{{ amount|money }}`, `{{ e164|msisdn }}`, `{{ bucket|allowance }}`."""

from __future__ import annotations

from typing import Any

from django import template

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
