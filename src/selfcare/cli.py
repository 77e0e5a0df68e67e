"""The `selfcare` console script: Django's management commands under the project's name.

`selfcare demo` switches on demo mode (generated secret key, http cookies, console logs) before the
settings are read, so it works on a fresh machine with no configuration at all.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "demo":
        os.environ.setdefault("SELFCARE_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "selfcare.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
