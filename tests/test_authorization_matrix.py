"""The authorization matrix: every route of the site, the API and TMF, called by nine kinds of caller.

Every URL pattern of Django's root resolver, every operation of the ninja API (`/api/v1/`) and of
the TMF API (`/tmf-api/`) must have a row in EXPECTED; a route without a row, or a row without a
route, fails the test (new routes must be classified). A row is nine letters, one per caller in
CALLERS order:

    A  allow  - the call reaches the view's logic (2xx, a redirect elsewhere than the sign-in page,
                or a business/validation answer such as 400, 409 or 422);
    P  public - the same as A, for a route meant for everybody (anonymous included);
    N  no-op  - the same as A (the page answers, usually a redirect back), but the write must change
                nothing: a user-scoped action given someone else's id (forget a device, end a session,
                remove a card) quietly does nothing rather than answer 404;
    D  deny   - 401, 403, 404, 405, or a redirect to a sign-in page;
    V  invalid - 400 or 422: the request was refused as malformed (an empty form or body) before the
                access rule could be seen; neither an allow nor a deny, and it must change nothing.
                Give such a route a valid body in `_body` (a query string in `_query`) to turn its V
                into A or D.

Objects in URLs belong to `subscriber` (history items, black-list entries, support requests,
payments, devices...) or to the company (`admin`, `accountant`, `viewer`, `employee`). So for
`other_subscriber` and `other_admin` every id is another owner's: their D is the wrong-owner check.
WRONG_OWNER adds rows where a company member names their own company with another company's object.

Site routes (Django URL patterns) are called with GET and with POST (an empty form); API routes with
their declared method (and an empty JSON body for writes). Each call runs in a savepoint that is rolled
back, so allowed writes do not disturb later calls; for a denied write the database state (row counts
of the tables a write may touch, plus line status and membership roles) is compared before and after.
Audit rows count only with outcome "ok": a refusal may audit itself (a statement link that is not
yours is recorded as outcome "not_owner"), and that row is the denial's trace, not a change.

The back office (/backoffice/) is covered by a rule rather than rows: every admin URL from
`admin.site.get_urls()` except its sign-in page sends anonymous and non-staff callers to the sign-in
page; staff reach the index.

To add a route: add one line to EXPECTED (and, for a new kind of id in its path, a value in `_params`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from selfcare.api.urls import api
from selfcare.documents.services import issue_month_documents, previous_month
from selfcare.tmf.api import tmf_api
from tests.companies.cabinet_world import World, bearer
from tests.companies.cabinet_world import world_fixture as world_fixture  # the `world` fixture
from tests.factories import fund, make_line, make_system_account

pytestmark = pytest.mark.django_db

CALLERS = (
    "anonymous",
    "subscriber",
    "other_subscriber",
    "admin",
    "accountant",
    "viewer",
    "employee",
    "other_admin",
    "staff",
)

# fmt: off
# Columns: anonymous, subscriber, other_subscriber, admin, accountant, viewer, employee, other_admin,
# staff.  Site rows: "GET path" and "POST path" (Django patterns); API rows: "METHOD /api/v1/...".
EXPECTED: dict[str, str] = {
    "GET ": "PPPPPPPPP",
    "POST ": "DDDDDDDDD",
    "GET black-list/": "DAADDDDDD",
    "POST black-list/": "DAADDDDDD",
    "GET black-list/<int:entry_id>/remove/": "DDDDDDDDD",
    "POST black-list/<int:entry_id>/remove/": "DADDDDDDD",
    "GET black-list/add/": "DAADDDDDD",
    "POST black-list/add/": "DAADDDDDD",
    "GET business/": "PPPPPPPPP",
    "POST business/": "DDDDDDDDD",
    "GET business/<int:company_id>/": "DDDAAAADD",
    "POST business/<int:company_id>/": "DDDAAAADD",
    "GET business/<int:company_id>/lines/": "DDDAAADDD",
    "POST business/<int:company_id>/lines/": "DDDAAADDD",
    "GET business/<int:company_id>/lines/<int:line_id>/": "DDDAAADDD",
    "POST business/<int:company_id>/lines/<int:line_id>/": "DDDAAADDD",
    "GET business/<int:company_id>/bulk/": "DDDADDDDD",
    "POST business/<int:company_id>/bulk/": "DDDVDDDDD",
    "GET business/<int:company_id>/bulk/<int:request_id>/": "DDDADDDDD",
    "POST business/<int:company_id>/bulk/<int:request_id>/": "DDDDDDDDD",
    "GET business/<int:company_id>/bulk/history/": "DDDADDDDD",
    "POST business/<int:company_id>/bulk/history/": "DDDDDDDDD",
    "GET business/<int:company_id>/lines/<int:line_id>/call-detail/": "DDDADDDDD",
    "POST business/<int:company_id>/lines/<int:line_id>/call-detail/": "DDDADDDDD",
    "GET business/<int:company_id>/lines/<int:line_id>/call-detail/code/": "DDDDDDDDD",
    "POST business/<int:company_id>/lines/<int:line_id>/call-detail/code/": "DDDADDDDD",
    "GET business/<int:company_id>/members/": "DDDADDDDD",
    "POST business/<int:company_id>/members/": "DDDVDDDDD",
    "GET business/<int:company_id>/members/<int:membership_id>/remove/": "DDDDDDDDD",
    "POST business/<int:company_id>/members/<int:membership_id>/remove/": "DDDADDDDD",
    "GET business/<int:company_id>/members/<int:membership_id>/role/": "DDDDDDDDD",
    "POST business/<int:company_id>/members/<int:membership_id>/role/": "DDDADDDDD",
    "GET business/applications/<str:tracking>/<str:token>/": "DDDDDDDDD",
    "POST business/applications/<str:tracking>/<str:token>/": "DDDDDDDDD",
    "GET business/apply/": "PPPPPPPPP",
    "POST business/apply/": "PPPPPPPPP",
    "GET business/cabinet/": "DDDAAAAAD",
    "POST business/cabinet/": "DDDAAAAAD",
    "GET business/documents/": "DAAAAAAAA",
    "POST business/documents/": "DAAAAAAAA",
    "GET business/documents/<int:company_id>/": "DDDAADDDD",
    "POST business/documents/<int:company_id>/": "DDDAADDDD",
    "GET business/documents/<int:company_id>/reconciliation/": "DDDDDDDDD",
    "POST business/documents/<int:company_id>/reconciliation/": "DDDAADDDD",
    "GET business/documents/download/<uuid:public_id>/": "DDDDDDDDD",
    "POST business/documents/download/<uuid:public_id>/": "DDDDDDDDD",
    "GET business/invitations/<str:token>/": "DDDDDDDDD",
    "POST business/invitations/<str:token>/": "DDDDDDDDD",
    "GET dev/sms": "DDDDDDDDD",
    "POST dev/sms": "DDDDDDDDD",
    "GET fake-acquirer/api/payments/<str:payment_id>": "DDDDDDDDD",
    "POST fake-acquirer/api/payments/<str:payment_id>": "DDDDDDDDD",
    "GET fake-acquirer/pay/<str:payment_id>/": "DDDDDDDDD",
    "POST fake-acquirer/pay/<str:payment_id>/": "DDDDDDDDD",
    "GET fake-acquirer/pay/<str:payment_id>/challenge/": "DDDDDDDDD",
    "POST fake-acquirer/pay/<str:payment_id>/challenge/": "DDDDDDDDD",
    "GET fake-acquirer/test-hooks/<str:payment_id>/": "DDDDDDDDD",
    "POST fake-acquirer/test-hooks/<str:payment_id>/": "DDDDDDDDD",
    "GET healthz": "PPPPPPPPP",
    "POST healthz": "DDDDDDDDD",
    "GET help/": "PPPPPPPPP",
    "POST help/": "PPPPPPPPP",
    "GET help/requests/": "DAAAAAAAA",
    "POST help/requests/": "DAAAAAAAA",
    "GET help/requests/<uuid:public_id>/": "DADDDDDDD",
    "POST help/requests/<uuid:public_id>/": "DADDDDDDD",
    "GET help/requests/<uuid:public_id>/close/": "DDDDDDDDD",
    "POST help/requests/<uuid:public_id>/close/": "DADDDDDDD",
    "GET help/requests/new/": "DAAAAAAAA",
    "POST help/requests/new/": "DAAAAAAAA",
    "GET history/": "DAADDDDDD",
    "POST history/": "DAADDDDDD",
    "GET history/<int:transaction_id>/": "DADDDDDDD",
    "POST history/<int:transaction_id>/": "DADDDDDDD",
    "GET history/records/<int:record_id>/": "DDDDDDDDD",
    "POST history/records/<int:record_id>/": "DDDDDDDDD",
    "GET home/": "DAAAAAAAD",
    "POST home/": "DAAAAAAAD",
    "GET i18n/setlang/": "PPPPPPPPP",
    "POST i18n/setlang/": "PPPPPPPPP",
    "GET login/": "PPPPPPPPP",
    "POST login/": "PPPPPPPPP",
    "GET login/code/": "PPPPPPPPP",
    "POST login/code/": "PPPPPPPPP",
    "GET login/code/verify/": "DDDDDDDDD",
    "POST login/code/verify/": "DDDDDDDDD",
    "GET login/confirm/": "DDDDDDDDD",
    "POST login/confirm/": "DDDDDDDDD",
    "GET logout/": "DDDDDDDDD",
    "POST logout/": "PPPPPPPPP",
    "GET metrics": "PPPPPPPPP",
    "POST metrics": "DDDDDDDDD",
    "GET payments/": "DAADDDDDD",
    "POST payments/": "DAADDDDDD",
    "GET payments/<uuid:public_id>/": "DADDDDDDD",
    "POST payments/<uuid:public_id>/": "DADDDDDDD",
    "GET payments/cards/": "DAADDDDDD",
    "POST payments/cards/": "DAADDDDDD",
    "GET payments/cards/<int:card_id>/remove/": "DDDDDDDDD",
    "POST payments/cards/<int:card_id>/remove/": "DNNNNNNNN",
    "GET payments/cards/<int:card_id>/replace/": "DDDDDDDDD",
    "POST payments/cards/<int:card_id>/replace/": "DDDDDDDDD",
    "GET payments/history/": "DAADDDDDD",
    "POST payments/history/": "DAADDDDDD",
    "GET payments/promised/": "DAADDDDDD",
    "POST payments/promised/": "DAADDDDDD",
    "GET payments/webhooks/<slug:provider>/": "DDDDDDDDD",
    "POST payments/webhooks/<slug:provider>/": "VVVVVVVVV",
    "GET profile/": "DAAAAAAAA",
    "POST profile/": "DAAAAAAAA",
    "GET profile/block/": "DAADDDDDD",
    "POST profile/block/": "DAADDDDDD",
    "GET profile/details/": "DDDDDDDDD",
    "POST profile/details/": "DAADDDDDD",
    "GET profile/unblock/": "DDDDDDDDD",
    "POST profile/unblock/": "DAADDDDDD",
    "GET readyz": "PPPPPPPPP",
    "POST readyz": "DDDDDDDDD",
    "GET register/": "PPPPPPPPP",
    "POST register/": "PPPPPPPPP",
    "GET register/code/": "PPPPPPPPP",
    "POST register/code/": "PPPPPPPPP",
    "GET reset/": "PPPPPPPPP",
    "POST reset/": "PPPPPPPPP",
    "GET reset/code/": "PPPPPPPPP",
    "POST reset/code/": "PPPPPPPPP",
    "GET security/": "DAAAAAAAA",
    "POST security/": "DAAAAAAAA",
    "GET security/devices/<int:device_id>/forget/": "DDDDDDDDD",
    "POST security/devices/<int:device_id>/forget/": "DANNNNNNN",
    "GET security/password/": "DAAAAAAAA",
    "POST security/password/": "DAAAAAAAA",
    "GET security/sessions/<int:session_id>/end/": "DDDDDDDDD",
    "POST security/sessions/<int:session_id>/end/": "DNNNNNNNN",
    "GET security/sessions/end-others/": "DDDDDDDDD",
    "POST security/sessions/end-others/": "DAAAAAAAA",
    "GET services/": "DAADDDDDD",
    "POST services/": "DAADDDDDD",
    "GET services/<slug:code>/<slug:action>/": "DDDDDDDDD",
    "POST services/<slug:code>/<slug:action>/": "DDDDDDDDD",
    "GET spending/": "DAADDDDDD",
    "POST spending/": "DAADDDDDD",
    # Anyone signed in sees their own orders (a company admin's orders of company lines; empty otherwise).
    "GET statements/": "DAAAAAAAA",
    "POST statements/": "DAADDDDDD",
    "GET statements/<uuid:public_id>/": "DDDDDDDDD",
    "POST statements/<uuid:public_id>/": "DDDDDDDDD",
    "GET statements/code/": "DDDDDDDDD",
    "POST statements/code/": "DAADDDDDD",
    "GET statements/download/<str:token>/": "DDDDDDDDD",
    "POST statements/download/<str:token>/": "DDDDDDDDD",
    "GET statements/events/": "DAADDDDDD",
    "POST statements/events/": "DAADDDDDD",
    "GET tariff/": "DAADDDDDD",
    "POST tariff/": "DAADDDDDD",
    "GET tariff/<slug:code>/": "DDDDDDDDD",
    "POST tariff/<slug:code>/": "DDDDDDDDD",
    "DELETE /api/v1/black-list/{entry_id}": "DADDDDDDD",
    "DELETE /api/v1/payments/cards/{card_id}": "DDDDDDDDD",
    "GET /api/v1/auth/me": "DAAAAAAAA",
    "GET /api/v1/black-list/": "DAADDDDDD",
    "GET /api/v1/black-list/preview": "DAADDDDDD",
    "GET /api/v1/changes/history": "DAADDDDDD",
    "GET /api/v1/changes/services": "DAADDDDDD",
    "GET /api/v1/changes/services/{service_id}/connect/preview": "DDDDDDDDD",
    "GET /api/v1/changes/services/{service_id}/disconnect/preview": "DDDDDDDDD",
    "GET /api/v1/changes/tariffs": "DAADDDDDD",
    "GET /api/v1/changes/tariffs/{tariff_id}/preview": "DDDDDDDDD",
    "GET /api/v1/companies/{company_id}": "DDDAAADDD",
    "GET /api/v1/companies/{company_id}/lines": "DDDAAADDD",
    "GET /api/v1/companies/{company_id}/bulk": "DDDADDDDD",
    "GET /api/v1/companies/{company_id}/bulk/{request_id}": "DDDADDDDD",
    "POST /api/v1/companies/{company_id}/bulk": "DDDADDDDD",
    "POST /api/v1/companies/{company_id}/bulk/preview": "DDDADDDDD",
    "POST /api/v1/companies/{company_id}/lines/{line_id}/statements": "DDDVDDDDD",
    "POST /api/v1/companies/{company_id}/lines/{line_id}/statements/code": "DDDADDDDD",
    "GET /api/v1/companies/{company_id}/lines/{line_id}": "DDDAAADDD",
    "GET /api/v1/companies/{company_id}/members": "DDDADDDDD",
    "GET /api/v1/documents/": "DDDAADDDD",
    "GET /api/v1/documents/{document_id}/download": "DDDAADDDD",
    "GET /api/v1/help/contact": "PPPPPPPPP",
    "GET /api/v1/help/faq": "PPPPPPPPP",
    "GET /api/v1/help/requests": "DAAAAAAAA",
    "GET /api/v1/help/requests/{request_id}": "DADDDDDDD",
    "GET /api/v1/history": "DAADDDDDD",
    "GET /api/v1/history/usage/{record_id}": "DDDDDDDDD",
    "GET /api/v1/history/{transaction_id}": "DADDDDDDD",
    "GET /api/v1/home": "DAADDDDDD",
    "GET /api/v1/network/call-screening": "DDDDDDDDD",
    "GET /api/v1/payments/": "DAADDDDDD",
    "GET /api/v1/payments/autopay": "DDDDDDDDD",
    "GET /api/v1/payments/cards": "DAAAAAAAA",
    "GET /api/v1/payments/promised": "DAADDDDDD",
    "GET /api/v1/payments/promised/offer": "DAADDDDDD",
    "GET /api/v1/payments/{payment_id}": "DADDDDDDD",
    "GET /api/v1/ping": "PPPPPPPPP",
    "GET /api/v1/profile/": "DAADDDDDD",
    "GET /api/v1/recent-calls": "DAADDDDDD",
    "GET /api/v1/spending": "DAADDDDDD",
    "GET /api/v1/statements/": "DAAAAAAAA",
    "GET /api/v1/statements/events": "DAADDDDDD",
    "GET /api/v1/statements/{order_id}": "DDDDDDDDD",
    "PATCH /api/v1/companies/{company_id}/members/{member_id}": "DDDADDDDD",
    "PATCH /api/v1/profile/": "DAADDDDDD",
    "POST /api/v1/auth/login": "VVVVVVVVV",
    "POST /api/v1/auth/login/confirm": "VVVVVVVVV",
    "POST /api/v1/auth/logout": "DVVVVVVVV",
    "POST /api/v1/auth/otp/confirm": "VVVVVVVVV",
    "POST /api/v1/auth/otp/start": "VVVVVVVVV",
    "POST /api/v1/auth/refresh": "VVVVVVVVV",
    "POST /api/v1/auth/register/confirm": "VVVVVVVVV",
    "POST /api/v1/auth/register/start": "VVVVVVVVV",
    "POST /api/v1/auth/reset/confirm": "VVVVVVVVV",
    "POST /api/v1/auth/reset/start": "VVVVVVVVV",
    "POST /api/v1/black-list/": "DAADDDDDD",
    "POST /api/v1/changes/services/{service_id}/connect": "DDDDDDDDD",
    "POST /api/v1/changes/services/{service_id}/disconnect": "DDDDDDDDD",
    "POST /api/v1/changes/tariffs/{tariff_id}": "DDDDDDDDD",
    "POST /api/v1/companies/{company_id}/invitations": "DDDADDDDD",
    "POST /api/v1/documents/reconciliation": "DDDAADDDD",
    "POST /api/v1/help/requests": "DAAAAAAAV",
    "POST /api/v1/help/requests/{request_id}/close": "DADDDDDDD",
    "POST /api/v1/network/usage": "DDDDDDDDD",
    "POST /api/v1/payments/promised": "DVVVVVVVV",
    "POST /api/v1/payments/topups": "DAADDDDDD",
    "POST /api/v1/profile/block": "DAADDDDDD",
    "POST /api/v1/profile/unblock": "DAADDDDDD",
    "POST /api/v1/statements/": "DVVVVVVVV",
    "POST /api/v1/statements/code": "DAADDDDDD",
    "PUT /api/v1/payments/autopay": "DDDVVVVVV",
    "GET /tmf-api/prepayBalanceManagement/v4/accumulatedBalance": "DAADDDDDD",
    "GET /tmf-api/prepayBalanceManagement/v4/accumulatedBalance/{id}": "DDDDDDDDD",
    "GET /tmf-api/prepayBalanceManagement/v4/bucket": "DAADDDDDD",
    "GET /tmf-api/prepayBalanceManagement/v4/bucket/{id}": "DDDDDDDDD",
    "GET /tmf-api/prepayBalanceManagement/v4/topupBalance": "DAADDDDDD",
    "GET /tmf-api/prepayBalanceManagement/v4/topupBalance/{id}": "DDDDDDDDD",
    "GET /tmf-api/productCatalogManagement/v4/catalog": "DAAAAAAAA",
    "GET /tmf-api/productCatalogManagement/v4/catalog/{id}": "DDDDDDDDD",
    "GET /tmf-api/productCatalogManagement/v4/category": "DAAAAAAAA",
    "GET /tmf-api/productCatalogManagement/v4/category/{id}": "DDDDDDDDD",
    "GET /tmf-api/productCatalogManagement/v4/productOffering": "DAAAAAAAA",
    "GET /tmf-api/productCatalogManagement/v4/productOffering/{id}": "DDDDDDDDD",
    "GET /tmf-api/productCatalogManagement/v4/productOfferingPrice": "DAAAAAAAA",
    "GET /tmf-api/productCatalogManagement/v4/productOfferingPrice/{id}": "DDDDDDDDD",
    "GET /tmf-api/usageConsumption/v4/usageConsumptionReport": "DAADDDDDD",
    "GET /tmf-api/usageConsumption/v4/usageConsumptionReport/{id}": "DDDDDDDDD",
    "GET /tmf-api/usageManagement/v4/usage": "DAADDDDDD",
    "GET /tmf-api/usageManagement/v4/usage/{id}": "DDDDDDDDD",
    "POST /tmf-api/prepayBalanceManagement/v4/topupBalance": "DVVVVVVVV",
}
# Extra rows: a company member names their own company with another company's object.
WRONG_OWNER: dict[str, str] = {
    "GET business/<int:company_id>/lines/<int:line_id>/ [foreign line]": "DDDDDDDDD",
    "POST business/<int:company_id>/lines/<int:line_id>/ [foreign line]": "DDDDDDDDD",
    "POST business/<int:company_id>/members/<int:membership_id>/role/ [foreign member]": "DDDDDDDDD",
    "POST business/<int:company_id>/members/<int:membership_id>/remove/ [foreign member]": "DDDDDDDDD",
    "GET /api/v1/companies/{company_id}/lines/{line_id} [foreign line]": "DDDDDDDDD",
    "PATCH /api/v1/companies/{company_id}/members/{member_id} [foreign member]": "DDDDDDDDD",
}
# fmt: on

STATE_MODELS = (
    "ledger.Transaction",
    "ledger.Posting",
    "companies.Membership",
    "companies.Invitation",
    "companies.Application",
    "lines.ServiceAssignment",
    "lines.BlackListEntry",
    "lines.Line",
    "statements.StatementOrder",
    "support.SupportRequest",
    "payments.Payment",
    "documents.Document",
    "billing.ProductChange",
    "identity.User",
)


# --- Enumeration --------------------------------------------------------------------------------------


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def site_patterns() -> list[str]:
    """Django's URL patterns, without the back office and the two ninja APIs (enumerated by operation)."""
    skipped = ("backoffice/", "api/v1/", "tmf-api/")
    return sorted({p for p in _walk(get_resolver().url_patterns) if not p.startswith(skipped)})


