"""Every background job goes through GeneratorWorker: the core streams with plain generators,
the worker turns each yield into a signal, and every exception arrives as `errored` on the
main thread instead of dying silently off it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

log = logging.getLogger(__name__)


class GeneratorWorker(QThread):
    yielded = Signal(object)
    finished_with = Signal(object)  # the generator's return value (QThread already has `finished`)
    cancelled = Signal()
    errored = Signal(str)

    def __init__(self, job: Callable[[threading.Event], Generator[Any, None, Any] | Any], parent=None) -> None:
        super().__init__(parent)
        self._job = job
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:
        try:
            result = self._job(self.cancel_event)
            if isinstance(result, Generator):
                stream = result
                try:
                    while True:
                        item = next(stream)
                        if self.cancel_event.is_set():
                            stream.close()  # GeneratorExit unwinds the job at its current step
                            self.cancelled.emit()
                            return
                        self.yielded.emit(item)
                except StopIteration as done:
                    result = done.value
            if self.cancel_event.is_set():  # the job saw the flag itself and ended early
                self.cancelled.emit()
                return
            self.finished_with.emit(result)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user
            log.exception("background job failed")
            self.errored.emit(str(exc) or type(exc).__name__)


class FolderWatcher(QThread):
    """Follows the collections' folders for as long as the window lives."""

    changed = Signal(str)

    def __init__(self, services, parent=None) -> None:
        super().__init__(parent)
        self._services = services
        self._stop = threading.Event()

    def run(self) -> None:
        from app.core.maintenance import watch

        try:
            watch(self._services, self._stop, lambda name, what: self.changed.emit(name))
        except Exception:  # noqa: BLE001 - a watcher failure must not take the window down
            log.exception("folder watching stopped")

    def stop(self) -> None:
        self._stop.set()
        self.wait()


class Jobs(QObject):
    """The window's running workers: each started here, tracked until it ends, and cancelled
    and waited for at quit (a QThread still running at exit aborts the process)."""

    errored = Signal(str)
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._running: set[GeneratorWorker] = set()

    def start(self, worker: GeneratorWorker) -> GeneratorWorker:
        self._running.add(worker)
        worker.finished.connect(lambda w=worker: self._done(w))
        worker.errored.connect(self.errored)
        worker.start()
        self.changed.emit()
        return worker

    def _done(self, worker: GeneratorWorker) -> None:
        self._running.discard(worker)
        self.changed.emit()

    def busy(self, besides: GeneratorWorker | None = None) -> bool:
        """Some job other than `besides` (say, the model loading) is running."""
        return any(w.isRunning() for w in self._running if w is not besides)

    def stop_all(self) -> None:
        for worker in list(self._running):
            worker.cancel()
        for worker in list(self._running):
            worker.wait()
