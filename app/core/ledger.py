"""The ledger: one row for every attempt to send something to a cloud provider.

It is append-only in the database itself: triggers abort any UPDATE, DELETE or REPLACE, so
no code path (ours or a bug in it) can rewrite what was sent. A row stores the exact redacted
payload and how many items of each kind were redacted, never the redacted values nor the key.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, TextIO, get_args

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, field_validator

from app.core import paths
from app.core.errors import HearthError

SCHEMA_VERSION = 1
Outcome = Literal["sent", "declined", "failed-before-send", "error"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
COLUMNS = ("id", "time", "provider", "model", "task", "payload", "redacted_counts", "tokens_in", "tokens_out",
           "cost_estimate", "latency_s", "outcome", "detail")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: an id is never handed out twice
    time TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    task TEXT NOT NULL,
    payload TEXT NOT NULL,
    redacted_counts TEXT NOT NULL,
    tokens_in INTEGER NOT NULL CHECK (tokens_in >= 0),
    tokens_out INTEGER NOT NULL CHECK (tokens_out >= 0),
    cost_estimate REAL NOT NULL CHECK (cost_estimate >= 0),
    latency_s REAL CHECK (latency_s >= 0),
    outcome TEXT NOT NULL CHECK (outcome IN ({", ".join(f"'{o}'" for o in OUTCOMES)})),
    detail TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS requests_no_update BEFORE UPDATE ON requests
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: rows cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS requests_no_delete BEFORE DELETE ON requests
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: rows cannot be deleted'); END;
-- INSERT OR REPLACE deletes the old row without firing delete triggers (unless
-- recursive_triggers is on), so an insert may never reuse an existing id.
CREATE TRIGGER IF NOT EXISTS requests_no_replace BEFORE INSERT ON requests
WHEN EXISTS (SELECT 1 FROM requests WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: rows cannot be replaced'); END;
"""


class LedgerError(HearthError):
    pass


class SecretInEntry(LedgerError):
    """record() found the secret in use inside an entry: a bug upstream, so nothing is stored."""


class LedgerEntry(BaseModel):
    """One outbound attempt. `id` and `time` are set by the ledger when the entry is recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    provider: str  # the base URL's host
    model: str
    task: str
    payload: str  # the exact redacted request body, as JSON text
    outcome: Outcome
    redacted_counts: dict[str, NonNegativeInt] = Field(default_factory=dict)
    tokens_in: NonNegativeInt = 0
    tokens_out: NonNegativeInt = 0
    cost_estimate: float = Field(0.0, ge=0.0)
    latency_s: float | None = Field(None, ge=0.0)
    detail: str = ""  # e.g. "HTTP 500", "timeout after 30 s"
    id: int | None = None
    time: str | None = None  # UTC, ISO 8601

    @field_validator("payload")
    @classmethod
    def _json_text(cls, value: str) -> str:
        json.loads(value)  # a ValueError here means the caller passed something that was not sent as JSON
        return value


def default_path() -> Path:
    return paths.data_dir() / "ledger.sqlite3"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _check_secret(values: dict, secret: str | None) -> None:
    """Refuse a row holding the secret, raw or as it appears escaped inside JSON text."""
    if not secret:
        return
    forms = {secret, json.dumps(secret)[1:-1]}
    for name, value in values.items():
        if isinstance(value, str) and any(form in value for form in forms):
            raise SecretInEntry(f"refused to record a ledger entry: the API key appears in its {name!r} field")


class Ledger:
    """Safe to share between threads: every call opens its own connection."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._create()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: each INSERT commits on its own; concurrent writers wait up to `timeout`.
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            conn.execute("PRAGMA synchronous=FULL")  # a row must survive a power cut once record() returns
            yield conn

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # The payloads quote the user's documents: only the user may read them. SQLite gives
            # its -wal and -shm files the database file's permissions.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise LedgerError(f"the ledger {self.path} was written by a newer Hearth (schema {version})")
            if version == 0:
                # Every statement is IF NOT EXISTS: two processes creating the ledger at once is harmless.
                conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    def record(self, entry: LedgerEntry, secret: str | None = None) -> int:
        """Append one entry and return its id. `secret` (e.g. the key in use) must not occur in it."""
        if entry.id is not None or entry.time is not None:
            raise ValueError("this entry has already been recorded")
        values = entry.model_dump(exclude={"id", "time"})
        values["redacted_counts"] = json.dumps(entry.redacted_counts, sort_keys=True)
        values["time"] = _now()
        _check_secret(values, secret)
        names = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        with self._connect() as conn:
            return conn.execute(f"INSERT INTO requests ({names}) VALUES ({marks})", values).lastrowid

    def rows(self, limit: int | None = None) -> list[LedgerEntry]:
        """Entries oldest first; with `limit`, only the most recent `limit` of them."""
        if limit is not None and limit < 0:
            raise ValueError("limit must be 0 or more")
        select = f"SELECT {', '.join(COLUMNS)} FROM requests"
        with self._connect() as conn:
            if limit is None:
                found = conn.execute(f"{select} ORDER BY id").fetchall()
            else:
                found = conn.execute(f"SELECT * FROM ({select} ORDER BY id DESC LIMIT ?) ORDER BY id", (limit,)).fetchall()
        return [_entry(row) for row in found]

    def to_csv(self, target: str | os.PathLike | TextIO) -> None:
        """Write every entry with a header line; redacted_counts and payload stay JSON text."""
        if hasattr(target, "write"):
            self._write_csv(target)
            return
        with open(target, "w", newline="", encoding="utf-8") as handle:
            self._write_csv(handle)

    def _write_csv(self, handle: TextIO) -> None:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for entry in self.rows():
            fields = entry.model_dump()
            fields["redacted_counts"] = json.dumps(entry.redacted_counts, sort_keys=True)
            writer.writerow(fields[name] for name in COLUMNS)

    def summary(self) -> dict:
        """Counts per outcome (every outcome present, 0 included), total tokens and total cost."""
        with self._connect() as conn:  # one query: a consistent snapshot even while others record
            groups = conn.execute(
                "SELECT outcome, COUNT(*), SUM(tokens_in), SUM(tokens_out), SUM(cost_estimate) FROM requests GROUP BY outcome"
            ).fetchall()
        counts = {outcome: n for outcome, n, *_ in groups}
        return {"requests": sum(counts.values()), "outcomes": {o: counts.get(o, 0) for o in OUTCOMES},
                "tokens_in": sum(g[2] for g in groups), "tokens_out": sum(g[3] for g in groups),
                "cost_estimate": float(sum(g[4] for g in groups))}


def _entry(row: tuple) -> LedgerEntry:
    fields = dict(zip(COLUMNS, row, strict=True))
    fields["redacted_counts"] = json.loads(fields["redacted_counts"])
    return LedgerEntry(**fields)
