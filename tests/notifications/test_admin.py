"""The back office lists SMS deliveries for support, read-only and without their texts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from selfcare.notifications import services


@pytest.mark.django_db
def test_staff_see_deliveries_but_never_a_queued_code() -> None:
    # given an SMS still queued (its text holds the code) and a superuser
    sms = services.queue_sms("+79001234567", template="otp.login", params={"code": "314159"}, language="en")
    admin_user = get_user_model().objects.create_superuser("root", password="x" * 12)
    client = Client()
    client.force_login(admin_user)
    # when they open the list and the record
    listing = client.get("/backoffice/notifications/outboundsms/")
    record = client.get(f"/backoffice/notifications/outboundsms/{sms.pk}/change/")
    # then the number and template are there, the code is not, and nothing can be added or changed
    assert (listing.status_code, record.status_code) == (200, 200)
    assert "+79001234567" in listing.content.decode()
    assert "otp.login" in record.content.decode()
    assert "314159" not in listing.content.decode() + record.content.decode()
    assert client.get("/backoffice/notifications/outboundsms/add/").status_code == 403
