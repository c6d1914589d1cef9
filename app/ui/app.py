"""Start the Qt application around the shared services."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.core.resources import resource_path
from app.core.services import Services


def run(files: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Hearth")
    app.setWindowIcon(QIcon(str(resource_path("icons", "hearth.svg"))))
    from app.ui.main_window import MainWindow

    services = Services()
    window = MainWindow(services)
    window.show()
    if files:
        window.ingest_files(files)
    try:
        return app.exec()
    finally:
        services.close()
