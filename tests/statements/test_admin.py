"""The back office lists call-detail orders read-only, and never offers the document."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from selfcare.statements.models import StatementOrder
from tests.statements.conftest import make_subscriber, order_through_pages, web_for


@pytest.mark.django_db
def test_staff_see_orders_but_not_the_file(frozen_clock) -> None:
    # given a ready order and a superuser
    user, line = make_subscriber()
    order_through_pages(web_for(user), user, period_start="2026-03-01", period_end="2026-03-02")
    order = StatementOrder.objects.get(user=user)
    staff = get_user_model().objects.create_superuser("root", password="x" * 12)
    client = Client()
    client.force_login(staff)
    # when they open the list and the order
    listing = client.get("/backoffice/statements/statementorder/")
    record = client.get(f"/backoffice/statements/statementorder/{order.pk}/change/")
    # then the number and status are there, no link to the file, and nothing can be changed
    assert (listing.status_code, record.status_code) == (200, 200)
    assert line.msisdn in listing.content.decode()
    assert "/statements/download/" not in listing.content.decode() + record.content.decode()
    assert client.get("/backoffice/statements/statementorder/add/").status_code == 403
    assert client.post(f"/backoffice/statements/statementorder/{order.pk}/delete/").status_code == 403
    assert StatementOrder.objects.filter(pk=order.pk).exists()
