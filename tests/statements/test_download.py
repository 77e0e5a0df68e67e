"""Only the owner ever downloads call detail: someone else's link, a tampered link and an expired link
are refused (403/410) and audited; a logged-out visitor is sent to sign in; the file is gone after
the retention period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from selfcare.identity.models import AuditEvent
from selfcare.identity.services import Client
from selfcare.kit import clock
from selfcare.statements import services
from selfcare.statements.errors import LinkInvalid, LinkNotYours
from selfcare.statements.models import StatementOrder
from tests.statements.conftest import CommittingClient, make_subscriber, order_through_pages, web_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(frozen_clock: Any) -> tuple[Any, Any, StatementOrder, str]:
    user, _line = make_subscriber()
    client = web_for(user)
    response = order_through_pages(
        client, user, period_start="2026-02-20", period_end="2026-03-01", format="csv"
    )
    assert response.status_code == 302
    order = StatementOrder.objects.get(user=user)
    assert order.status == "ready"
    link = client.get(f"/statements/{order.public_id}/").context["link"]
    return user, client, order, link.path


def refusals(order: StatementOrder | None = None) -> list[tuple[str, str]]:
    rows = AuditEvent.objects.filter(action="statement.download").exclude(outcome="ok")
    if order is not None:
        rows = rows.filter(subject_id=str(order.public_id))
    return list(rows.order_by("id").values_list("actor", "outcome"))


def test_the_owner_downloads_the_file(ready):
    _user, client, order, path = ready
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="call-detail-{order.msisdn[1:]}-20260220-20260301.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\xef\xbb\xbfsection,date_time")


def test_another_subscribers_link_is_forbidden_and_logged(ready):
    # Given someone else's valid link
    _user, _client, order, path = ready
    stranger, _line = make_subscriber()
    # When another signed-in subscriber opens it
    response = web_for(stranger).get(path)
    # Then 403, no file, and the attempt is in the audit log under the stranger's name
    assert response.status_code == 403
    assert not hasattr(response, "streaming_content")
    assert refusals(order) == [(f"user:{stranger.pk}", "not_owner")]


def test_a_link_issued_for_another_user_is_refused_even_for_the_order_owner(ready):
    # Given a link signed for user B (made here directly) to user A's order
    user, client, order, _path = ready
    other, _line = make_subscriber()
    StatementOrder.objects.filter(pk=order.pk).update(user=other)
    order.refresh_from_db()
    forged = services.issue_download_link(order, user=other)
    StatementOrder.objects.filter(pk=order.pk).update(user=user)
    # When A opens it
    response = client.get(forged.path)
    # Then it is not A's link
    assert response.status_code == 403
    assert refusals(order) == [(f"user:{user.pk}", "not_owner")]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),  # signature changed
        lambda token: "x" + token,  # payload changed
        lambda token: token.split(".")[0],  # signature removed
        lambda token: "not-a-token",
    ],
)
def test_a_tampered_link_is_forbidden_and_logged(ready, tamper):
    user, client, _order, path = ready
    token = path.rstrip("/").split("/")[-1]
    response = client.get(f"/statements/download/{tamper(token)}/")
    assert response.status_code == 403
    assert refusals() == [(f"user:{user.pk}", "bad_signature")]


def test_an_expired_link_is_gone_and_logged(ready, frozen_clock):
    # Given a link issued now
    user, client, order, path = ready
    # When it is used 15 minutes later
    clock.advance(timedelta(minutes=15))
    response = client.get(path)
    # Then 410, and the page offers the order page for a new link
    assert response.status_code == 410
    assert refusals(order) == [(f"user:{user.pk}", "expired")]
    # and a fresh link from the order page works again
    fresh = client.get(f"/statements/{order.public_id}/").context["link"].path
    response = client.get(fresh)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_a_logged_out_visitor_is_sent_to_sign_in(ready):
    _user, _client, _order, path = ready
    response = CommittingClient().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/statements/download/")
    assert refusals() == []


def test_the_file_is_deleted_after_retention(ready, frozen_clock, statements_dir):
    # Given a ready file
    user, _client, order, _path = ready
    file = statements_dir / order.file_name
    assert file.is_file()
    # When the purge runs before the end of retention, nothing happens
    clock.advance(timedelta(days=7) - timedelta(minutes=1))
    assert services.purge_expired_statements() == 0
    assert file.is_file()
    # When it runs after seven days
    clock.advance(timedelta(minutes=1))
    assert services.purge_expired_statements() == 1
    # Then the file is gone, the order says so, and a fresh link is refused as gone
    assert not file.exists()
    order.refresh_from_db()
    assert (order.status, order.deleted_at) == ("expired", clock.now())
    assert AuditEvent.objects.filter(action="statement.purge", subject_id=str(order.public_id)).count() == 1
    # (a week later the old session has timed out: sign in again)
    page = web_for(user).get(f"/statements/{order.public_id}/")
    assert page.context["link"] is None
    assert b'data-status="expired"' in page.content
    # and a link issued before the purge is refused with 410
    assert services.purge_expired_statements() == 0


def test_a_link_issued_before_the_purge_is_gone_after_it(ready, frozen_clock, statements_dir):
    user, client, order, path = ready
    StatementOrder.objects.filter(pk=order.pk).update(expires_at=clock.now())
    assert services.purge_expired_statements() == 1
    response = client.get(path)
    assert response.status_code == 410
    assert refusals(order) == [(f"user:{user.pk}", "gone")]


def test_the_service_refuses_in_the_documented_order(ready):
    user, _client, _order, path = ready
    token = path.rstrip("/").split("/")[-1]
    stranger, _line = make_subscriber()
    with pytest.raises(LinkNotYours):
        services.open_download(token, user=stranger, client=Client())
    with pytest.raises(LinkInvalid):
        services.open_download(token + "x", user=user, client=Client())
