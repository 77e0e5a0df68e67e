"""Whole journeys through the web pages, shared by the flow tests and the no-secrets test."""

from __future__ import annotations

from typing import Any

from tests.identity.conftest import PASSWORD, last_code


def register(
    client: Any, msisdn: str, *, password: str = PASSWORD, number_as_typed: str | None = None
) -> Any:
    client.post("/register/", {"number": number_as_typed or msisdn})
    code = last_code(msisdn)
    return client.post("/register/code/", {"code": code, "password1": password, "password2": password})


def log_in(client: Any, login: str, password: str = PASSWORD) -> Any:
    return client.post("/login/", {"login": login, "password": password})