def ninja_operations(ninja: Any, mount: str) -> list[str]:
    found: set[str] = set()
    for prefix, router in ninja._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    full = re.sub("/+", "/", f"{mount}/{prefix.strip('/')}/{path.lstrip('/')}")
                    found.add(f"{method} {full}")
    return sorted(found)


def all_routes() -> list[str]:
    site = [f"{method} {pattern}" for pattern in site_patterns() for method in ("GET", "POST")]
    return site + ninja_operations(api, "/api/v1/") + ninja_operations(tmf_api, "/tmf-api/")


# --- The world ----------------------------------------------------------------------------------------


@dataclass
class Matrix:
    world: World
    users: dict[str, Any]
    params: dict[str, Any]
    web: dict[str, Client]
    tokens: dict[str, dict[str, str]]


def _build(world: World) -> Matrix:
    from selfcare.identity.models import Device, User
    from selfcare.ledger.models import Posting
    from selfcare.lines.services import add_black_list_entry
    from selfcare.support.services import create_request
    from tests.payments.factories import start

    users: dict[str, Any] = {
        "anonymous": None,
        "subscriber": world.users["subscriber"],
        "admin": world.users["admin"],
        "accountant": world.users["accountant"],
        "viewer": world.users["viewer"],
        "employee": world.users["employee"],
        "other_admin": world.users["other_admin"],
        "staff": world.users["staff"],
    }
    other_line = make_line()
    users["other_subscriber"] = User.objects.create_user(username=other_line.msisdn, msisdn=other_line.msisdn)
    subscriber = users["subscriber"]
    from selfcare.lines.models import Line

    line = Line.objects.get(msisdn=subscriber.msisdn)
    fund(line.account.ledger_account, 10_000, source=make_system_account())
    posting = Posting.objects.filter(account_id=line.account.ledger_account_id).order_by("id").first()
    entry = add_black_list_entry(line, number="+79001112233", actor="test")
    request = create_request(subscriber, subject="Roaming", message="Does it work?", actor="test")
    payment = start(subscriber, line, amount_minor=50_000)
    documents = issue_month_documents(world.company, month=previous_month(), actor="test")
    from selfcare.companies.bulk import submit_bulk

    bulk_request = submit_bulk(world.company, lines=[world.second_line], action="block", actor="test")
    tokens = {name: bearer(user) for name, user in users.items()}
    web: dict[str, Client] = {}
    for name, user in users.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        web[name] = client
    device = Device.objects.filter(user=subscriber).order_by("id").first()
    from selfcare.companies.models import Membership

    member = Membership.objects.get(company=world.company, user=users["viewer"])
    missing = 999_999
    params: dict[str, Any] = {
        "company_id": world.company.pk,
        "line_id": world.second_line.pk,
        "membership_id": member.pk,
        "member_id": member.pk,
        "transaction_id": posting.transaction_id if posting else missing,
        "record_id": missing,
        "entry_id": entry.pk,
        "request_id": request.public_id,
        "support_public_id": request.public_id,
        "session_id": missing,
        "device_id": device.pk if device else missing,
        "card_id": missing,
        "provider": "fake",
        "payment_id": payment.public_id,
        "payment_public_id": payment.public_id,
        "public_id": uuid.uuid4(),
        "order_id": uuid.uuid4(),
        "document_id": documents[0].public_id,
        "document_public_id": documents[0].public_id,
        "bulk_request_id": bulk_request.pk,
        "token": "no-such-token",
        "tracking": "no-such-tracking",
        "code": "no-such-code",
        "action": "connect",
        "tariff_id": missing,
        "service_id": missing,
        "id": "no-such-id",
        "rest": "",
    }
    return Matrix(world=world, users=users, params=params, web=web, tokens=tokens)


