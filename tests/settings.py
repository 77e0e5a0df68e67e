"""Settings for the test suite: the production settings with test-only inputs from the environment.

The database comes from SELFCARE_DATABASE_URL like everywhere else; `./run test` runs the suite once
on SQLite (the default) and once on PostgreSQL.

Each test run gets its own data directory and its own test database names (keyed by the xdist run id,
or the process id without xdist), so two runs on one machine never destroy each other's databases.
"""

import os

RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]

os.environ.setdefault("SELFCARE_SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("SELFCARE_DATA_DIR", f"var/test/{RUN_ID}")
os.environ.setdefault("SELFCARE_TASKS_IMMEDIATE", "1")
os.environ.setdefault("SELFCARE_LOG_JSON", "1")
os.environ.setdefault("SELFCARE_LOG_LEVEL", "WARNING")

from selfcare.settings import *  # noqa: E402,F403
from selfcare.settings import DATA_DIR, DATABASES  # noqa: E402

DATA_DIR.mkdir(parents=True, exist_ok=True)
_default = DATABASES["default"]
if _default["ENGINE"].endswith("postgresql"):
    _default.setdefault("TEST", {})["NAME"] = f"test_{_default['NAME']}_{RUN_ID}"
    # Tests open and close connections from many threads; persistent connections only get in the way.
    _default["CONN_MAX_AGE"] = 0
