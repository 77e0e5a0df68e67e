"""Builders for the support tests."""

from __future__ import annotations

from selfcare.identity.models import User
from selfcare.kit import clock
from selfcare.lines.models import Line
from selfcare.support.models import FaqEntry
from tests.factories import make_line


def make_subscriber(*, line: Line | None = None, language: str = "en") -> User:
    """A registered subscriber (user with a number) of a fresh line."""
    line = line or make_line()
    return User.objects.create_user(username=line.msisdn, msisdn=line.msisdn, language=language)


def make_faq(
    question: dict[str, str], answer: dict[str, str], *, sort_order: int = 100, is_published: bool = True
) -> FaqEntry:
    return FaqEntry.objects.create(
        question=question,
        answer=answer,
        sort_order=sort_order,
        is_published=is_published,
        updated_at=clock.now(),
    )
