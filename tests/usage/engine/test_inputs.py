"""Checks of incoming records: each rejection reason, and the normalised shape of a good record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfcare.usage.engine.inputs import UsageInput, Validator, validate

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
GOOD = UsageInput("msc-1", "r1", "voice_out", "79001234567", NOW, 60, 0, "+79161234567", "", "c1")


def test_a_good_record_is_normalised():
    checked = validate(3, GOOD, NOW)
    assert checked == (
        3, "msc-1", "r1", "voice_out", "voice", False, "+79001234567", NOW, 60, 0, "+79161234567", "", "c1"
    )  # fmt: skip


def test_a_dict_and_an_iso_time_are_accepted():
    checked = validate(
        0,
        {"source": "s", "record_id": "x", "kind": "sms_in", "msisdn": "+79001234567",
         "started_at": "2026-03-02T09:00:00+03:00"},
        NOW,
    )  # fmt: skip
    assert (checked.incoming, checked.started_at, checked.counterparty) == (True, NOW, "")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"source": ""}, "invalid_source"),
        ({"source": "bad source"}, "invalid_source"),
        ({"record_id": ""}, "invalid_record_id"),
        ({"record_id": "x" * 65}, "invalid_record_id"),
        ({"kind": "fax"}, "invalid_kind"),
        ({"msisdn": "+7900"}, "invalid_msisdn"),
        ({"msisdn": "+7900123456a"}, "invalid_msisdn"),
        ({"started_at": datetime(2026, 3, 2, 6, 0)}, "invalid_started_at"),  # noqa: DTZ001 - naive on purpose
        ({"started_at": NOW + timedelta(minutes=16)}, "invalid_started_at"),
        ({"started_at": "yesterday"}, "invalid_started_at"),
        ({"duration_s": -1}, "invalid_quantity"),
        ({"duration_s": 1.5}, "invalid_quantity"),
        ({"volume_bytes": 10}, "invalid_quantity"),
        ({"counterparty": ""}, "invalid_counterparty"),
        ({"counterparty": "call me"}, "invalid_counterparty"),
        ({"cell": "x" * 33}, "invalid_field"),
    ],
)
def test_each_problem_has_its_reason(changes, reason):
    assert validate(0, GOOD._replace(**changes), NOW) == reason


def test_data_has_no_duration_and_sms_no_quantity():
    assert validate(0, GOOD._replace(kind="data", duration_s=0, volume_bytes=5), NOW).volume_bytes == 5
    assert validate(0, GOOD._replace(kind="data", duration_s=5), NOW) == "invalid_quantity"
    assert validate(0, GOOD._replace(kind="sms_out", duration_s=5), NOW) == "invalid_quantity"


def test_unknown_keys_in_a_dict_are_refused():
    assert validate(0, {**GOOD._asdict(), "colour": "red"}, NOW) == "invalid_field"


def test_a_validator_remembers_a_bad_number_as_bad():
    check = Validator(NOW).check
    assert check(0, GOOD._replace(msisdn="123")) == "invalid_msisdn"
    assert check(1, GOOD._replace(msisdn="123")) == "invalid_msisdn"
    assert check(2, GOOD).msisdn == "+79001234567"