def _body(matrix: Matrix, route: str) -> dict[str, Any]:
    """A valid body for the API writes whose refusal must not hide behind a validation error."""
    bodies: dict[str, dict[str, Any]] = {
        "POST /api/v1/companies/{company_id}/invitations": {
            "name": "Pavel",
            "phone": "+79005550101",
            "role": "viewer",
        },
        "PATCH /api/v1/companies/{company_id}/members/{member_id}": {"role": "accountant"},
        "POST /api/v1/companies/{company_id}/bulk/preview": {
            "action": "block",
            "line_ids": [matrix.world.second_line.pk],
        },
        "POST /api/v1/companies/{company_id}/bulk": {
            "action": "block",
            "line_ids": [matrix.world.second_line.pk],
        },
        "POST /api/v1/companies/{company_id}/lines/{line_id}/statements": {
            "period_start": "2026-01-01",
            "period_end": "2026-01-31",
            "categories": ["calls"],
            "format": "csv",
            "code": "000000",
        },
        "POST /api/v1/black-list/": {"number": "+79005550102"},
        "POST /api/v1/help/requests": {"subject": "Roaming", "message": "No data"},
        "POST /api/v1/statements/": {
            "period_start": "2026-01-01",
            "period_end": "2026-01-31",
            "categories": ["calls"],
        },
        "POST /api/v1/payments/topups": {"amount_minor": 50_000},
        "POST /api/v1/payments/promised": {"amount_minor": 10_000},
        "PUT /api/v1/payments/autopay": {
            "card_id": 999_999,
            "threshold_minor": 10_000,
            "amount_minor": 50_000,
            "max_per_month": 3,
        },
        "POST /api/v1/documents/reconciliation": {
            "company_id": matrix.world.company.pk,
            "start": "2026-01-01",
            "end": "2026-01-31",
        },
    }
    return bodies.get(route.split(" [", 1)[0], {})


