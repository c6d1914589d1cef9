"""Start the Qt application around the shared services."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.core.drops import sort_dropped
from app.core.instance import ServerLock
from app.core.resources import resource_path
from app.core.services import Services

log = logging.getLogger(__name__)


def run(lock: ServerLock, files: list[str] | None = None, quick: tuple[str, str] | None = None) -> int:
    """`lock` is the single-instance server lock app.cli took; `quick` an (action, option) to run
    at once, as `hearth quick ACTION` asks when no Hearth was running: then Hearth starts in the
    tray, with its window shown only where there is no tray to come back from."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Hearth")
    app.setWindowIcon(QIcon(str(resource_path("icons", "hearth.svg"))))
    from app.ui.instance import InstanceServer
    from app.ui.main_window import MainWindow

    server = InstanceServer(lock)
    server.listen()  # before the store opens: a launch racing this one hands its files over instead
    services = Services()
    window = MainWindow(services)
    server.dropped.connect(window.take_handover)
    from app.ui.tray import Tray

    tray = window.tray = Tray(services, window)  # closing the window then hides it, when a tray shows the icon
    app.setQuitOnLastWindowClosed(not tray.available)
    app.aboutToQuit.connect(tray.shutdown)
    server.quick_requested.connect(lambda action, option: tray.run_quick(action, option or None))
    # What ran, never the text: a later launch's `hearth quick` shows up in this log.
    tray.result_shown.connect(lambda r: log.info("quick action done: %s, %s, confidence %.2f", r.task, r.route, r.confidence))
    if quick is None or not tray.available:
        window.show()
    if quick is not None:
        QTimer.singleShot(0, lambda: server.quick_requested.emit(*quick))
    if files:
        window.take_drop(sort_dropped(files))
    try:
        return app.exec()
    finally:
        services.close()
        server.close()
