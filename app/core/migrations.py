"""Named, append-only SQLite migrations: each runs once, in order, inside its own transaction.
The document catalog and the conversations share this one loop."""

from __future__ import annotations

import sqlite3
import time


def apply(db: sqlite3.Connection, migrations: list[tuple[str, str]]) -> None:
    """`db` in autocommit mode (isolation_level=None); the caller holds its lock."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM schema_migrations")}
    for name, sql in migrations:
        if name in done:
            continue
        db.execute("BEGIN")
        for statement in filter(str.strip, sql.split(";")):  # executescript would commit early
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
        db.execute("COMMIT")