def _query(matrix: Matrix, route: str) -> str:
    """The query string of the API reads that need one."""
    queries = {
        "GET /api/v1/documents/": f"?company_id={matrix.world.company.pk}",
        "GET /api/v1/black-list/preview": "?number=%2B79005550103",
    }
    return queries.get(route.split(" [", 1)[0], "")


def _params(matrix: Matrix, route: str) -> dict[str, Any]:
    params = dict(matrix.params)
    if "help/requests/" in route:
        params["public_id"] = params["support_public_id"]
    elif route.startswith(("GET payments/", "POST payments/")):
        params["public_id"] = params["payment_public_id"]
    elif "documents/download/" in route:
        params["public_id"] = params["document_public_id"]
    elif "fake-acquirer/" in route:
        params["payment_id"] = "no-such-payment"
    if "/bulk/" in route or route.endswith("/bulk"):
        params["request_id"] = params["bulk_request_id"]
    return params


_DJANGO_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
_NINJA_PARAM = re.compile(r"{(?:\w+:)?(\w+)}")


def _url(route: str, params: dict[str, Any]) -> str:
    _method, path = route.split(" [", 1)[0].split(" ", 1)
    if path.startswith("/"):
        return _NINJA_PARAM.sub(lambda m: str(params[m.group(1)]), path)
    path = path.replace("^(?P<rest>.*)$", "")
    return "/" + _DJANGO_PARAM.sub(lambda m: str(params[m.group(1)]), path)


