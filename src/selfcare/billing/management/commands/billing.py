from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from selfcare.billing import services


class Command(BaseCommand):
    help = (
        "Billing tools. `selfcare billing charge-fees [--date YYYY-MM-DD]` charges recurring fees (safe to "
        "rerun); `selfcare billing settle [--account ID]` charges debts and unblocks lines that owe nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        charge = sub.add_parser("charge-fees", help="charge the fees of the periods containing a local day")
        charge.add_argument("--date", type=date.fromisoformat, help="local day (default: today)")
        charge.add_argument("--chunk-size", type=int, help="lines per transaction")
        # Fault injection for the crash test: stop inside the transaction of this line and wait to be
        # killed (tests/billing/test_crash.py sends SIGKILL once it reads the marker line).
        charge.add_argument("--pause-after-lines", type=int, help=argparse.SUPPRESS)
        settle = sub.add_parser("settle", help="charge debts and unblock lines (one account or all)")
        settle.add_argument("--account", type=int, help="lines.Account id (default: every account in debt)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "charge-fees":
            pause_at = options.get("pause_after_lines")

            def after_line(done: int) -> None:
                if pause_at is not None and done >= pause_at:
                    sys.stdout.write(f"paused after {done} lines\n")
                    sys.stdout.flush()
                    while True:
                        time.sleep(3600)

            result = services.charge_fees(
                on=options.get("date"), chunk_size=options.get("chunk_size"), after_line=after_line
            )
        elif options["action"] == "settle":
            account = options.get("account")
            result = services.settle_debts(account) if account else services.settle_all_debts()
        else:  # pragma: no cover - argparse refuses other actions
            raise CommandError(f"unknown action {options['action']!r}")
        self.stdout.write(
            f"billing {options['action']}: {result.lines} lines, {result.charged} fees charged "
            f"({result.charged_minor} minor units), {result.unpaid} unpaid, {result.lapsed} lapsed, "
            f"{len(result.blocked)} blocked, {len(result.unblocked)} unblocked"
        )
