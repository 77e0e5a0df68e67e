"""`selfcare openapi [--output docs/openapi.json]`: the OpenAPI document of /api/v1/, as served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from selfcare.api.openapi import render
from selfcare.api.urls import api


class Command(BaseCommand):
    help = "Write the OpenAPI document of /api/v1/ (sorted keys) to a file, or print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", help="The file to write (docs/openapi.json); standard output if omitted."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = render(api)
        output = options.get("output")
        if not output:
            self.stdout.write(text, ending="")
            return
        Path(output).write_text(text, encoding="utf-8")
        self.stderr.write(f"wrote {output}")
