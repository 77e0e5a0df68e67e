from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from selfcare.ledger.queries import verify_ledger


class Command(BaseCommand):
    help = "Ledger tools. `selfcare ledger verify` proves the journal's invariants (exit 0 only if all hold)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check every invariant of the double-entry journal")
        verify.add_argument("--details", action="store_true", help="list offending rows (first 20 of each)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            report = verify_ledger()
            if options.get("details") or not report.ok:
                for label, rows in (
                    ("unbalanced transaction", report.unbalanced_transactions),
                    ("balance mismatch", report.balance_mismatches),
                    ("below floor", report.below_floor),
                    ("running balance mismatch", report.running_balance_mismatches),
                ):
                    for row in rows:
                        self.stderr.write(f"{label}: {row}")
            self.stdout.write(report.summary())
            if not report.ok:
                raise CommandError("ledger invariants violated", returncode=1)
