"""Parsing runs in a child process with a wall-clock and a memory limit.

pypdf can hang or balloon on hostile files; a child that overruns is killed and the file is
reported, while the batch and the app go on. One child is kept warm and reused (starting one
per file would cost more than parsing most files), and it is replaced after any kill.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from app.core.documents import Document, DocumentError

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MEMORY_BYTES = 2 << 30  # address space; the heaviest corpus file peaks near 0.4 GB resident


def _serve(conn: Connection, memory_bytes: int) -> None:
    """The child's loop: parse each requested file and send back a Document or an error."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # Libraries print to stdout on odd files; that must never mix into the CLI's --json output.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from app.core.documents import parse  # imported here so the parent's heavy modules stay out

    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        path, password = request
        try:
            reply = parse(Path(path), password)
        except DocumentError as exc:
            reply = exc
        except MemoryError:
            reply = DocumentError(f"too large: parsing needed more than {memory_bytes >> 20} MB")
        except Exception as exc:  # noqa: BLE001 - any parser bug becomes this file's error
            reply = DocumentError(f"could not be parsed ({type(exc).__name__}: {str(exc)[:200]})")
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable exception from a library
            conn.send(DocumentError(f"could not be parsed ({type(exc).__name__})"))


@dataclass
class _Pending:
    path: str


class ParserProcess:
    """Submit one file, then collect its result; at most one file is in flight."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, memory_bytes: int = DEFAULT_MEMORY_BYTES) -> None:
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self._ctx = mp.get_context("spawn")  # never fork a process that holds torch and llama threads
        self._proc: mp.Process | None = None
        self._conn: Connection | None = None
        self._pending: _Pending | None = None

    def _ensure(self) -> Connection:
        if self._proc is None or not self._proc.is_alive():
            parent, child = self._ctx.Pipe()
            self._proc = self._ctx.Process(target=_serve, args=(child, self.memory_bytes), name="hearth-parser", daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        assert self._conn is not None
        return self._conn

    def submit(self, path: Path, password: str | None = None) -> None:
        assert self._pending is None, "collect the previous result first"
        self._ensure().send((str(path), password))
        self._pending = _Pending(str(path))

    def result(self) -> Document:
        assert self._pending is not None and self._conn is not None
        self._pending = None
        try:
            if not self._conn.poll(self.timeout_s):
                self._kill()
                raise DocumentError(f"parsing took longer than {self.timeout_s:.0f}s; stopped")
            reply = self._conn.recv()
        except (EOFError, OSError) as exc:
            code = self._proc.exitcode if self._proc else None
            self._kill()
            raise DocumentError(f"the parser crashed on this file (exit code {code})") from exc
        if isinstance(reply, DocumentError):
            raise reply
        return reply

    def parse(self, path: Path, password: str | None = None) -> Document:
        self.submit(path, password)
        return self.result()

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def close(self) -> None:
        self._pending = None
        self._kill()


def read_texts(paths: list[Path]) -> str:
    """The whole text of files, parsed as ingestion parses them (in the limited child).
    A file that cannot be read raises DocumentError naming it."""
    parser = ParserProcess()
    texts = []
    try:
        for path in paths:
            try:
                texts.extend(section.text for section in parser.parse(Path(path)).sections)
            except DocumentError as exc:
                raise DocumentError(f"{path}: {exc}") from exc
    finally:
        parser.close()
    return "\n\n".join(texts)
