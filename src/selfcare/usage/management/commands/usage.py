from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from selfcare.usage import services
from selfcare.usage.importers import open_text, parse_asterisk, parse_csv
from selfcare.usage.services import RESULT_ACCEPTED, RESULT_DUPLICATE

DEFAULT_BATCH = 10_000


class Command(BaseCommand):
    help = (
        "Usage tools. `selfcare usage import FILE [--format csv|asterisk]` rates a usage file (plain or "
        "gzip); see docs/usage.md for the formats."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="rate the records of a CSV or Asterisk Master.csv file")
        load.add_argument("file", type=Path)
        load.add_argument("--format", choices=["csv", "asterisk"], default="csv")
        load.add_argument(
            "--source",
            default="",
            help="source name (default: the CSV's source column, else 'csv'; 'asterisk')",
        )
        load.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="records per rated batch")
        load.add_argument(
            "--timezone", default="", help="Asterisk: the PBX's time zone (default: the operator's)"
        )
        sub.add_parser("reset-buckets", help="open the current period's buckets of every line now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "reset-buckets":
            created = services.reset_buckets()
            self.stdout.write(f"buckets opened: {created}")
            return
        self._import(options)

    def _import(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        batch_size = max(1, int(options["batch_size"]))
        actor = f"import:{path.name}"[:100]
        with open_text(path) as stream:
            if options["format"] == "asterisk":
                parsed = parse_asterisk(
                    stream,
                    source=options["source"] or "asterisk",
                    time_zone=options["timezone"] or settings.TIME_ZONE,
                    phone_region=settings.SELFCARE_PHONE_REGION,
                    classifier=services.get_destination_classifier(),
                )
            else:
                parsed = parse_csv(stream, default_source=options["source"] or "csv")
            totals: Counter[str] = Counter()
            malformed = 0
            batch: list[Any] = []
            line_numbers: list[int] = []
            try:
                for line_number, item in parsed:
                    if isinstance(item, str):
                        malformed += 1
                        self.stderr.write(f"{path.name}:{line_number}: malformed, skipped: {item}")
                        continue
                    batch.append(item)
                    line_numbers.append(line_number)
                    if len(batch) >= batch_size:
                        self._rate(batch, line_numbers, totals, actor, path.name)
                        batch, line_numbers = [], []
            except (UnicodeDecodeError, OSError, EOFError) as exc:
                self.stderr.write(f"{path.name}: stopped reading: {exc}")
            if batch:
                self._rate(batch, line_numbers, totals, actor, path.name)
        self.stdout.write(
            f"{path.name}: {totals[RESULT_ACCEPTED]} accepted, {totals[RESULT_DUPLICATE]} duplicate, "
            f"{totals['rejected']} rejected, {malformed} malformed lines skipped; "
            f"charged {totals['charged_minor']} (minor units)"
        )

    def _rate(
        self, batch: list[Any], line_numbers: list[int], totals: Counter[str], actor: str, name: str
    ) -> None:
        result = services.rate_batch(batch, actor=actor)
        totals["charged_minor"] += result.charged_minor
        for line_number, outcome in zip(line_numbers, result.results, strict=True):
            if outcome.status in (RESULT_ACCEPTED, RESULT_DUPLICATE):
                totals[outcome.status] += 1
            else:
                totals["rejected"] += 1
                self.stderr.write(f"{name}:{line_number}: rejected: {outcome.reason}")
