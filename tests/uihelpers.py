"""Helpers for the window tests: a window over the shared services with its first-run screen
dismissed through its button, a cloud price set in the services' settings, and a heartbeat that
measures how long the UI thread was away."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer


def open_window(qtbot, services, dismiss_first_run: bool = True):
    from app.ui.main_window import MainWindow

    window = MainWindow(services)
    # A failed test must not leave the "work is running, quit?" question waiting for a click.
    window.confirm_quit = lambda: True
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.model_state.text() == "Models ready", timeout=120_000)
    if dismiss_first_run and window.stack.currentWidget() is window.first_run:
        window.first_run.skip_button.click()
    return window


def set_cloud(services, **fields) -> None:
    """What the privacy view's cloud fields save (price_per_1k=..., base_url=...), set in memory
    (the file stays as it was)."""
    cloud = services.settings.cloud.model_copy(update=fields)
    services.settings = services.settings.model_copy(update={"cloud": cloud})


class Heartbeat:
    """A 10 ms QTimer on the UI thread; `worst` is the longest gap between two ticks."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last: float | None = None
        self.worst = 0.0
        self.ticks = 0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.worst = max(self.worst, now - self.last)
        self.last = now
        self.ticks += 1

    def __enter__(self) -> Heartbeat:
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.stop()