# --- Calling and judging ------------------------------------------------------------------------------


def _state() -> tuple[Any, ...]:
    from django.apps import apps

    counts = tuple(apps.get_model(label).objects.count() for label in STATE_MODELS)
    Line = apps.get_model("lines.Line")
    Membership = apps.get_model("companies.Membership")
    Device = apps.get_model("identity.Device")
    AuditEvent = apps.get_model("identity.AuditEvent")
    return (
        counts,
        # A refusal may audit itself (outcome "not_owner", "bad_signature"...): only "ok" rows count.
        AuditEvent.objects.filter(outcome="ok").count(),
        list(Device.objects.order_by("id").values_list("id", "user_id", "device_hash")),
        list(Line.objects.order_by("id").values_list("id", "status", "tariff_id", "account_id")),
        list(Membership.objects.order_by("id").values_list("id", "role", "line_id")),
    )


def _outcome(status: int, location: str) -> str:
    if status in (401, 403, 404, 405):
        return "D"
    if status in (301, 302, 303) and ("/login/" in location or "/backoffice/login/" in location):
        return "D"
    if status >= 500:
        return "E"
    if status in (400, 422):
        return "V"
    return "A"


# Routes whose success is a redirect to the sign-in page.
SIGN_IN_IS_SUCCESS = {"POST logout/"}


