"""One Hearth per user and data folder. A second launch (`hearth FILE…`, `hearth quick ACTION`)
hands its request to the running one over a local socket instead of opening the store again
(Chroma's embedded store is not process-safe). This module holds what needs no Qt: the socket's
name, the lock that says who serves it, and the messages (one JSON line each way)."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
from pathlib import Path

from filelock import FileLock, Timeout

from app.core import paths
from app.core.quick import ACTIONS

PROTOCOL = 1


def _key() -> str:
    """Per user and per data folder, so two HEARTH_HOMEs run side by side (tests do)."""
    return hashlib.sha256(f"{getpass.getuser()}\n{paths.data_dir(create=False)}".encode()).hexdigest()[:16]


def socket_name() -> str:
    """A path on Unix (a private runtime folder rather than Qt's shared /tmp); a pipe name on Windows."""
    name = f"hearth-{_key()}"
    return name if sys.platform == "win32" else str(paths.runtime_dir() / name)


class ServerLock:
    """Held by the serving process for its lifetime. A socket file left by a killed instance
    has no holder (the OS drops the lock with its process), so whoever takes it may remove
    that socket; two launches racing for a stale socket cannot both replace it."""

    def __init__(self) -> None:
        self._lock = FileLock(paths.runtime_dir() / f"hearth-{_key()}.lock", thread_local=False)

    def try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release()


class BadRequest(ValueError):
    pass


def open_request(files: list[str], cwd: Path | None = None) -> dict:
    """Relative paths are resolved here: the running instance has another working folder."""
    base = cwd or Path.cwd()
    return {"protocol": PROTOCOL, "open": [f if "://" in f else os.path.join(base, f) for f in files]}


def quick_request(action: str, option: str | None = None, cwd: Path | None = None) -> dict:
    """`option` as the tray takes it: the file of summarize-file (made absolute here), the question
    of ask-clipboard, the schema, label set or preset of the others."""
    if action not in ACTIONS:
        raise BadRequest(f"unknown quick action {action!r}; one of: {', '.join(ACTIONS)}")
    if option and action == "summarize-file":
        option = os.path.join(cwd or Path.cwd(), option)
    return {"protocol": PROTOCOL, "quick": action, "option": option or None}


def encode(message: dict) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode() + b"\n"


def decode(line: bytes) -> dict:
    """A request or reply, checked; BadRequest says what is wrong with it."""
    try:
        message = json.loads(line.decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"not a JSON line ({exc})") from None
    if not isinstance(message, dict) or message.get("protocol") != PROTOCOL:
        raise BadRequest(f"not a Hearth message of protocol {PROTOCOL}")
    if "open" in message and not (isinstance(message["open"], list) and all(isinstance(f, str) for f in message["open"])):
        raise BadRequest("'open' must be a list of paths")
    if "quick" in message and message["quick"] not in ACTIONS:
        raise BadRequest(f"unknown quick action {message['quick']!r}")
    return message


def reply(ok: bool, text: str) -> dict:
    return {"protocol": PROTOCOL, "ok": ok, "text": text}
