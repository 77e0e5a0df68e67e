"""The month close runs concurrently with itself (DESIGN.md §5.3): two runs at once issue each
document once and use each number once, without a gap; reconciliation orders at once get consecutive
numbers. Real threads with their own connections against committed data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from selfcare.documents import services
from selfcare.documents.models import Document, NumberCounter
from selfcare.kit import clock
from tests.concurrency import run_in_threads
from tests.documents.conftest import at, make_company

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_month_close_runs_at_once_issue_each_document_once(firm):
    # Given two more companies
    with clock.frozen(at("2026-02-01T09:00:00")):
        make_company(name="Vasilek LLC", tax_id="7707083893", email="a@vasilek.example")
        make_company(name="Lyutik LLC", tax_id="7702070139", email="a@lyutik.example")

    # When two month-close runs start at the same instant
    with clock.frozen(at("2026-04-01T06:40:00")):
        issued = run_in_threads(2, lambda _i: services.close_month())

    # Then every company has one invoice and one act of March, six documents in all
    assert sum(issued) == 6
    assert Document.objects.count() == 6
    assert Document.objects.filter(kind="invoice").values("company").distinct().count() == 3
    # numbered 1..3 per kind without a gap, and the counters agree
    for kind, prefix in (("invoice", "INV"), ("act", "ACT")):
        numbers = sorted(Document.objects.filter(kind=kind).values_list("number", flat=True))
        assert numbers == [f"{prefix}-2026-{n:05d}" for n in (1, 2, 3)]
    assert sorted(NumberCounter.objects.values_list("kind", "year", "last")) == [
        ("act", 2026, 3),
        ("invoice", 2026, 3),
    ]
    # and every file was drawn
    assert sorted(Document.objects.values_list("status", flat=True)) == ["ready"] * 6
    # When the job runs once more, nothing more is issued
    with clock.frozen(at("2026-04-02T06:40:00")):
        assert services.close_month() == 0
    assert Document.objects.count() == 6


def test_reconciliation_orders_at_once_get_consecutive_numbers(firm):
    # When four reconciliation statements are ordered at the same instant
    with clock.frozen(at("2026-04-02T10:00:00")):
        documents = run_in_threads(
            4,
            lambda _i: services.order_reconciliation(
                firm.company, start=date(2026, 3, 1), end=date(2026, 3, 31), actor="test"
            ),
        )

    # Then they are numbered 1..4, each once, with the same figures
    assert sorted(d.sequence for d in documents) == [1, 2, 3, 4]
    assert NumberCounter.objects.get(kind="reconciliation", year=2026).last == 4
    assert {d.figures["closing_minor"] for d in Document.objects.all()} == {144_233}
