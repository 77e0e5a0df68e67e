"""File import: our CSV and Asterisk's Master.csv (plain and gzip), malformed lines reported by number."""

from __future__ import annotations

import gzip
from io import StringIO

import pytest
from django.core.management import call_command

from selfcare.usage.models import UsageRecord
from tests.factories import fund, make_line
from tests.usage.factories import make_numbering, make_payg_tariff

pytestmark = pytest.mark.django_db


# Asterisk cdr_csv: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
# start, answer, end, duration, billsec, disposition, amaflags, uniqueid, userfield
def cdr_line(*fields: object) -> str:
    """One line as Asterisk's cdr_csv writes it: text quoted (quotes doubled), numbers bare."""
    return ",".join(
        str(field) if isinstance(field, int) else '"' + str(field).replace('"', '""') + '"'
        for field in fields
    )


ANSWERED = ("ANSWERED", "DOCUMENTATION")
MASTER_CSV = "\n".join(
    [
        cdr_line("", "89001234567", "89161234567", "from-subscribers", '"Ivan" <89001234567>',
                 "SIP/ivan-00000001", "SIP/trunk-00000002", "Dial", "SIP/trunk/89161234567,60",
                 "2026-03-02 08:00:00", "2026-03-02 08:00:05", "2026-03-02 08:01:06", 66, 61, *ANSWERED,
                 "1772427600.1", ""),
        cdr_line("", "+79161234567", "+79001234567", "from-trunk", '"" <+79161234567>', "SIP/trunk-00000003",
                 "SIP/ivan-00000004", "Dial", "SIP/ivan,30", "2026-03-02 08:10:00", "2026-03-02 08:10:03",
                 "2026-03-02 08:12:03", 123, 120, *ANSWERED, "1772428200.3", ""),
        cdr_line("", "89001234567", "84951234567", "from-subscribers", "", "SIP/ivan-00000005", "", "Dial",
                 "SIP/trunk/84951234567,60", "2026-03-02 08:20:00", "", "2026-03-02 08:20:30", 30, 0,
                 "NO ANSWER", "DOCUMENTATION", "1772428800.5", ""),
        cdr_line("", "89001234567", "84951234567", "from-subscribers", "", "SIP/ivan-00000006"),
        cdr_line("", "89001234567", "84951234567", "from-subscribers", "", "SIP/ivan-00000007", "SIP/trunk-8",
                 "Dial", "x", "2026-03-02 08:30:00", "yesterday", "2026-03-02 08:31:00", 60, 59, *ANSWERED,
                 "1772429400.7", ""),
        # Without the loguniqueid option: 16 columns, the id comes from the call's own fields
        cdr_line("", "89001234567", "74951234567", "from-subscribers", "", "SIP/ivan-00000009",
                 "SIP/trunk-10", "Dial", "x", "2026-03-02 08:40:00", "2026-03-02 08:40:01",
                 "2026-03-02 08:41:00", 60, 59, *ANSWERED),
    ]
) + "\n"  # fmt: skip


@pytest.fixture
def line(frozen_clock):
    zones = make_numbering()
    line = make_line(tariff=make_payg_tariff(zones), msisdn="+79001234567")
    fund(line.account.ledger_account, 10_000)
    return line


def run_import(path, *args):
    out, err = StringIO(), StringIO()
    call_command("usage", "import", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("compressed", [False, True])
def test_asterisk_master_csv_is_imported_and_malformed_lines_are_skipped(tmp_path, line, compressed):
    # Given a Master.csv in Asterisk's column layout (Moscow time), plain or gzip
    path = tmp_path / ("Master.csv.gz" if compressed else "Master.csv")
    if compressed:
        path.write_bytes(gzip.compress(MASTER_CSV.encode()))
    else:
        path.write_text(MASTER_CSV)

    # When it is imported
    out, err = run_import(path, "--format", "asterisk", "--timezone", "Europe/Moscow")

    # Then the answered calls are rated: ours out (61 s at 250/min per second = 255), one in (free),
    # one without uniqueid (59 s landline = 295); the unanswered one is not usage
    records = {
        r.source_record_id: (r.kind, r.counterparty, r.duration_s, r.price_minor)
        for r in UsageRecord.objects.all()
    }
    assert len(records) == 3
    assert records["1772427600.1"] == ("voice_out", "+79161234567", 61, 255)
    assert records["1772428200.3"] == ("voice_in", "+79161234567", 120, 0)
    hashed = next(key for key in records if key.startswith("h"))
    assert records[hashed] == ("voice_out", "+74951234567", 59, 295)
    assert UsageRecord.objects.get(source_record_id="1772427600.1").started_at.isoformat() == (
        "2026-03-02T05:00:05+00:00"
    )
    # and the malformed lines are reported by number, the rest kept
    assert "Master.csv" in err
    assert ":4: malformed, skipped: expected 16 to 18 columns (Asterisk cdr_csv), found 6" in err
    assert ":5: malformed, skipped: bad answer/start time" in err
    assert "3 accepted, 0 duplicate, 0 rejected, 2 malformed lines skipped; charged 550" in out

    # When the same file is imported again
    out, _ = run_import(path, "--format", "asterisk", "--timezone", "Europe/Moscow")

    # Then nothing is charged twice
    assert "0 accepted, 3 duplicate" in out
    assert UsageRecord.objects.count() == 3


def test_csv_import_with_header_and_rejections_by_line(tmp_path, line):
    # Given our CSV with a header, a good record, a bad number, an unknown line and a broken row
    path = tmp_path / "usage.csv"
    path.write_text(
        "record_id,kind,msisdn,started_at,duration_s,volume_bytes,counterparty,roaming_zone,cell\n"
        "r1,voice_out,+79001234567,2026-03-02T08:00:00+03:00,60,,+79161234567,,c17\n"
        "r2,data,+79001234567,2026-03-02T08:05:00+03:00,,102400,,,\n"
        "r3,voice_out,+79009999999,2026-03-02T08:06:00+03:00,60,,+79161234567,,\n"
        "r4,voice_out,+79001234567,2026-03-02 08:07,sixty,,+79161234567,,\n"
        "r5,voice_out,+79001234567\n"
    )

    # When it is imported
    out, err = run_import(path)

    # Then the good ones are rated, and the others are reported with their line numbers
    assert sorted(UsageRecord.objects.values_list("source", "source_record_id", "price_minor")) == [
        ("csv", "r1", 250),
        ("csv", "r2", 30),
    ]
    assert "usage.csv:4: rejected: unknown_line" in err
    assert "usage.csv:5: malformed, skipped: started_at has no UTC offset" in err
    assert "usage.csv:6: malformed, skipped: expected 9 columns, found 3" in err
    assert "2 accepted, 0 duplicate, 1 rejected, 2 malformed lines skipped; charged 280" in out


def test_csv_header_must_name_the_required_columns(tmp_path, line):
    path = tmp_path / "bad.csv"
    path.write_text("id,kind\n1,sms_out\n")
    _, err = run_import(path)
    assert "bad.csv:1: malformed, skipped: header: missing columns record_id, msisdn, started_at; " in err
    assert "unknown columns id" in err
    assert UsageRecord.objects.count() == 0
