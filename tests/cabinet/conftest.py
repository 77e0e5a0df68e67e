from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.usage.factories import make_numbering


@pytest.fixture
def zones(db: Any) -> Any:
    return make_numbering()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
