"""`selfcare staff_groups`: create or update the standard back-office groups (docs/backoffice.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from selfcare.backoffice.staff_groups import STAFF_GROUPS, sync_staff_groups


class Command(BaseCommand):
    help = "Create or update the standard staff groups (Support, Finance, Catalog managers, ...)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = sync_staff_groups(actor="system:staff_groups")
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        for group in STAFF_GROUPS:
            self.stdout.write(f"{group.name}: {outcome[group.name]} — {group.description}")
