"""Fixtures of the back-office tests: staff users with chosen permissions, a client that commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, TestCase

from selfcare.identity.models import User
from tests.factories import next_number


class CommittingClient(Client):
    """Runs each request's on-commit callbacks (debt settlement after a credit) as if it had committed."""

    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


def grant(user: User, *names: str) -> User:
    for name in names:
        app_label, codename = name.split(".", 1)
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)  # a fresh instance: the permission cache is per instance


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    def make(*permissions: str) -> User:
        user = User.objects.create_user(f"staff{next_number()}", password="x" * 12, is_staff=True)
        return grant(user, *permissions)

    return make


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = CommittingClient()
        client.force_login(user)
        return client

    return make
