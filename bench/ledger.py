"""Ledger posting throughput against a raw INSERT of the same rows, on SQLite and PostgreSQL.

    uv run python bench/ledger.py [--transactions 20000] [--db sqlite|postgres|both]

For each engine: a fresh database (a SQLite file in a temporary directory; a scratch PostgreSQL
database `selfcare_bench`, created and dropped here), migrated, with `--accounts` funded customer
accounts. Then, in the same run:

1. `post_transactions` in batches of `--batch` entries (2 legs each: customer -> revenue), the path
   the rating engine, fee runs and the demo take;
2. `post_transaction` one at a time (`--single` entries, each its own database transaction);
3. the baseline: plain INSERTs (cursor.executemany) of the same rows -- transactions and postings
   with their running balances -- in one database transaction per batch, no locking, no checks.

It prints the figures, the ratio batch/raw (goal >= 0.5) and, last, one line of JSON with every
number. `--db both` runs each engine in its own process (Django settings are per process).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import run_benchmark

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/selfcare_bench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=20_000, help="entries per measured batch path")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--accounts", type=int, default=1_000, help="customer accounts the entries spread over"
    )
    parser.add_argument("--batch", type=int, default=1_000, help="entries per post_transactions call")
    parser.add_argument("--single", type=int, default=2_000, help="entries posted one at a time")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SELFCARE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--repeat", type=int, default=1, help="repeat each measurement, keep the best")
    parser.add_argument("--json-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- Engine setup ------------------------------------------------------------------------------------


# --- Workload ----------------------------------------------------------------------------------------


def open_accounts(prefix: str, count: int) -> tuple[list[int], int]:
    """`count` funded customer accounts and a revenue account; returns their ids."""
    from selfcare.ledger import services

    revenue = services.open_account(f"revenue:{prefix}", kind="system", currency="RUB").pk
    clearing = services.open_account(f"clearing:{prefix}", kind="system", currency="RUB").pk
    customers = [
        services.open_account(f"customer:{prefix}-{i}", kind="customer", currency="RUB").pk
        for i in range(count)
    ]
    # Enough money that no measured charge meets the floor (the floor check still runs for every one).
    services.post_transactions(
        [
            services.Entry(
                kind="topup",
                idempotency_key=f"fund:{account}",
                legs=[services.Leg(account, 100_000_000), services.Leg(clearing, -100_000_000)],
                actor="bench",
            )
            for account in customers
        ]
    )
    return customers, revenue


def workload(prefix: str, count: int, customers: list[int], revenue: int) -> list[Any]:
    from selfcare.ledger.services import Entry, FloorRule, Leg

    entries = []
    for i in range(count):
        amount = 100 + (i * 7919) % 5_000
        entries.append(
            Entry(
                kind="usage",
                idempotency_key=f"{prefix}:{i}",
                legs=[Leg(customers[(i * 31) % len(customers)], -amount), Leg(revenue, amount)],
                actor="bench",
                cause_type="usage_batch",
                cause_id=f"{prefix}-{i // 1000}",
                floor=FloorRule.USAGE_OVERDRAFT,
            )
        )
    return entries


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def time_service_batch(entries: list[Any]) -> float:
    from selfcare.ledger.services import post_transactions

    started = time.perf_counter()
    post_transactions(entries)
    return time.perf_counter() - started


def measure_single(entries: list[Any]) -> float:
    from selfcare.ledger.services import post_transaction

    started = time.perf_counter()
    for entry in entries:
        post_transaction(
            entry.kind,
            legs=entry.legs,
            idempotency_key=entry.idempotency_key,
            actor=entry.actor,
            cause_type=entry.cause_type,
            cause_id=entry.cause_id,
            floor=entry.floor,
        )
    return time.perf_counter() - started


def raw_rows(
    entries: list[Any], balances: dict[int, int], first_id: int, now: Any
) -> tuple[list[Any], list[Any]]:
    """The rows post_transactions would write for these entries, computed the cheapest correct way.

    The baseline pays for what any correct writer computes (the content hash for idempotency, the
    running balances); it skips locking, the checks and the cached-balance update.
    """
    from selfcare.kit.idempotency import fingerprint

    transactions = []
    postings = []
    next_id = first_id
    for entry in entries:
        content = fingerprint(
            {
                "kind": entry.kind,
                "legs": sorted((leg.account_id, leg.amount_minor) for leg in entry.legs),
                "cause": [entry.cause_type, entry.cause_id],
            }
        )
        transactions.append(
            (
                next_id,
                entry.kind,
                entry.idempotency_key,
                content,
                now,
                entry.actor,
                entry.cause_type,
                entry.cause_id,
                "",
            )
        )
        for leg in entry.legs:
            balances[leg.account_id] += leg.amount_minor
            postings.append((next_id, leg.account_id, leg.amount_minor, balances[leg.account_id], now))
        next_id += 1
    return transactions, postings


TRANSACTION_COLUMNS = "id, kind, idempotency_key, fingerprint, created_at, actor, cause_type, cause_id, memo"
POSTING_COLUMNS = "transaction_id, account_id, amount_minor, balance_after_minor, created_at"


def insert_executemany(cursor: Any, transactions: list[Any], postings: list[Any]) -> None:
    cursor.executemany(
        f"INSERT INTO ledger_transaction ({TRANSACTION_COLUMNS}) VALUES ({', '.join(['%s'] * 9)})",
        transactions,
    )
    cursor.executemany(
        f"INSERT INTO ledger_posting ({POSTING_COLUMNS}) VALUES ({', '.join(['%s'] * 5)})", postings
    )


def insert_multirow(cursor: Any, transactions: list[Any], postings: list[Any]) -> None:
    for table, columns, rows in (
        ("ledger_transaction", TRANSACTION_COLUMNS, transactions),
        ("ledger_posting", POSTING_COLUMNS, postings),
    ):
        width = len(rows[0])
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            placeholders = ", ".join([f"({', '.join(['%s'] * width)})"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {placeholders}",
                [value for row in chunk for value in row],
            )


def time_raw_batch(entries: list[Any], insert: Any) -> float:
    """Plain INSERTs of the rows post_transactions would write for `entries`, in one database transaction.

    Untimed around it: the next free id before (explicit ids: the cheapest way to link postings), and
    after, the cached balances of the touched accounts and the identity sequence, so that the service
    can keep posting in between and the whole database still passes `ledger verify`.
    """
    from django.db import connection, transaction

    from selfcare.ledger.models import LedgerAccount

    touched = sorted({leg.account_id for entry in entries for leg in entry.legs})
    balances = dict(LedgerAccount.objects.filter(pk__in=touched).values_list("id", "balance_minor"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_transaction")
        first_id = int(cursor.fetchone()[0]) + 1
    now = connection.ops.adapt_datetimefield_value(datetime.now(tz=UTC))

    started = time.perf_counter()
    transactions, postings = raw_rows(entries, balances, first_id, now)
    with transaction.atomic(), connection.cursor() as cursor:
        insert(cursor, transactions, postings)
    elapsed = time.perf_counter() - started

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE ledger_ledgeraccount SET balance_minor = %s WHERE id = %s",
            [(balances[pk], pk) for pk in touched],
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('ledger_transaction', 'id'), "
                "(SELECT MAX(id) FROM ledger_transaction))"
            )
    return elapsed


def measure_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    import django
    from django.db import connection

    from selfcare.kit import clock
    from selfcare.ledger.queries import verify_ledger

    # The service and the baseline write to their own accounts, so that after the baseline's cached
    # balances are set (untimed) the whole database must pass `ledger verify` -- proof that the
    # baseline wrote the same well-formed rows.
    customers, revenue = open_accounts("svc", args.accounts)
    raw_customers, raw_revenue = open_accounts("raw", args.accounts)
    n, single_n = args.transactions, min(args.single, args.transactions)
    # Per path: the time of each batch position in each round; the figure is the sum over positions
    # of the best round, which filters out a noisy neighbour's bursts (every path gets the same).
    per_batch: dict[str, list[list[float]]] = {"batch": [], "executemany": [], "multirow": []}
    singles: list[float] = []
    for round_number in range(args.repeat):
        # Batch by batch, the three paths take turns, so that load or a WAL checkpoint falls on each of
        # them alike. A frozen clock keeps clock.now() out of the measurement (rows still get a time).
        service = chunks(workload(f"batch{round_number}", n, customers, revenue), args.batch)
        many = chunks(workload(f"many{round_number}", n, raw_customers, raw_revenue), args.batch)
        multirow = chunks(workload(f"multi{round_number}", n, raw_customers, raw_revenue), args.batch)
        times: dict[str, list[float]] = {"batch": [], "executemany": [], "multirow": []}
        with clock.frozen(datetime(2026, 3, 2, 6, 0, tzinfo=UTC) + timedelta(hours=round_number)):
            for service_part, many_part, multirow_part in zip(service, many, multirow, strict=True):
                times["batch"].append(time_service_batch(service_part))
                times["executemany"].append(time_raw_batch(many_part, insert_executemany))
                times["multirow"].append(time_raw_batch(multirow_part, insert_multirow))
            singles.append(measure_single(workload(f"single{round_number}", single_n, customers, revenue)))
        for key, values in times.items():
            per_batch[key].append(values)
    best = {
        key: sum(min(column) for column in zip(*rounds, strict=True)) for key, rounds in per_batch.items()
    }
    best["single"] = min(singles)
    report = verify_ledger()
    if not report.ok:
        raise SystemExit(f"ledger verify failed: {report.summary()}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if engine == "sqlite" else "SHOW server_version")
        version = str(cursor.fetchone()[0])
    # The baseline is the faster of the two plain ways to insert the rows.
    best_raw = min(best["executemany"], best["multirow"])
    return {
        "engine": engine,
        "server_version": version,
        "django": django.get_version(),
        "transactions": n,
        "legs_per_transaction": 2,
        "accounts": args.accounts,
        "batch_size": args.batch,
        "rounds": args.repeat,
        "batch_seconds": round(best["batch"], 3),
        "batch_tps": round(n / best["batch"]),
        "single_transactions": single_n,
        "single_seconds": round(best["single"], 3),
        "single_tps": round(single_n / best["single"]),
        "raw_executemany_seconds": round(best["executemany"], 3),
        "raw_executemany_tps": round(n / best["executemany"]),
        "raw_multirow_seconds": round(best["multirow"], 3),
        "raw_multirow_tps": round(n / best["multirow"]),
        "raw_seconds": round(best_raw, 3),
        "raw_tps": round(n / best_raw),
        "ratio_batch_to_raw": round(best_raw / best["batch"], 3),
        "verify": report.summary(),
    }


def print_result(result: dict[str, Any]) -> None:
    print(f"== {result['engine']} {result['server_version']} (Django {result['django']})")
    print(
        f"  post_transactions, batches of {result['batch_size']}: {result['transactions']} transactions "
        f"in {result['batch_seconds']:.2f} s = {result['batch_tps']:,} tx/s "
        f"({2 * result['batch_tps']:,} postings/s)"
    )
    print(
        f"  post_transaction, one at a time:  {result['single_transactions']} transactions "
        f"in {result['single_seconds']:.2f} s = {result['single_tps']:,} tx/s"
    )
    for label, key in (("executemany", "raw_executemany"), ("multi-row VALUES", "raw_multirow")):
        print(
            f"  raw INSERT ({label}), same rows: {result['transactions']} transactions "
            f"in {result[key + '_seconds']:.2f} s = {result[key + '_tps']:,} tx/s"
        )
    goal = "meets" if result["ratio_batch_to_raw"] >= 0.5 else "MISSES"
    print(f"  ratio batch/raw (faster raw): {result['ratio_batch_to_raw']:.2f} ({goal} the goal of 0.5)")
    print(f"  {result['verify']}")


def main(argv: list[str] | None = None) -> None:
    run_benchmark("ledger_posting", __file__, parse_args(argv), argv, measure_engine, print_result)


if __name__ == "__main__":
    main()