def _call(matrix: Matrix, route: str, caller: str, url: str) -> tuple[str, int, bool]:
    """(outcome, status, state unchanged) of one call, rolled back afterwards."""
    method = route.split(" ", 1)[0]
    is_api = route.split(" ", 1)[1].startswith("/")
    write = method != "GET"
    with transaction.atomic():
        before = _state() if write else None
        if is_api:
            client = Client(raise_request_exception=False)
            headers = {**matrix.tokens[caller], "Idempotency-Key": f"matrix-{uuid.uuid4()}"}
            body = json.dumps(_body(matrix, route)) if method in ("POST", "PUT", "PATCH") else ""
            response = client.generic(
                method, url, data=body, content_type="application/json", headers=headers
            )
        else:
            client = matrix.web[caller]
            cookies = client.cookies
            client.cookies = SimpleCookie(cookies.output(header="", sep=";"))  # a logout must not stick
            response = client.get(url) if method == "GET" else client.post(url, {})
            client.cookies = cookies
        unchanged = not write or _state() == before
        transaction.set_rollback(True)
    outcome = _outcome(response.status_code, response.get("Location", ""))
    if route in SIGN_IN_IS_SUCCESS and response.status_code == 302:
        outcome = "A"
    return outcome, response.status_code, unchanged


