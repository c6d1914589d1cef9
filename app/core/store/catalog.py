"""The SQLite catalog of ingested documents. Schema changes are named, append-only migrations."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app.core import migrations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_documents",
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            collection TEXT NOT NULL,
            path TEXT NOT NULL,
            name TEXT NOT NULL,
            sha256 TEXT,
            size INTEGER,
            mtime REAL,
            status TEXT NOT NULL,
            error TEXT,
            pages INTEGER NOT NULL DEFAULT 0,
            chunks INTEGER NOT NULL DEFAULT 0,
            seconds REAL NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL,
            UNIQUE (collection, path)
        );
        """,
    ),
    (
        "0002_collections",
        """
        CREATE TABLE collections (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            folder TEXT,
            created_at REAL NOT NULL
        );
        INSERT INTO collections (name, created_at) SELECT DISTINCT collection, updated_at FROM documents;
        """,
    ),
]

# "pending" is written before a document's chunks and replaced once they are all stored, so a
# crash leaves a marker that recovery finds.
STATUSES = ("indexed", "error", "needs password", "skipped", "pending", "interrupted")


@dataclass
class DocumentRecord:
    collection: str
    path: str
    name: str
    sha256: str | None
    size: int | None
    mtime: float | None
    status: str
    error: str | None
    pages: int
    chunks: int
    seconds: float
    updated_at: float


@dataclass
class Collection:
    id: int
    name: str
    folder: str | None
    created_at: float
    documents: int = 0
    key: str = ""  # the vector-store name, stable across renames: c<id> here, its own on a shared store

    def __post_init__(self) -> None:
        self.key = self.key or f"c{self.id}"


class Catalog:
    def __init__(self, db_path: Path) -> None:
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            migrations.apply(self._db, MIGRATIONS)

    def get(self, collection: str, path: str) -> DocumentRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM documents WHERE collection=? AND path=?", (collection, path)).fetchone()
        return _record(row) if row else None

    def put(self, record: DocumentRecord) -> None:
        fields = list(record.__dict__)
        with self._lock:
            self._db.execute(
                f"INSERT INTO documents ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))}) "
                f"ON CONFLICT (collection, path) DO UPDATE SET {', '.join(f'{f}=excluded.{f}' for f in fields)}",
                [getattr(record, f) for f in fields],
            )

    def delete(self, collection: str, path: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM documents WHERE collection=? AND path=?", (collection, path))

    def with_status(self, status: str) -> list[DocumentRecord]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM documents WHERE status=?", (status,)).fetchall()
        return [_record(r) for r in rows]

    # -- collections -------------------------------------------------------------------------
    def collections(self) -> list[Collection]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.name, c.folder, c.created_at, COUNT(d.id) AS documents FROM collections c "
                "LEFT JOIN documents d ON d.collection = c.name AND d.status = 'indexed' GROUP BY c.id ORDER BY c.name"
            ).fetchall()
        return [Collection(**dict(r)) for r in rows]

    def collection(self, name: str) -> Collection | None:
        return next((c for c in self.collections() if c.name == name), None)

    def create_collection(self, name: str, folder: str | None = None) -> Collection:
        with self._lock:
            self._db.execute("INSERT INTO collections (name, folder, created_at) VALUES (?, ?, ?)", (name, folder, time.time()))
        return self.collection(name)  # type: ignore[return-value]

    def set_folder(self, name: str, folder: str | None) -> None:
        with self._lock:
            self._db.execute("UPDATE collections SET folder=? WHERE name=?", (folder, name))

    def rename_collection(self, old: str, new: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("UPDATE collections SET name=? WHERE name=?", (new, old))
            self._db.execute("UPDATE documents SET collection=? WHERE collection=?", (new, old))
            self._db.execute("COMMIT")

    def delete_collection(self, name: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM documents WHERE collection=?", (name,))
            self._db.execute("DELETE FROM collections WHERE name=?", (name,))
            self._db.execute("COMMIT")

    def documents(self, collection: str | None = None) -> list[DocumentRecord]:
        sql, args = "SELECT * FROM documents", ()
        if collection is not None:
            sql, args = sql + " WHERE collection=?", (collection,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY name", args).fetchall()
        return [_record(r) for r in rows]

    # One process holds the data folder, and its writer thread stores one document at a time, so
    # every claim is granted (the shared catalog's leases are what makes this true across clients).
    def try_claim(self, key: str, path: str) -> bool:
        return True

    def release(self, key: str, path: str) -> None:
        pass

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _record(row: sqlite3.Row) -> DocumentRecord:
    return DocumentRecord(**{k: row[k] for k in row.keys() if k != "id"})
