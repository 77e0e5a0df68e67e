"""Reads of statements: a subscriber's own orders, and the events of the online view."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from selfcare.statements.document import CATEGORY_KINDS
from selfcare.statements.errors import OrderNotFound
from selfcare.statements.models import StatementOrder
from selfcare.usage import queries as usage_queries

ONLINE_DAYS = 30


def list_orders(user: Any, *, limit: int = 20) -> list[StatementOrder]:
    return list(StatementOrder.objects.filter(user_id=user.pk).order_by("-created_at", "-id")[:limit])


def get_order(user: Any, public_id: UUID | str) -> StatementOrder:
    """One of the user's orders; anyone else's is OrderNotFound, like one that does not exist."""
    try:
        return StatementOrder.objects.get(public_id=public_id, user_id=user.pk)
    except (StatementOrder.DoesNotExist, ValueError):
        raise OrderNotFound() from None


def list_events(
    line: Any, *, since: datetime, until: datetime, category: str = "", number_digits: str = ""
) -> QuerySet[Any]:
    """The line's events in [since, until), newest first (a lazy query: paginate it)."""
    kinds = CATEGORY_KINDS.get(category) if category else None
    return usage_queries.list_line_events(
        line.pk, since=since, until=until, kinds=kinds, number_digits=number_digits
    )
