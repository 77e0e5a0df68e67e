"""What the subscriber routes of every domain share: the Idempotency-Key header and the caller's line."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Header

from selfcare.kit.errors import NotFound
from selfcare.lines import queries as lines_queries

# Writes that move money take the client's key (DESIGN.md §8); each service checks and scopes it.
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key")]

# A row id a client names (a company, a line): within the databases' 64-bit integers, so an id out of
# range is a 422 like any invalid input, never an overflow inside the driver.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def subscriber_line(request: HttpRequest) -> Any:
    """The signed-in subscriber's own line (the bearer token names it); 404 when there is none."""
    line = lines_queries.get_line_by_msisdn(getattr(request.user, "msisdn", None) or "")
    if line is None:
        raise NotFound()
    return line