def _run(matrix: Matrix, rows: dict[str, str], params_for: Any) -> tuple[list[str], dict[str, str]]:
    problems: list[str] = []
    observed: dict[str, str] = {}
    for route, expected in rows.items():
        url = _url(route, params_for(route)) + _query(matrix, route)
        letters = []
        for caller, want in zip(CALLERS, expected, strict=True):
            outcome, status, unchanged = _call(matrix, route, caller, url)
            letters.append(outcome if want not in "PN" or outcome != "A" else want)
            got = outcome
            wanted = "A" if want in "PN" else want
            if want == "N" and not unchanged:
                problems.append(f"NOT THEIRS BUT CHANGED: {route} ({url}) as {caller}: {status}")
            if got != wanted:
                kind = (
                    "UNEXPECTED ALLOW"
                    if got == "A"
                    else "unexpected " + {"D": "deny", "E": "error", "V": "400/422"}[got]
                )
                problems.append(f"{kind}: {route} ({url}) as {caller}: {status}, expected {want}")
            method = route.split(" ", 1)[0]
            if got in "DV" and method != "GET" and not unchanged:
                problems.append(f"DENIED WRITE CHANGED DATA: {route} ({url}) as {caller}: {status}")
        observed[route] = "".join(letters)
    return problems, observed


