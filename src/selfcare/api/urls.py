"""The ninja API object. Each domain contributes a router from its `api.py` (added here as they come)."""

from __future__ import annotations

from ninja import Schema

from selfcare.api.openapi import SelfcareAPI
from selfcare.api.problems import install_problem_handlers
from selfcare.billing.api import router as changes_router
from selfcare.cabinet.api import router as cabinet_router
from selfcare.companies.api import router as companies_router
from selfcare.documents.api import router as documents_router
from selfcare.identity.api import profile_router
from selfcare.identity.api import router as auth_router
from selfcare.lines.api import network_router as screening_router
from selfcare.lines.api import router as black_list_router
from selfcare.payments.api import router as payments_router
from selfcare.statements.api import router as statements_router
from selfcare.support.api import router as help_router
from selfcare.usage.api import router as usage_router

api = SelfcareAPI(
    title="selfcare API",
    version="1",
    description=(
        "Subscriber, company and network API of selfcare. Errors are RFC 9457 problem+json. "
        "Writes that move money take an Idempotency-Key header."
    ),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
install_problem_handlers(api)
api.add_router("/auth/", auth_router)
api.add_router("/profile/", profile_router)
api.add_router("/help/", help_router)
api.add_router("/payments/", payments_router)
api.add_router("/statements/", statements_router)
api.add_router("/network/", usage_router)
api.add_router("/network/", screening_router)
api.add_router("/changes/", changes_router)
api.add_router("/black-list/", black_list_router)
# The cabinet's own reads sit at the top: /home, /spending, /history, /recent-calls.
api.add_router("/", cabinet_router)
api.add_router("/documents/", documents_router)
api.add_router("/companies/", companies_router)


class PingOut(Schema):
    status: str = "ok"


@api.get("/ping", response={200: PingOut}, tags=["meta"], summary="Liveness of the API", auth=None)
def ping(request: object) -> PingOut:
    return PingOut(status="ok")
