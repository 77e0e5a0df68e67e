"""Database triggers that make the journal append-only below the ORM (DESIGN.md §6).

Used by migration 0002; kept here so that the SQL has one home. Both engines raise an integrity
error (SQLSTATE 23000 on PostgreSQL, SQLITE_CONSTRAINT on SQLite) which Django maps to IntegrityError.
TRUNCATE is a schema-owner's operation, outside what the application can do, and is not blocked.
"""

from __future__ import annotations

APPEND_ONLY_TABLES = ("ledger_posting", "ledger_transaction")

POSTGRES_CREATE = [
    """
    CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'ledger rows are append-only (% on %)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    *[
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        for table in APPEND_ONLY_TABLES
    ],
]
POSTGRES_DROP = [
    *[f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in APPEND_ONLY_TABLES],
    "DROP FUNCTION IF EXISTS ledger_refuse_change()",
]

SQLITE_CREATE = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only ({op} on {table})'); END"
    for table in APPEND_ONLY_TABLES
    for op in ("UPDATE", "DELETE")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}"
    for table in APPEND_ONLY_TABLES
    for op in ("UPDATE", "DELETE")
]


def create_statements(vendor: str) -> list[str]:
    return {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}[vendor]


def drop_statements(vendor: str) -> list[str]:
    return {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}[vendor]
