"""The multi-node test starts real server processes against the suite's own database, so it runs on
the PostgreSQL pass only: several processes writing one SQLite file is not a deployment we offer. On
the SQLite pass the module is not collected at all (not skipped: there is nothing to run there)."""

from __future__ import annotations

import os

_ON_POSTGRES = os.environ.get("SELFCARE_DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

collect_ignore_glob = [] if _ON_POSTGRES else ["test_*.py"]
