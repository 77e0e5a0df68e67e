"""Shared set-up of the month-long billing stories: a small operator catalog."""

from __future__ import annotations

from datetime import datetime

import pytest

from selfcare.kit import clock
from tests.usage.factories import make_numbering


@pytest.fixture
def zones(db):
    return make_numbering()


def at(text: str) -> datetime:
    """A moment of the story, in Moscow time."""
    return datetime.fromisoformat(f"{text}+03:00")


class Story:
    """Moves the clock to each moment of the story, like the network delivering records as they happen."""

    def __init__(self) -> None:
        self._frozen = None

    def __call__(self, moment: str):
        return clock.frozen(at(moment))


@pytest.fixture
def story() -> Story:
    return Story()
