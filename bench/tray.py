"""Time from a tray click to the first streamed word of a clipboard summary, with warm models.

The click is the tray menu's "Summarize clipboard" action triggered as a click does; the clock
stops when the popup first shows a word. Baseline in the same run, on the same texts: the core's
summarize() called directly in-process (no Qt, no router, no worker thread), to its first word.
Goal: at most 1 s. Run it with a tray host for the real thing (the bench starts trayer if it is
installed), inside the test session:

    scripts/test-session.sh --exec env QT_QPA_PLATFORM=xcb .venv/bin/python bench/tray.py [--runs 6]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TEXTS = [
    "Hi Dana, the quarterly budget review moved to Thursday 14 March at 10:00 in room 4B. Please bring the revised travel "
    "figures; the board was unhappy that costs rose 12% last quarter. Thanks, Omar",
    "The release of version 2.4 is delayed by one week because the payment tests failed on the staging server. "
    "The fix is merged and the new date is Monday; support should tell the three pilot customers today.",
    "Our kitchen renovation starts on 2 June. The contractor needs the old cabinets removed by then, the water will be off "
    "for two days, and the final invoice of 8,400 euros is due within 30 days of completion.",
    "Reminder: the library closes early on Friday at 3 pm for staff training. Books due that day can be returned on Saturday "
    "without a fine, and the self-service kiosk stays open until the usual time.",
]


def first_word_direct(services, text: str) -> float:
    from app.core.tasks.summarize import summarize

    started = time.perf_counter()
    stream = summarize(services, text, "short")
    for piece in stream:
        if piece.strip():
            elapsed = time.perf_counter() - started
            stream.close()
            return elapsed
    raise RuntimeError("the summary streamed no word")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    os.environ.setdefault("HEARTH_HOME", tempfile.mkdtemp(prefix="hearth-bench-tray-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from app.core.services import Services
    from app.ui.main_window import MainWindow
    from app.ui.tray import Tray

    app = QApplication([])
    host = None
    if QGuiApplication.platformName() == "xcb" and shutil.which("trayer"):
        host = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    services = Services()
    window = MainWindow(services)
    loop = QEventLoop()
    window.models_ready.connect(loop.quit)
    loop.exec()
    deadline = time.monotonic() + 10
    while host is not None and not QSystemTrayIcon.isSystemTrayAvailable() and time.monotonic() < deadline:
        app.processEvents()
    tray = window.tray = Tray(services, window)

    def tray_click(text: str) -> float:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(text)
        app.processEvents()
        times: dict[str, float] = {}
        done = QEventLoop()

        def shown() -> None:
            if "first" not in times and tray.popup.text.toPlainText().strip():
                times["first"] = time.perf_counter()

        tray.popup.text.textChanged.connect(shown)
        tray.result_shown.connect(lambda _r: QTimer.singleShot(0, done.quit))
        times["click"] = time.perf_counter()
        tray.actions["summarize-clipboard"].trigger()
        done.exec()
        while tray.worker is not None:
            app.processEvents()
        tray.popup.text.textChanged.disconnect(shown)
        tray.result_shown.disconnect()
        return times["first"] - times["click"]

    tray_click(TEXTS[0])  # warm: the router's imports and the worker path, as after any first use
    first_word_direct(services, TEXTS[0])
    clicked, direct = [], []
    for n in range(args.runs):
        # A text of its own for each measurement: the engine reuses a prompt it has just seen,
        # which would flatter whichever side ran second.
        text = TEXTS[n % len(TEXTS)]
        clicked.append(tray_click(f"Note {n}a. {text}"))
        direct.append(first_word_direct(services, f"Note {n}b. {text}"))
    tray.shutdown()
    window.tray = None
    window.close()
    services.close()
    if host is not None:
        host.terminate()
        host.wait(10)
    med_tray, med_direct = statistics.median(clicked), statistics.median(direct)
    print(f"platform {QGuiApplication.platformName()}, tray host {'trayer' if host else 'none'}, runs {args.runs}")
    print(f"tray click -> first word in the popup: median {med_tray:.3f} s, max {max(clicked):.3f} s  (goal <= 1 s)")
    print(f"baseline summarize() in-process -> first word: median {med_direct:.3f} s, max {max(direct):.3f} s")
    print(f"ratio tray / baseline: {med_tray / med_direct:.2f}; per pair (run back to back, so under the same load): "
          f"median {statistics.median(t / d for t, d in zip(clicked, direct)):.2f}, "
          f"median difference {statistics.median(t - d for t, d in zip(clicked, direct)):+.3f} s")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
