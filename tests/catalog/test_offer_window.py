"""Tariffs and services offered only inside their window (available_from / available_until)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from selfcare.catalog import queries
from selfcare.catalog.models import Tariff
from tests.factories import make_service, make_tariff

pytestmark = pytest.mark.django_db


def test_a_tariff_scheduled_for_tomorrow_is_offered_from_tomorrow(frozen_clock: Any) -> None:
    # given today's tariff ending tomorrow and its new version starting tomorrow
    tomorrow = frozen_clock.now() + timedelta(days=1)
    old = make_tariff(code="smart-2025")
    new = make_tariff(code="smart-2026")
    Tariff.objects.filter(pk=old.pk).update(available_until=tomorrow)
    Tariff.objects.filter(pk=new.pk).update(available_from=tomorrow)
    # when the offer is read today and after tomorrow begins
    today = {t.code for t in Tariff.objects.filter(queries.open_for_new())}
    frozen_clock.advance(timedelta(days=1))
    later = {t.code for t in Tariff.objects.filter(queries.open_for_new())}
    # then the old version is offered today and the new one from tomorrow, never both
    assert (today, later) == ({"smart-2025"}, {"smart-2026"})
    assert Tariff.objects.get(pk=new.pk).is_offered()
    assert not Tariff.objects.get(pk=old.pk).is_offered()


def test_a_service_out_of_its_window_is_not_offered_but_a_connected_one_stays_listed(
    frozen_clock: Any,
) -> None:
    # given a service whose window ended an hour ago and an open one
    ended = make_service(code="pack-old")
    ended.available_until = frozen_clock.now() - timedelta(hours=1)
    ended.save()
    make_service(code="pack-new")
    # when the offer is listed for a line without it and for a line with it
    offered = {s.code for s in queries.list_services_for_offer()}
    with_connected = {s.code for s in queries.list_services_for_offer(include_ids=[ended.pk])}
    # then only the open one is offered, and the connected one is still shown to its line
    assert "pack-old" not in offered
    assert "pack-new" in offered
    assert {"pack-old", "pack-new"} <= with_connected
