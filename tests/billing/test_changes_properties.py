"""Property: whatever sequence of tariff changes, connections, disconnections and black-list additions
a subscriber makes, on whatever day and with whatever balance, each change does exactly what its
preview said — the same amounts and the same balance after — and each refusal is the preview's
refusal and changes nothing. The ledger stays sound and the balance moves by exactly what the changes
report.

Each example runs in a savepoint rolled back at its end (the journal cannot be emptied with DELETE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from selfcare.billing import changes
from selfcare.catalog.models import FeePeriod, ServiceKind
from selfcare.kit import clock
from selfcare.kit.errors import BusinessError
from selfcare.ledger.queries import verify_ledger
from tests.billing.helpers import balance_of
from tests.billing.test_changes import service, snapshot, tariff
from tests.factories import fund, make_line

pytestmark = pytest.mark.django_db

PERIODS = st.sampled_from([FeePeriod.DAILY, FeePeriod.MONTHLY, FeePeriod.NONE])


@dataclass(frozen=True)
class Product:
    fee_minor: int
    period: str
    one_off_minor: int  # change fee (tariffs) or connection fee (services)


products = st.builds(Product, st.integers(0, 40_000), PERIODS, st.integers(0, 5_000))
operations = st.lists(
    st.tuples(
        st.sampled_from(["tariff", "connect", "disconnect", "black_list"]),
        st.integers(0, 2),  # which tariff / service / number
        st.integers(0, 72),  # hours to wait before it
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.datetimes(
        # Hypothesis takes naive bounds and attaches the zone itself.
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001
        max_value=datetime(2026, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    opening=st.integers(0, 60_000),
    tariff_specs=st.lists(products, min_size=3, max_size=3),
    service_specs=st.lists(products, min_size=3, max_size=3),
    ops=operations,
)
def test_every_change_does_what_its_preview_said(start, opening, tariff_specs, service_specs, ops):
    with transaction.atomic(), clock.frozen(start):
        try:
            _run(opening, tariff_specs, service_specs, ops)
        finally:
            transaction.set_rollback(True)


def _run(opening: int, tariff_specs: list[Product], service_specs: list[Product], ops: list[Any]) -> None:
    tariffs = [tariff(p.fee_minor, p.period, change_fee_minor=p.one_off_minor) for p in tariff_specs]
    services = [
        service(connect_fee_minor=p.one_off_minor, fee_minor=p.fee_minor, period=p.period)
        for p in service_specs
    ]
    service(
        kind=ServiceKind.BLACK_LIST,
        connect_fee_minor=300,
        fee_minor=150,
        period=FeePeriod.DAILY,
        parameters={"capacity": 2, "entry_fee_minor": 1_000},
    )
    line = make_line(tariff=tariff())
    if opening:
        fund(line.account.ledger_account, opening)
    spent = 0
    for index, (action, which, wait_hours) in enumerate(ops):
        clock.advance(timedelta(hours=wait_hours))
        key = f"op-{index}"
        preview, apply = _operation(line, action, which, key, tariffs, services)
        before = snapshot(line)
        if preview.allowed:
            event(f"{action}: applied")
            result = apply()
            if action != "black_list":
                assert result == preview
            assert balance_of(line) == preview.balance_after_minor == before["balance"] - preview.total_minor
            spent += preview.total_minor
        else:
            event(f"{action}: refused {preview.refusal_code}")
            with pytest.raises(BusinessError) as refused:
                apply()
            assert refused.value.code == preview.refusal_code
            assert refused.value.render_message() == preview.refusal_message
            assert snapshot(line) == before
    assert balance_of(line) == opening - spent
    assert verify_ledger().ok


def _operation(line: Any, action: str, which: int, key: str, tariffs: list[Any], services: list[Any]) -> Any:
    """(the preview, a callable applying the change) of one drawn operation."""
    if action == "tariff":
        target = tariffs[which]
        return changes.preview_tariff_change(line, tariff=target), partial(
            changes.change_tariff, line, tariff=target, actor="p", idempotency_key=key
        )
    if action == "connect":
        option = services[which]
        return changes.preview_service_connect(line, service=option), partial(
            changes.connect_service, line, service=option, actor="p", idempotency_key=key
        )
    if action == "disconnect":
        option = services[which]
        return changes.preview_service_disconnect(line, service=option), partial(
            changes.disconnect_service, line, service=option, actor="p", idempotency_key=key
        )
    number = f"+7916123450{which}"
    return changes.preview_black_list_add(line, number=number), partial(
        changes.add_black_list_number, line, number=number, actor="p", idempotency_key=key
    )
