"""The single-instance socket (after qutebrowser's misc/ipc.py): the running Hearth listens on a
QLocalServer named per user and data folder; a second launch connects with a QLocalSocket, sends
one JSON line, reads the one-line answer and exits, without ever opening the data folder.

Unlike a fire-and-forget handoff, the running instance answers, so `hearth FILE…` can say which
files it refused and why, and exit 0 only when its request was taken."""

from __future__ import annotations

import logging
import os
import sys
import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.core import instance as protocol
from app.core.drops import sort_dropped
from app.core.errors import HearthError
from app.core.quick import ACTIONS

log = logging.getLogger(__name__)

CONNECT_MS = 1000
ANSWER_MS = 60_000  # the window answers from its UI thread, which a loading model can slow down
STARTUP_WAIT_S = 60  # how long a launch waits for another that holds the lock but is not listening yet
_NO_INSTANCE = (QLocalSocket.LocalSocketError.ServerNotFoundError, QLocalSocket.LocalSocketError.ConnectionRefusedError)


def send(message: dict, name: str | None = None) -> dict | None:
    """The running instance's answer, or None when none listens (no socket, or a stale one)."""
    name = name or protocol.socket_name()
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(CONNECT_MS):
        if sock.error() in _NO_INSTANCE:
            return None
        raise HearthError(f"could not reach the running Hearth at {name}: {sock.errorString()}")
    sock.write(protocol.encode(message))
    sock.waitForBytesWritten(CONNECT_MS)
    while not sock.canReadLine():
        if not sock.waitForReadyRead(ANSWER_MS):
            raise HearthError(f"the running Hearth (socket {name}) took the request but did not answer; "
                              f"it may be stuck: see its log in the log folder")
    answer = protocol.decode(bytes(sock.readLine()))
    sock.disconnectFromServer()
    return answer


def forward_or_claim(message: dict) -> dict | protocol.ServerLock:
    """Hand `message` to the running instance and return its answer; or, when none runs, take
    the server lock and return it: the caller then becomes the instance (InstanceServer)."""
    lock = protocol.ServerLock()
    waited_since = time.monotonic()
    while True:
        answer = send(message)
        if answer is not None:
            return answer
        if lock.try_acquire():
            return lock
        # Someone holds the lock but does not listen yet: another launch is starting up.
        if time.monotonic() - waited_since > STARTUP_WAIT_S:
            raise HearthError(f"another Hearth for this data folder is running or starting but does not answer on "
                              f"{protocol.socket_name()}; close it (or end its process) and try again")
        time.sleep(0.2)


class InstanceServer(QObject):
    """Listens for later launches; what they ask for comes out as signals the app connects."""

    dropped = Signal(object)  # a core Drop: the files of `hearth FILE…`, to take like a drop onto the window
    quick_requested = Signal(str, str)  # action name, its option (see app.core.instance.quick_request; '' for none)

    def __init__(self, lock: protocol.ServerLock, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = lock
        self.name = protocol.socket_name()
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self._accept)

    def listen(self) -> None:
        # We hold the server lock, so a socket file already there is a killed instance's: replace it.
        if os.path.exists(self.name):
            log.warning("replacing the stale single-instance socket %s", self.name)
        QLocalServer.removeServer(self.name)
        if not self._server.listen(self.name):
            raise HearthError(f"cannot listen on {self.name}: {self._server.errorString()}")
        if sys.platform != "win32":  # only this user may hand files to this Hearth
            os.chmod(self._server.fullServerName(), 0o700)
        log.info("listening for later launches on %s", self.name)

    def close(self) -> None:
        self._server.close()
        self._lock.release()

    def _accept(self) -> None:
        while (sock := self._server.nextPendingConnection()) is not None:
            sock.readyRead.connect(lambda sock=sock: self._read(sock))
            sock.disconnected.connect(sock.deleteLater)
            QTimer.singleShot(CONNECT_MS * 10, sock, sock.abort)  # a client that never sends its line is dropped
            self._read(sock)

    def _read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        try:
            answer = self._handle(protocol.decode(bytes(sock.readLine())))
        except protocol.BadRequest as exc:
            log.warning("ignored a bad request on the instance socket: %s", exc)
            answer = protocol.reply(False, f"Hearth did not understand the request: {exc}")
        sock.write(protocol.encode(answer))
        sock.flush()
        sock.disconnectFromServer()

    def _handle(self, message: dict) -> dict:
        if "quick" in message:
            action, option = message["quick"], message.get("option") or ""
            log.info("a later launch asked for the quick action %s%s", action, " with its option" * bool(option))  # never the text
            self.quick_requested.emit(action, option)
            return protocol.reply(True, f"Hearth runs {ACTIONS[action].rstrip('…').lower()}")
        drop = sort_dropped(message.get("open", []))
        log.info("a later launch handed over %d documents, %d models, %d refused",
                 len(drop.documents), len(drop.models), len(drop.problems()))
        self.dropped.emit(drop)
        taken = [f"Hearth, already running, adds {len(drop.documents)} to the current collection"] * bool(drop.documents)
        taken += [f"Hearth, already running, offers to import {len(drop.models)} model(s)"] * bool(drop.models)
        if not taken and not drop.problems():
            taken = ["Hearth is already running; its window comes forward"]
        return protocol.reply(bool(taken), "\n".join([*taken, *(f"not added: {p}" for p in drop.problems())]))
