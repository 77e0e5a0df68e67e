"""Usage rating throughput: rate_batch end to end against a raw bulk write of the same rated rows.

    uv run python bench/rating.py [--records 1000000] [--lines 10000] [--batch 50000]
                                  [--db sqlite|postgres|both]

For each engine: a fresh database (a SQLite file in a temporary directory; a scratch PostgreSQL
database `selfcare_bench_rating`, created and dropped here), migrated, with a small operator catalog
(number ranges, zones, four tariffs with bundles, per-second and per-minute rounding, data packs) and
`--lines` lines on funded accounts (some accounts hold several lines, some lines are blocked, some
have the black list on and a data pack connected). Then `--records` realistic records are generated
in start-time order over one month (calls out and in, SMS, data sessions, 3 % in roaming; every
destination class), and measured in the same run:

1. end to end: `usage.services.rate_batch` over the records in batches of `--batch`: validation,
   duplicate check, classification, bucket draws, pricing, one ledger transaction per account per
   batch, and the durable write (COPY on PostgreSQL, executemany on SQLite), each batch committed;
2. the baseline: the same rated rows, read back, written again with a raw COPY (PostgreSQL) or a raw
   executemany (SQLite) into the same table, one database transaction per batch.

It prints the figures, the records/s, the ratio end-to-end/raw and, last, one line of JSON.
`--db both` runs each engine in its own process (Django settings are per process).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import run_benchmark

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/selfcare_bench_rating"
MONTH_START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC) - timedelta(hours=3)  # 1 March, Moscow time
MONTH_SECONDS = 30 * 24 * 3600
MB = 1_048_576
GB = 1024 * MB


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50_000, help="records per rate_batch call")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SELFCARE_BENCH_RATING_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--profile", action="store_true", help="cProfile the end-to-end run (top 30)")
    parser.add_argument("--json-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- Engine setup ------------------------------------------------------------------------------------


# --- Operator ----------------------------------------------------------------------------------------

OWN_PREFIXES = ("7900", "7901", "7902", "7904", "7908")
OTHER_MOBILE = ("7916", "7915", "7925", "7926", "7903", "7905", "7999")
LANDLINES = ("7495", "7499", "7812", "7843", "7383", "7343")
INTERNATIONAL = {
    "intl-cis": ("375", "374", "994", "996", "998", "77"),
    "intl-europe": ("49", "44", "33", "39", "34", "90", "420"),
    "intl-world": ("1", "86", "91", "971", "972"),
}
ROAMING = {"roam-cis": INTERNATIONAL["intl-cis"], "roam-europe": INTERNATIONAL["intl-europe"],
           "roam-world": INTERNATIONAL["intl-world"]}  # fmt: skip


def create_catalog() -> dict[str, Any]:
    from selfcare.catalog.models import Allowance, NumberRange, Rate, Service, Tariff, Zone, ZonePrefix

    for prefix in OWN_PREFIXES:
        NumberRange.objects.create(prefix=prefix, kind="own_mobile")
    for prefix in OTHER_MOBILE:
        NumberRange.objects.create(prefix=prefix, kind="other_mobile")
    for prefix in LANDLINES:
        NumberRange.objects.create(prefix=prefix, kind="landline")
    zones: dict[str, Zone] = {}
    for code, prefixes in INTERNATIONAL.items():
        zones[code] = Zone.objects.create(code=code, kind="international", name={"en": code})
        ZonePrefix.objects.bulk_create([ZonePrefix(zone=zones[code], prefix=p) for p in prefixes])
    for code, prefixes in ROAMING.items():
        zones[code] = Zone.objects.create(code=code, kind="roaming", name={"en": code})
        ZonePrefix.objects.bulk_create([ZonePrefix(zone=zones[code], prefix=p) for p in prefixes])

    home = {("voice", "on_net"): 150, ("voice", "off_net"): 250, ("voice", "landline"): 300,
            ("sms", "on_net"): 150, ("sms", "off_net"): 250, ("sms", "international"): 900,
            ("data", "home"): 300}  # fmt: skip
    zoned = {
        ("voice", "international"): {"intl-cis": 1500, "intl-europe": 3500, "intl-world": 5500},
        ("voice", "roaming"): {"roam-cis": 2900, "roam-europe": 6900, "roam-world": 12900},
        ("sms", "roaming"): {"roam-cis": 1900, "roam-europe": 2900, "roam-world": 3900},
        ("data", "roaming"): {"roam-cis": 3000, "roam-europe": 9000, "roam-world": 25000},
    }
    specs = [
        # code, fee period, voice rounding, voice s, sms, data bytes, home price percent, free on-net
        ("simple", "none", "per_second", 0, 0, 0, 100, False),
        ("smart-s", "monthly", "per_minute", 300 * 60, 100, 10 * GB, 80, False),
        ("smart-m", "monthly", "per_minute", 800 * 60, 300, 30 * GB, 80, True),
        ("day-by-day", "daily", "per_minute", 60 * 60, 0, 1 * GB, 100, False),
    ]
    tariffs = []
    for code, period, rounding, voice_s, sms, data, percent, free_on_net in specs:
        tariff = Tariff.objects.create(
            code=code,
            name={"en": code},
            fee_period=period,
            voice_rounding=rounding,
            data_rounding_bytes=102_400,
        )
        for kind, amount in (("voice", voice_s), ("sms", sms), ("data", data)):
            if amount:
                Allowance.objects.create(tariff=tariff, usage_kind=kind, amount=amount)
        rates = []
        for (kind, usage_class), price in home.items():
            price = 0 if free_on_net and usage_class == "on_net" else price * percent // 100
            rates.append(Rate(tariff=tariff, usage_kind=kind, usage_class=usage_class, price_minor=price))
        for (kind, usage_class), by_zone in zoned.items():
            rates.extend(
                Rate(tariff=tariff, usage_kind=kind, usage_class=usage_class, zone=zones[z], price_minor=p)
                for z, p in by_zone.items()
            )
        Rate.objects.bulk_create(rates)
        tariffs.append(tariff)
    pack = Service.objects.create(code="data-3gb", kind="data_pack", name={"en": "3 GB"}, validity_days=30)
    Allowance.objects.create(service=pack, usage_kind="data", amount=3 * GB)
    black_list = Service.objects.create(code="black-list", kind="black_list", name={"en": "Black list"})
    return {"tariffs": tariffs, "pack": pack, "black_list": black_list}


def create_lines(count: int, catalog: dict[str, Any], rng: random.Random) -> list[str]:
    """Customers, accounts (1-3 lines each), funded ledger accounts and lines, written in bulk."""
    from django.db import transaction

    from selfcare.ledger import services as ledger
    from selfcare.ledger.models import LedgerAccount
    from selfcare.lines.models import (
        Account,
        BlackListEntry,
        Customer,
        Line,
        ServiceAssignment,
        TariffAssignment,
    )

    now = MONTH_START - timedelta(days=40)
    msisdns = [f"+{OWN_PREFIXES[i % len(OWN_PREFIXES)]}{1_000_000 + i * 37:07d}" for i in range(count)]
    with transaction.atomic():
        owners: list[int] = []
        while len(owners) < count:
            owners.extend([len(set(owners))] * rng.choice((1, 1, 1, 1, 2, 3)))
        owners = owners[:count]
        accounts_n = owners[-1] + 1
        customers = Customer.objects.bulk_create(
            [Customer(name=f"Bench {i}", created_at=now) for i in range(accounts_n)], batch_size=2000
        )
        ledgers = LedgerAccount.objects.bulk_create(
            [
                LedgerAccount(
                    code=f"customer:bench-{i}", kind="customer", currency="RUB", floor_minor=0,
                    overdraft_minor=10_000, created_at=now,
                )
                for i in range(accounts_n)
            ],
            batch_size=2000,
        )  # fmt: skip
        accounts = Account.objects.bulk_create(
            [
                Account(number=f"B{i:09d}", customer=customers[i], currency="RUB", ledger_account=ledgers[i],
                        created_at=now)
                for i in range(accounts_n)
            ],
            batch_size=2000,
        )  # fmt: skip
        tariffs = catalog["tariffs"]
        lines = Line.objects.bulk_create(
            [
                Line(
                    msisdn=msisdns[i], iccid=f"8970199{i:012d}", account=accounts[owners[i]],
                    tariff=tariffs[(0, 1, 1, 2, 2, 2, 3)[i % 7]],
                    status="blocked_debt" if i % 97 == 0 else "active", status_changed_at=now,
                    activated_at=now,
                )
                for i in range(count)
            ],
            batch_size=2000,
        )  # fmt: skip
        TariffAssignment.objects.bulk_create(
            [
                TariffAssignment(line=line, tariff_id=line.tariff_id, started_at=now, actor="bench")
                for line in lines
            ],
            batch_size=2000,
        )
        ServiceAssignment.objects.bulk_create(
            [
                ServiceAssignment(line=line, service=catalog["pack"], actor="bench",
                                  connected_at=MONTH_START + timedelta(days=9))
                for i, line in enumerate(lines) if i % 7 in (1, 2) and i % 5 == 0
            ]
            + [
                ServiceAssignment(line=line, service=catalog["black_list"], connected_at=now, actor="bench")
                for i, line in enumerate(lines) if i % 11 == 0
            ],
            batch_size=2000,
        )  # fmt: skip
        BlackListEntry.objects.bulk_create(
            [
                BlackListEntry(line=line, msisdn=f"+7916{2_000_000 + j:07d}", created_at=now)
                for i, line in enumerate(lines) if i % 11 == 0 for j in range(5)
            ],
            batch_size=2000,
        )  # fmt: skip
        clearing = ledger.open_account("clearing:bench", kind="system", currency="RUB").pk
    ledger.post_transactions(
        [
            ledger.Entry(
                kind="topup",
                idempotency_key=f"fund:{account.pk}",
                legs=[ledger.Leg(account.pk, amount), ledger.Leg(clearing, -amount)],
                actor="bench",
            )
            for account, amount in ((a, rng.choice((5_000, 50_000, 200_000, 1_000_000))) for a in ledgers)
        ]
    )
    return msisdns


def generate(count: int, msisdns: list[str], rng: random.Random) -> list[Any]:
    """`count` records in start-time order over the month, for lines picked with a skewed activity."""
    from selfcare.usage.engine.inputs import UsageInput

    weights = [rng.paretovariate(1.5) for _ in msisdns]
    subscribers = rng.choices(msisdns, weights=weights, k=count)
    offsets = sorted(rng.randrange(MONTH_SECONDS) for _ in range(count))
    roam_codes = list(ROAMING)
    records = []
    for i in range(count):
        msisdn = subscribers[i]
        started = MONTH_START + timedelta(seconds=offsets[i])
        roll = rng.random()
        roaming = roam_codes[i % 3] if rng.random() < 0.03 else ""
        if roll < 0.15:
            volume = int(10 ** rng.uniform(4, 7.7))
            records.append(
                UsageInput("pgw-1", f"d{i}", "data", msisdn, started, 0, volume, "", roaming, "c17")
            )
            continue
        destination = rng.random()
        if destination < 0.40:
            other = rng.choice(msisdns)
        elif destination < 0.78:
            other = f"+{rng.choice(OTHER_MOBILE)}{rng.randrange(10_000_000):07d}"
        elif destination < 0.92:
            other = f"+{rng.choice(LANDLINES)}{rng.randrange(10_000_000):07d}"
        else:
            zone = rng.choice(list(INTERNATIONAL.values()))
            other = f"+{rng.choice(zone)}{rng.randrange(10**8):08d}"
        if roll < 0.60:
            duration = min(int(rng.expovariate(1 / 110)), 7200)
            records.append(
                UsageInput("msc-1", f"v{i}", "voice_out", msisdn, started, duration, 0, other, roaming)
            )
        elif roll < 0.80:
            if rng.random() < 0.05:
                other = f"+7916{2_000_000 + rng.randrange(5):07d}"  # now and then a black-listed caller
            duration = min(int(rng.expovariate(1 / 110)), 7200)
            records.append(
                UsageInput("msc-1", f"v{i}", "voice_in", msisdn, started, duration, 0, other, roaming)
            )
        elif roll < 0.92:
            records.append(UsageInput("smsc-1", f"s{i}", "sms_out", msisdn, started, 0, 0, other, roaming))
        else:
            records.append(UsageInput("smsc-1", f"s{i}", "sms_in", msisdn, started, 0, 0, other, roaming))
    return records


# --- Measurements ------------------------------------------------------------------------------------


def measure_end_to_end(records: list[Any], batch: int, profile: bool) -> tuple[float, dict[str, int]]:
    from selfcare.usage.services import rate_batch

    counts: dict[str, int] = {}
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    for start in range(0, len(records), batch):
        result = rate_batch(records[start : start + batch], actor="bench")
        for item in result.results:
            key = item.status if not item.reason else f"{item.status}:{item.reason}"
            counts[key] = counts.get(key, 0) + 1
    elapsed = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats("selfcare", 40)
    return elapsed, counts


def measure_raw(batch: int) -> tuple[float, int]:
    """Write the rated rows again, raw, into the same table (other source names), batch by batch."""
    from django.db import connection, transaction

    from selfcare.usage import bulk

    columns = ", ".join(bulk.RECORD_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {bulk.RECORD_TABLE} ORDER BY id")
        rows = [("raw-" + row[0], *row[1:]) for row in cursor.fetchall()]
    postgres = connection.vendor == "postgresql"
    if not postgres:
        # SQLite hands back the stored text; the baseline writes the same text, like the engine does.
        rows = [tuple(row) for row in rows]
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        with transaction.atomic():
            if postgres:
                with (
                    connection.cursor() as cursor,
                    cursor.cursor.copy(f"COPY {bulk.RECORD_TABLE} ({columns}) FROM STDIN") as copy,
                ):
                    for row in part:
                        copy.write_row(row)
            else:
                marks = ", ".join(["?"] * len(bulk.RECORD_COLUMNS))
                connection.ensure_connection()
                connection.connection.executemany(
                    f"INSERT INTO {bulk.RECORD_TABLE} ({columns}) VALUES ({marks})",
                    part,
                )
    return time.perf_counter() - started, len(rows)


def measure_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    import django
    from django.db import connection

    from selfcare.kit import clock
    from selfcare.ledger.queries import verify_ledger
    from selfcare.usage.models import Bucket, UsageRecord

    rng = random.Random(args.seed)
    setup_started = time.perf_counter()
    catalog = create_catalog()
    msisdns = create_lines(args.lines, catalog, rng)
    records = generate(args.records, msisdns, rng)
    # The periodic job opens each period's buckets at its start (midnight); here, for the whole month.
    from selfcare.usage.services import reset_buckets

    for day in range(31):
        with clock.frozen(MONTH_START + timedelta(days=day, minutes=1)):
            reset_buckets()
    setup_seconds = time.perf_counter() - setup_started

    with clock.frozen(MONTH_START + timedelta(days=31)):
        e2e_seconds, counts = measure_end_to_end(records, args.batch, args.profile)
    stored = UsageRecord.objects.count()
    buckets = Bucket.objects.count()
    report = verify_ledger()
    if not report.ok:
        raise SystemExit(f"ledger verify failed after rating: {report.summary()}")
    raw_seconds, raw_rows = measure_raw(args.batch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if engine == "sqlite" else "SHOW server_version")
        version = str(cursor.fetchone()[0])
    e2e_rps = args.records / e2e_seconds
    raw_rps = raw_rows / raw_seconds
    return {
        "engine": engine,
        "server_version": version,
        "django": django.get_version(),
        "records": args.records,
        "lines": args.lines,
        "batch_size": args.batch,
        "setup_seconds": round(setup_seconds, 1),
        "stored_records": stored,
        "buckets": buckets,
        "outcomes": dict(sorted(counts.items())),
        "end_to_end_seconds": round(e2e_seconds, 3),
        "end_to_end_records_per_s": round(e2e_rps),
        "raw_rows": raw_rows,
        "raw_seconds": round(raw_seconds, 3),
        "raw_rows_per_s": round(raw_rps),
        "ratio_end_to_end_to_raw": round(e2e_rps / raw_rps, 3),
        "verify": report.summary(),
    }


GOALS = {"postgres": 50_000, "sqlite": 40_000}


def print_result(result: dict[str, Any]) -> None:
    engine = result["engine"]
    baseline = "raw COPY" if engine == "postgres" else "raw executemany"
    print(f"== {engine} {result['server_version']} (Django {result['django']})")
    print(f"  setup (catalog, {result['lines']:,} lines, records generated): {result['setup_seconds']} s")
    print(
        f"  rate_batch end to end, batches of {result['batch_size']:,}: {result['records']:,} records in "
        f"{result['end_to_end_seconds']:.2f} s = {result['end_to_end_records_per_s']:,} records/s "
        f"({'meets' if result['end_to_end_records_per_s'] >= GOALS[engine] else 'MISSES'} the goal of "
        f"{GOALS[engine]:,})"
    )
    print(
        f"  {baseline} of the same {result['raw_rows']:,} rated rows: {result['raw_seconds']:.2f} s = "
        f"{result['raw_rows_per_s']:,} rows/s"
    )
    ratio = result["ratio_end_to_end_to_raw"]
    if engine == "postgres":
        verdict = "meets" if ratio >= 0.5 else "MISSES"
        print(f"  ratio end-to-end/raw COPY: {ratio:.2f} ({verdict} the goal of 0.5)")
    else:
        print(f"  ratio end-to-end/raw executemany: {ratio:.2f}")
    print(f"  outcomes: {result['outcomes']}")
    print(
        f"  stored records: {result['stored_records']:,}, buckets: {result['buckets']:,}; {result['verify']}"
    )


def main(argv: list[str] | None = None) -> None:
    run_benchmark("usage_rating", __file__, parse_args(argv), argv, measure_engine, print_result)


if __name__ == "__main__":
    main()
