"""Exactly one process owns the data folder: Chroma's embedded store is not process-safe.

The OS releases the lock when its holder dies, so a killed process never leaves a stale lock.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from app.core.errors import HearthError


class AlreadyRunning(HearthError):
    pass


class DataLock:
    def __init__(self, folder: Path) -> None:
        self._path = folder / "hearth.lock"
        self._owner = folder / "hearth.lock.pid"
        self._lock = FileLock(self._path, thread_local=False)  # released by whichever thread shuts down

    def acquire(self) -> None:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            try:
                pid = self._owner.read_text().strip()
            except OSError:
                pid = "unknown"
            raise AlreadyRunning(
                f"another Hearth process (pid {pid}) is using {self._path.parent}; close it first, "
                "or set HEARTH_HOME to use a different data folder"
            ) from None
        self._owner.write_text(str(os.getpid()))

    def release(self) -> None:
        if self._lock.is_locked:
            self._owner.unlink(missing_ok=True)
            self._lock.release()
