"""What every benchmark shares: scratch databases, Django set-up, the machine, the per-engine driver.

Each benchmark runs once per engine, each engine in its own process (Django's settings, and so the
database, are fixed once per process), prints its figures, and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def admin_connect(url: str) -> Any:
    import psycopg

    parsed = urlparse(url)
    return psycopg.connect(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name.startswith("selfcare_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the bench database name must start with selfcare_bench")
    return name


def recreate_postgres_database(url: str) -> None:
    name = database_name(url)
    with admin_connect(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_postgres_database(url: str) -> None:
    name = database_name(url)
    with admin_connect(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str, data_dir: Path) -> None:
    os.environ["SELFCARE_DATABASE_URL"] = database_url
    os.environ["SELFCARE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("SELFCARE_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("SELFCARE_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "selfcare.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def run_engine(
    engine: str, args: argparse.Namespace, measure: Callable[[str, argparse.Namespace], dict[str, Any]]
) -> dict[str, Any]:
    """Run `measure(engine, args)` on a fresh scratch database of that engine, dropped afterwards."""
    with tempfile.TemporaryDirectory(prefix="selfcare-bench-") as tmp:
        if engine == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        else:
            url = args.postgres_url
            recreate_postgres_database(url)
        try:
            setup_django(url, Path(tmp))
            return measure(engine, args)
        finally:
            if engine == "postgres":
                from django.db import connections

                connections.close_all()
                drop_postgres_database(url)


def strip_db_option(argv: list[str]) -> list[str]:
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--db":
            skip = True
            continue
        if arg.startswith("--db="):
            continue
        kept.append(arg)
    return kept


def run_benchmark(
    name: str,
    script: str,
    args: argparse.Namespace,
    argv: list[str] | None,
    measure: Callable[[str, argparse.Namespace], dict[str, Any]],
    print_result: Callable[[dict[str, Any]], None],
) -> None:
    """Measure each engine asked for (one process each), print the figures, end with one JSON line."""
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if len(engines) == 1 and args.json_only:
        print(json.dumps(run_engine(engines[0], args, measure)))
        return
    results: list[dict[str, Any]] = []
    for engine in engines:
        if len(engines) == 1:
            result = run_engine(engine, args, measure)
        else:
            forwarded = strip_db_option(argv if argv is not None else sys.argv[1:])
            output = subprocess.run(
                [sys.executable, script, *forwarded, "--db", engine, "--json-only"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(output.strip().splitlines()[-1])
        print_result(result)
        results.append(result)
    print(json.dumps({"benchmark": name, "machine": machine(), "results": results}))
