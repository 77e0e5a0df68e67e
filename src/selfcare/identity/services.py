"""Writes of the identity domain. `record_audit` is what every other service calls for its audit row."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction

from selfcare.identity.models import ApiKey, AuditEvent
from selfcare.kit import clock
from selfcare.kit.signing import keyed_hash

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


def _hash_api_key(secret: str) -> str:
    return keyed_hash(settings.SELFCARE_HASH_KEY, "api-key", secret)


def create_api_key(*, name: str, scopes: list[str], actor: str) -> tuple[ApiKey, str]:
    """Create a network/partner API key; returns the row and the full key, which is shown only once."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=_hash_api_key(secret),
            scopes=sorted(set(scopes)),
            created_at=clock.now(),
        )
        record_audit(
            actor,
            "api_key.create",
            subject_type="api_key",
            subject_id=key.pk,
            after={"name": name, "scopes": key.scopes, "prefix": prefix},
        )
    return key, f"sk_{prefix}_{secret}"


def authenticate_api_key(presented: str, *, scope: str) -> ApiKey | None:
    """The active key with this scope matching `presented` (format sk_<prefix>_<secret>), or None."""
    parts = presented.split("_", 2) if presented else []
    if len(parts) != 3 or parts[0] != "sk":
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash_api_key(parts[2])):
        return None
    if scope not in key.scopes:
        return None
    return key


def revoke_api_key(key: ApiKey, *, actor: str) -> None:
    with transaction.atomic():
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
        record_audit(actor, "api_key.revoke", subject_type="api_key", subject_id=key.pk)
