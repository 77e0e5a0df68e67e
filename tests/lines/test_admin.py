"""Staff see and change a line's monthly quota on the line's back-office page, through the service."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client

from selfcare.identity.models import AuditEvent, User
from selfcare.kit import clock
from selfcare.lines import queries
from selfcare.usage.services import rate_batch
from tests.factories import make_line
from tests.lines.factories import make_company
from tests.usage.factories import make_numbering, make_payg_tariff, usage

pytestmark = pytest.mark.django_db

MARCH = datetime.fromisoformat("2026-03-10T12:00:00+03:00")
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden_fields(page) -> dict[str, str]:
    """What the page's form posts back unseen (the read-only history inlines' management forms)."""
    return {
        name: value for name, value in HIDDEN.findall(page.content.decode()) if name != "csrfmiddlewaretoken"
    }


@pytest.fixture
def backoffice(db: None) -> tuple[Client, User]:
    staff = User.objects.create_superuser("operator", password="x" * 16)
    client = Client()
    client.force_login(staff)
    return client, staff


def test_staff_see_the_spend_and_set_the_quota_through_the_service(backoffice):
    client, staff = backoffice
    with clock.frozen(MARCH):
        # Given a company line that spent 2.50 this month
        company = make_company()
        line = make_line(
            account=company.account, tariff=make_payg_tariff(make_numbering()), msisdn="+79001234500"
        )
        rate_batch([usage(line.msisdn, "voice_out", MARCH - timedelta(minutes=5), duration_s=60,
                          counterparty="+79161234567")])  # fmt: skip
        url = f"/backoffice/lines/line/{line.pk}/change/"

        # When staff open the line's page, then set a quota of 50.00 on it
        page = client.get(url)
        saved = client.post(
            url, {**hidden_fields(page), "region": "", "holder_name": "Boris", "quota_limit_minor": "5000"}
        )

    # Then the page showed the spend and an empty quota, and the quota was set by the service
    assert page.status_code == 200
    assert 'name="quota_limit_minor"' in page.content.decode()
    assert "250" in page.content.decode()
    assert saved.status_code == 302
    assert queries.get_line_quota(line.pk).limit_minor == 5_000
    event = AuditEvent.objects.get(action="line.quota")
    assert (event.actor, event.before, event.after) == (
        f"staff:{staff.pk}",
        {"limit_minor": None},
        {"limit_minor": 5_000, "spent_minor": 250},
    )


def test_a_negative_quota_is_refused_by_the_form_and_nothing_changes(backoffice):
    client, _staff = backoffice
    with clock.frozen(MARCH):
        line = make_line()
        url = f"/backoffice/lines/line/{line.pk}/change/"
        page = client.get(url)
        response = client.post(
            url, {**hidden_fields(page), "region": "", "holder_name": "", "quota_limit_minor": "-1"}
        )

    assert response.status_code == 200
    assert queries.get_line_quota(line.pk) is None
    assert not AuditEvent.objects.filter(action="line.quota").exists()