def test_every_route_is_in_the_table() -> None:
    routes = set(all_routes())
    missing = sorted(routes - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routes)
    assert not missing, "Routes without a row in EXPECTED (classify them):\n" + "\n".join(missing)
    assert not stale, "Rows in EXPECTED for routes that no longer exist:\n" + "\n".join(stale)


def test_the_authorization_matrix(world: World) -> None:
    # given the nine callers and objects of the subscriber and of the company
    matrix = _build(world)
    rows = {route: EXPECTED.get(route, "?" * len(CALLERS)) for route in all_routes()}

    # when each calls every route
    problems, observed = _run(matrix, rows, lambda route: _params(matrix, route))
    wrong_problems, wrong_observed = _run(matrix, WRONG_OWNER, lambda route: _wrong_params(matrix, route))

    # then every answer is the table's, and denied writes changed nothing
    all_problems = [p for p in problems + wrong_problems if "expected ?" not in p]
    unclassified = [route for route, row in rows.items() if "?" in row]
    if unclassified:
        print("\n".join(f'    "{route}": "{observed[route]}",' for route in unclassified))
    assert not unclassified, f"{len(unclassified)} routes without a row (printed above)"
    assert not all_problems, f"{len(all_problems)} mismatches:\n" + "\n".join(all_problems)
    assert wrong_observed or not WRONG_OWNER


def _wrong_params(matrix: Matrix, route: str) -> dict[str, Any]:
    """The company's id with the other company's line, or with another company's membership."""
    from selfcare.companies.models import Membership

    params = _params(matrix, route.split(" [", 1)[0])
    other = Membership.objects.filter(company=matrix.world.other).order_by("id").first()
    params["line_id"] = matrix.world.other_line.pk
    params["membership_id"] = params["member_id"] = other.pk if other else 999_999
    return params


def test_every_back_office_url_requires_staff(world: World) -> None:
    # given the admin site's URLs with sample arguments
    urls = sorted({"/backoffice/" + p for p in _walk(admin.site.get_urls())})
    sample = {"object_id": "1", "app_label": "identity", "content_type_id": "1", "url": "x"}
    public = {"/backoffice/login/", "/backoffice/logout/"}
    clients = {}
    for name in ("anonymous", "subscriber", "admin", "staff"):
        client = Client(raise_request_exception=False)
        user = world.users[name]
        if user is not None:
            client.force_login(user)
        clients[name] = client
    problems: list[str] = []

    # when anonymous and non-staff callers open each, then they land on the sign-in page
    for pattern in urls:
        path = re.sub(r"\^|\$", "", _DJANGO_PARAM.sub(lambda m: sample.get(m.group(1), "1"), pattern))
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: sample.get(m.group(1), "1"), path)
        if path in public:
            continue
        for name in ("anonymous", "subscriber", "admin"):
            response = clients[name].get(path)
            if _outcome(response.status_code, response.get("Location", "")) != "D":
                problems.append(f"UNEXPECTED ALLOW: {path} as {name}: {response.status_code}")
    # and staff reach the index
    assert clients["staff"].get("/backoffice/").status_code == 200
    assert len(urls) > 50
    assert not problems, "\n".join(problems)
