"""Applications as the public form makes them: through the service, with lines proven by PUK."""

from __future__ import annotations

from typing import Any

from selfcare.catalog.models import Region
from selfcare.companies import services
from selfcare.companies.models import Application
from selfcare.lines.models import Line
from tests.companies.conftest import CLIENT, INN

CONTACT_PHONE = "+79161234567"
CONTACT_EMAIL = "anna@romashka.example"


def submit(region: Region, pairs: list[tuple[Line, str]], **overrides: Any) -> Application:
    fields: dict[str, Any] = {
        "region_id": region.pk,
        "company_name": "Romashka LLC",
        "tax_id": INN,
        "legal_address": "Moscow, Tverskaya 1",
        "contact_name": "Anna Smirnova",
        "contact_phone": CONTACT_PHONE,
        "contact_email": CONTACT_EMAIL,
        "numbers": [(line.msisdn, puk) for line, puk in pairs],
        "client": CLIENT,
        **overrides,
    }
    return services.submit_application(**fields)
