"""What the subscriber routes of every domain share: the Idempotency-Key header and the caller's line."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Header
from pydantic import BeforeValidator

from selfcare.kit.errors import NotFound
from selfcare.lines import queries as lines_queries

# Writes that move money take the client's key (DESIGN.md §8); each service checks and scopes it.
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key")]

# A row id a client names (a company, a line): within the databases' 64-bit integers, so an id out of
# range is a 422 like any invalid input, never an overflow inside the driver.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    # pydantic would also read a number ("0") as seconds since 1970: a day is written YYYY-MM-DD.
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("a day is written YYYY-MM-DD")


# A calendar day a client names in a query string, in ISO 8601 and nothing else.
IsoDay = Annotated[date, BeforeValidator(_iso_day)]


def subscriber_line(request: HttpRequest) -> Any:
    """The signed-in subscriber's own line (the bearer token names it); 404 when there is none."""
    line = lines_queries.get_line_by_msisdn(getattr(request.user, "msisdn", None) or "")
    if line is None:
        raise NotFound()
    return line
