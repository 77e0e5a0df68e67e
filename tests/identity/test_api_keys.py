"""Network API keys: shown once, stored as a keyed hash, scoped, and revocable."""

import pytest

from selfcare.identity.models import ApiKey, AuditEvent
from selfcare.identity.services import authenticate_api_key, create_api_key, revoke_api_key

pytestmark = pytest.mark.django_db


def test_a_key_authenticates_only_with_its_scope_and_not_after_revocation():
    # Given a key for pushing usage
    key, full = create_api_key(name="MSC", scopes=["usage:write"], actor="staff:1")

    # Then the full key is not stored, and it works for its scope only
    assert full not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert authenticate_api_key(full, scope="usage:write") == key
    assert authenticate_api_key(full, scope="screening:read") is None
    assert authenticate_api_key(full[:-1] + ("A" if full[-1] != "A" else "B"), scope="usage:write") is None

    # When staff revoke it
    revoke_api_key(key, actor="staff:1")

    # Then it no longer authenticates, and both steps are audited
    assert authenticate_api_key(full, scope="usage:write") is None
    actions = list(
        AuditEvent.objects.filter(subject_type="api_key").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["api_key.create", "api_key.revoke"]
