"""Back-office lists find subscribers by number as people say it, by name, e-mail and account."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from selfcare.backoffice.search import normalized_number
from selfcare.lines import services as lines
from tests.factories import make_customer, make_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(make_staff: Any, client_for: Any) -> Any:
    from selfcare.identity.models import User

    return client_for(User.objects.create_superuser("root", password="x" * 12))


def _search(client: Any, path: str, term: str) -> str:
    response = client.get(f"{path}?{urlencode({'q': term})}")
    assert response.status_code == 200
    return str(response.content.decode())


@pytest.mark.parametrize(
    "typed", ["8 900 123-45-67", "+7 (900) 123 45 67", "89001234567", "9001234567", "+79001234567"]
)
def test_a_number_in_any_format_finds_the_line_the_account_and_the_customer(
    superuser_client: Any, typed: str
) -> None:
    # given Anna Smirnova's line +79001234567 and Boris's other line
    anna = make_customer(name="Anna Smirnova")
    account = lines.open_account(anna, actor="test")
    make_line(account=account, msisdn="+79001234567")
    make_line(
        account=lines.open_account(make_customer(name="Boris Orlov"), actor="test"), msisdn="+79007654321"
    )
    # when staff search each list for the number as typed
    found_lines = _search(superuser_client, "/backoffice/lines/line/", typed)
    found_accounts = _search(superuser_client, "/backoffice/lines/account/", typed)
    found_customers = _search(superuser_client, "/backoffice/lines/customer/", typed)
    # then each finds Anna's and not Boris's
    assert "+79001234567" in found_lines
    assert "+79007654321" not in found_lines
    assert account.number in found_accounts
    assert "Boris" not in found_accounts
    assert "Anna Smirnova" in found_customers
    assert "Boris Orlov" not in found_customers


def test_customers_by_name_and_email_and_accounts_by_number(superuser_client: Any) -> None:
    # given two customers with accounts
    anna = lines.create_customer(name="Anna Smirnova", email="anna@example.org", actor="test")
    boris = lines.create_customer(name="Boris Orlov", email="boris@example.org", actor="test")
    anna_account = lines.open_account(anna, actor="test")
    boris_account = lines.open_account(boris, actor="test")
    # when staff search by a name, an e-mail and an account number
    by_name = _search(superuser_client, "/backoffice/lines/customer/", "smirnova")
    by_email = _search(superuser_client, "/backoffice/lines/customer/", "boris@example.org")
    by_number = _search(superuser_client, "/backoffice/lines/account/", anna_account.number)
    # then each finds exactly the one asked for
    assert "Anna Smirnova" in by_name
    assert "Boris Orlov" not in by_name
    assert "Boris Orlov" in by_email
    assert "Anna Smirnova" not in by_email
    assert anna_account.number in by_number
    assert boris_account.number not in by_number


def test_words_and_short_numbers_are_not_taken_for_phone_numbers() -> None:
    # given search terms that are not phone numbers
    # then they are left to the ordinary search
    assert [normalized_number(t) for t in ("Anna", "1234", "anna@example.org", "")] == ["", "", "", ""]
    assert normalized_number("8 900 123-45-67") == "+79001234567"
