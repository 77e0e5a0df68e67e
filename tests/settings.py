"""Settings for the test suite: the production settings with test-only inputs from the environment.

The database comes from SELFCARE_DATABASE_URL like everywhere else; `./run test` runs the suite once
on SQLite (the default) and once on PostgreSQL.
"""

import os

os.environ.setdefault("SELFCARE_SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("SELFCARE_DATA_DIR", "var/test")
os.environ.setdefault("SELFCARE_TASKS_IMMEDIATE", "1")
os.environ.setdefault("SELFCARE_LOG_JSON", "1")
os.environ.setdefault("SELFCARE_LOG_LEVEL", "WARNING")

from selfcare.settings import *  # noqa: F403
from selfcare.settings import DATA_DIR

DATA_DIR.mkdir(parents=True, exist_ok=True)
