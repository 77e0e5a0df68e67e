"""Writes of the identity domain. `record_audit` is what every other service calls for its audit row."""

from __future__ import annotations

from typing import Any

from selfcare.identity.models import AuditEvent
from selfcare.kit import clock

SYSTEM_ACTOR = "system"


def record_audit(
    actor: str,
    action: str,
    *,
    subject_type: str = "",
    subject_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: str = "ok",
    ip: str | None = None,
    user_agent: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        created_at=clock.now(),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=before,
        after=after,
        outcome=outcome,
        ip=ip,
        user_agent=user_agent[:300],
    )


def actor_of(user: Any) -> str:
    """The audit name of a Django user: staff and subscribers are told apart."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return f"{'staff' if user.is_staff else 'user'}:{user.pk}"
