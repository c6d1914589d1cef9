"""Conversations: each question and answer, with its citations, confidence and route, kept in
SQLite under the data folder so history survives restarts. Every front end uses this module:
the window's chat list, and `hearth conversations` (list, show, rename, delete, export)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.core import migrations, paths
from app.core.errors import HearthError
from app.core.tasks.result import Citation, TaskResult

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_conversations",
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            collection TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            text TEXT NOT NULL,
            citations TEXT NOT NULL DEFAULT '[]',
            confidence REAL,
            route TEXT,
            ledger_id INTEGER,
            created_at REAL NOT NULL
        );
        CREATE INDEX messages_by_conversation ON messages(conversation, id);
        """,
    ),
    ("0002_refusals", "ALTER TABLE messages ADD COLUMN abstained INTEGER NOT NULL DEFAULT 0"),
]
TITLE_CHARS = 60
ALL_COLLECTIONS = None  # a conversation over every collection stores no collection name


class ConversationError(HearthError):
    pass


@dataclass
class Message:
    role: str  # user | assistant
    text: str
    citations: list[Citation] = field(default_factory=list)
    confidence: float | None = None
    route: str | None = None  # local | cloud
    ledger_id: int | None = None
    created_at: float = 0.0
    abstained: bool = False  # a refusal: its citations are what was searched, not sources


@dataclass
class Conversation:
    id: int
    title: str
    collection: str | None
    created_at: float
    updated_at: float
    messages: int = 0


def default_path() -> Path:
    return paths.data_dir() / "conversations.sqlite"


def title_from(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rstrip() + "…"


class Conversations:
    """Safe to share between threads: one connection, every statement under a lock."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            migrations.apply(self._db, MIGRATIONS)

    # -- conversations -----------------------------------------------------------------------
    def create(self, title: str, collection: str | None = ALL_COLLECTIONS) -> Conversation:
        now = time.time()
        with self._lock:
            cid = self._db.execute("INSERT INTO conversations (title, collection, created_at, updated_at) VALUES (?, ?, ?, ?)",
                                   (_title(title), collection, now, now)).lastrowid
        return self.get(cid)

    def list(self) -> list[Conversation]:
        """Most recently active first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.title, c.collection, c.created_at, c.updated_at, COUNT(m.id) FROM conversations c "
                "LEFT JOIN messages m ON m.conversation = c.id GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC"
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def get(self, cid: int) -> Conversation:
        found = next((c for c in self.list() if c.id == cid), None)
        if found is None:
            raise ConversationError(f"no conversation with id {cid}")
        return found

    def rename(self, cid: int, title: str) -> None:
        self.get(cid)
        with self._lock:
            self._db.execute("UPDATE conversations SET title=? WHERE id=?", (_title(title), cid))

    def delete(self, cid: int) -> None:
        self.get(cid)
        with self._lock:
            self._db.execute("DELETE FROM conversations WHERE id=?", (cid,))

    # -- messages ----------------------------------------------------------------------------
    def add(self, cid: int, message: Message) -> None:
        self.get(cid)
        message.created_at = message.created_at or time.time()
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO messages (conversation, role, text, citations, confidence, route, ledger_id, created_at, abstained) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cid, message.role, message.text, json.dumps([asdict(c) for c in message.citations], ensure_ascii=False),
                 message.confidence, message.route, message.ledger_id, message.created_at, int(message.abstained)),
            )
            self._db.execute("UPDATE conversations SET updated_at=? WHERE id=?", (message.created_at, cid))
            self._db.execute("COMMIT")

    def add_answer(self, cid: int, result: TaskResult) -> Message:
        ledger_id = (result.escalation or {}).get("ledger_id") if result.route == "cloud" else None
        message = Message("assistant", result.text, list(result.citations), result.confidence, result.route, ledger_id,
                          abstained=result.abstained)
        self.add(cid, message)
        return message

    def messages(self, cid: int) -> list[Message]:
        self.get(cid)
        with self._lock:
            rows = self._db.execute(
                "SELECT role, text, citations, confidence, route, ledger_id, created_at, abstained FROM messages "
                "WHERE conversation=? ORDER BY id",
                (cid,),
            ).fetchall()
        return [Message(role, text, [Citation(**c) for c in json.loads(cites)], conf, route, ledger, created, bool(abstained))
                for role, text, cites, conf, route, ledger, created, abstained in rows]

    # -- export ------------------------------------------------------------------------------
    def to_markdown(self, cid: int) -> str:
        conv = self.get(cid)
        scope = f"collection {conv.collection}" if conv.collection else "all collections"
        out = [f"# {conv.title}", "", f"_Asked of {scope}; started {time.strftime('%Y-%m-%d %H:%M', time.localtime(conv.created_at))}._", ""]
        for m in self.messages(cid):
            if m.role == "user":
                out += [f"**You:** {m.text}", ""]
                continue
            out += ["**Hearth:**", "", m.text, ""]
            route = "answered on this computer" if m.route != "cloud" else f"answered by the cloud model (ledger #{m.ledger_id})"
            if m.confidence is not None:
                out += [f"_Confidence {m.confidence:.0%}, {route}._", ""]
            for heading, cited in source_groups(m.citations, m.abstained, m.route):
                out.append(heading)
                out += [f"{n}. {c.file}, {where(c)}: \u201c{c.quote}\u201d" for n, c in cited]
                out.append("")
        return "\n".join(out).rstrip() + "\n"

    def close(self) -> None:
        with self._lock:
            self._db.close()


def source_groups(citations: list[Citation], abstained: bool, route: str) -> list[tuple[str, list[tuple[int, Citation]]]]:
    """A message's citations, numbered from 1, under what they are, as every front end says it: a
    refusal's are what it searched; a local answer quotes its first and only found the others (an
    answer about leave listed a lease among its "sources"); the cloud wrote from all of them."""
    numbered = list(enumerate(citations, start=1))
    if not numbered:
        return []
    if abstained:
        return [("Searched:", numbered)]
    if route == "cloud":
        return [("Sources:", numbered)]
    return [("Quoted from:", numbered[:1])] + ([("Also found:", numbered[1:])] if len(numbered) > 1 else [])


def where(citation: Citation) -> str:
    """Where a citation points, in words: a page, a line span, or the whole file."""
    if citation.page:
        return f"p. {citation.page}"
    if citation.line_start:
        return f"line {citation.line_start}" if citation.line_end in (None, citation.line_start) else \
            f"lines {citation.line_start}\u2013{citation.line_end}"
    return "whole file"


def _title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ConversationError("a conversation needs a title")
    return title[:200]
