"""Network API: usage records pushed by the network (MSC, SMSC, packet gateway mediation)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from selfcare.api.problems import Problem
from selfcare.identity.auth import NetworkApiKey
from selfcare.usage import services
from selfcare.usage.errors import BatchTooLarge
from selfcare.usage.schemas import RecordResultOut, UsageBatchIn, UsageBatchOut

MAX_BATCH = 10_000

router = Router(tags=["network"])


@router.post(
    "/usage",
    response={200: UsageBatchOut, 413: Problem},
    auth=NetworkApiKey(scope="usage:write"),
    summary="Push a batch of usage records",
    description=(
        "Rates up to 10,000 records in one all-or-nothing transaction and answers per record: "
        "accepted (with its price), duplicate (this source and record id was seen before; nothing "
        "changes) or rejected (with a reason). Resending a batch is safe. The line's buckets and "
        "balance reflect the accepted records before the response is sent."
    ),
)
def push_usage(request: HttpRequest, payload: UsageBatchIn) -> dict[str, Any]:
    if len(payload.records) > MAX_BATCH:
        raise BatchTooLarge(limit=MAX_BATCH)
    key = request.auth  # type: ignore[attr-defined]
    result = services.rate_batch(
        [record.dict() for record in payload.records], actor=f"api_key:{getattr(key, 'pk', '?')}"
    )
    return {
        "batch_id": result.batch_id,
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": result.rejected,
        "charged_minor": result.charged_minor,
        "results": [
            RecordResultOut(index=index, status=item.status, reason=item.reason, price_minor=item.price_minor)
            for index, item in enumerate(result.results)
        ],
    }
