"""/dev/sms: shown in demo to everyone, in debug to staff only, and otherwise not there at all."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from selfcare.notifications import services

OTP_TEXT = "Your Selfcare Mobile sign-in code: 271828. Do not tell it to anyone."


@pytest.fixture
def one_sent_code(db: None) -> None:
    services.queue_sms("+79001234567", template="otp.login", params={"code": "271828"}, language="en")


def staff_client() -> Client:
    staff = get_user_model().objects.create_user("staff-1", password="x" * 12, is_staff=True)
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.django_db(transaction=True)
def test_page_does_not_exist_outside_demo_and_debug(settings: Any, one_sent_code: None) -> None:
    # given production settings and a staff member / when opening /dev/sms / then 404, no text anywhere
    settings.DEMO = settings.DEBUG = False
    response = staff_client().get("/dev/sms")
    assert response.status_code == 404
    assert b"271828" not in response.content


@pytest.mark.django_db(transaction=True)
def test_in_debug_only_staff_see_it(settings: Any, one_sent_code: None) -> None:
    # given debug mode without the demo
    settings.DEMO, settings.DEBUG = False, True
    # when an anonymous visitor and a subscriber open it / then they are sent to the login page
    anonymous = Client().get("/dev/sms")
    assert (anonymous.status_code, anonymous["Location"]) == (302, "/backoffice/login/?next=/dev/sms")
    subscriber = get_user_model().objects.create_user("+79001112233", password="x" * 12)
    client = Client()
    client.force_login(subscriber)
    assert client.get("/dev/sms").status_code == 302
    # when staff open it / then they read the code
    response = staff_client().get("/dev/sms")
    assert response.status_code == 200
    assert OTP_TEXT in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_in_the_demo_anyone_reads_their_code(settings: Any, one_sent_code: None) -> None:
    # given the demo / when an anonymous visitor opens the page
    settings.DEMO, settings.DEBUG = True, False
    response = Client().get("/dev/sms")
    # then the message is shown, never cached, not indexed
    page = response.content.decode()
    assert response.status_code == 200
    assert OTP_TEXT in page
    assert '<bdi class="dev-sms-to">+79001234567</bdi>' in page
    assert "no-cache" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"


@pytest.mark.django_db(transaction=True)
def test_htmx_refresh_gets_only_the_list(settings: Any, one_sent_code: None) -> None:
    # given the demo page polling with htmx / when it asks for an update / then only the list comes back
    settings.DEMO = True
    response = Client().get("/dev/sms", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="sms-list"')
    assert "<html" not in page
    assert OTP_TEXT in page


@pytest.mark.django_db
def test_an_empty_store_says_so(settings: Any) -> None:
    # given no messages / when the page is opened in the demo / then it says there are none
    settings.DEMO = True
    assert "No messages in the last ten minutes." in Client().get("/dev/sms").content.decode()


@pytest.mark.django_db
def test_the_page_speaks_persian(settings: Any) -> None:
    # given the demo and a browser asking for Persian / when the page is opened / then it is in Persian, RTL
    settings.DEMO = True
    page = Client().get("/dev/sms", headers={"Accept-Language": "fa"}).content.decode()
    assert '<html lang="fa" dir="rtl">' in page
    assert "<h1>پیامک\u200cهای ارسال\u200cشده</h1>" in page  # noqa: RUF001
    assert "در ده دقیقهٔ گذشته پیامی نبوده است." in page
