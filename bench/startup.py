"""How fast the window feels: time to the first shown window (a first launch on a new data folder,
then a repeat launch), RSS idle / with the models loaded / during an ingest, and the time from
Enter to the first streamed text of an answer with warm models, through the real widgets.

Each launch is a fresh process (`--child`), timed from just before it was started to the first
paint of the window. Baselines in the same run: a bare QMainWindow in a fresh process (Qt's own
floor), and the core's ask() called directly (no window) for the first-text figure.

    scripts/test-session.sh --exec .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EVAL_DOCS = REPO / "tests" / "data" / "eval" / "docs"
QUESTIONS = ["How many paid vacation days do full-time staff get?", "How much is the home-office allowance?",
             "Which day must employees be in the office?", "How long do I have to submit an expense claim?",
             "What is the daily meal allowance when travelling?", "How much is the monthly rent for the apartment?"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the child: one launch ------------------------------------------------------------------------
def child(mode: str, started: float, out: Path) -> None:
    import faulthandler

    faulthandler.dump_traceback_later(420, exit=True)  # a stuck run says where, instead of hanging the bench
    from PySide6.QtCore import QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([])
    figures: dict = {}

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == event.Type.Paint and "shown_s" not in figures:
                figures["shown_s"] = time.time() - started
                figures["rss_idle_mb"] = rss_mb()
                QTimer.singleShot(0, after_shown)
            return False

    if mode == "bare":
        window = QMainWindow()
        window.resize(1180, 760)
    else:
        from app.core.services import Services
        from app.ui.main_window import MainWindow

        services = Services()
        window = MainWindow(services, load_models=False)
    watcher = FirstPaint()
    window.installEventFilter(watcher)
    window.show()

    def after_shown() -> None:
        if mode != "full":
            app.quit()
            return
        if window.stack.currentWidget() is window.first_run:
            window.first_run.skip_button.click()
        window.models_ready.connect(lambda: QTimer.singleShot(100, models_loaded))
        window.load_models()

    def models_loaded() -> None:
        print("bench: models loaded, ingesting", file=sys.stderr, flush=True)
        figures["rss_models_mb"] = rss_mb()
        figures["models_loaded_s"] = time.time() - started
        peak = [rss_mb()]
        sampler = QTimer()
        sampler.timeout.connect(lambda: peak.__setitem__(0, max(peak[0], rss_mb())))
        sampler.start(50)
        corpus = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
        for n in range(20):
            (corpus / f"note-{n}.txt").write_text(" ".join(f"line {n} about the harbour lamp {k}." for k in range(200)))
        # The corpus measures RSS during an ingest; the questions go to the eval documents alone.
        window.library.ingest_files([str(p) for p in EVAL_DOCS.iterdir() if p.is_file()], collection="eval")
        worker = window.library.ingest_files([str(corpus)])

        def ingested(_report) -> None:
            print("bench: ingest done, asking", file=sys.stderr, flush=True)
            sampler.stop()
            figures["rss_ingest_peak_mb"] = peak[0]
            ask_all()

        batches = []
        window.library.ingest_finished.connect(lambda report: batches.append(report) or (len(batches) == 2 and ingested(report)))
        assert worker is None  # queued behind the first batch

    def ask_all() -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        chat = window.chat
        window.show_view(1)
        chat.refresh_collections()
        times: list[float] = []
        pending = list(QUESTIONS)
        state: dict = {}

        def first_text() -> None:
            if "t0" in state and "seen" not in state and chat.answer.toPlainText():
                state["seen"] = True
                times.append(time.perf_counter() - state["t0"])

        chat.answer.textChanged.connect(first_text)
        window.statusBar().messageChanged.connect(lambda m: print(f"bench: status {m}", file=sys.stderr, flush=True))

        def next_question(_result=None) -> None:
            if chat.ask_worker is not None:  # the last answer's worker is still winding down
                QTimer.singleShot(20, next_question)
                return
            if not pending:
                figures["first_text_s"] = times[1:]  # the first question warms the model and caches
                app.quit()
                return
            state.clear()
            print(f"bench: asking ({len(pending)} left)", file=sys.stderr, flush=True)
            chat.question.setText(pending.pop(0))
            state["t0"] = time.perf_counter()
            QTest.keyClick(chat.question, Qt.Key.Key_Return)

        chat.answered.connect(lambda _r: QTimer.singleShot(50, next_question))
        chat.scope.setCurrentIndex(chat.scope.findData("eval"))
        next_question()

    QTimer.singleShot(600_000, app.quit)
    app.exec()
    if mode == "bare":
        window.close()
    else:
        window.close()
        services.close()
    out.write_text(json.dumps(figures))


def launch(mode: str, home: Path) -> dict:
    out = home / f"figures-{mode}.json"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HEARTH_HOME": str(home)}
    started = time.time()
    subprocess.run([sys.executable, __file__, "--child", mode, "--started", repr(started), "--out", str(out)], env=env,
                   check=True, cwd=REPO)
    return json.loads(out.read_text())


def direct_first_text(home: Path) -> list[float]:
    """Baseline: the core's ask() with warm models and no window."""
    os.environ["HEARTH_HOME"] = str(home)
    from app.core.ingest import ingest
    from app.core.services import Services
    from app.core.tasks.ask import ask

    services = Services()
    try:
        ingest(services, [p for p in EVAL_DOCS.iterdir() if p.is_file()], "default")
        times = []
        for question in QUESTIONS:
            started = time.perf_counter()
            stream = ask(services, question, "default")
            next(stream)
            times.append(time.perf_counter() - started)
            for _ in stream:
                pass
        return times[1:]
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["bare", "shell", "full"])
    parser.add_argument("--started", type=float)
    parser.add_argument("--out")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.started, Path(args.out))
        return
    root = Path(tempfile.mkdtemp(prefix="hearth-startup-"))
    bare = [launch("bare", root / "bare")["shown_s"] for _ in range(args.runs)]
    first = launch("shell", root / "fresh")["shown_s"]
    warm = [launch("shell", root / "fresh")["shown_s"] for _ in range(args.runs)]
    full = launch("full", root / "full")
    direct = direct_first_text(root / "direct")
    med = statistics.median
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (the CPU is shared)")
    print(f"window shown, first launch on a new data folder: {first:.3f} s")
    print(f"window shown, repeat launch (median of {args.runs}): {med(warm):.3f} s   [goal <= 1.5 s]")
    print(f"bare QMainWindow baseline (median of {args.runs}): {med(bare):.3f} s   ratio {med(warm) / med(bare):.2f}x")
    print(f"RSS idle {full['rss_idle_mb']:.0f} MB · with models {full['rss_models_mb']:.0f} MB · "
          f"peak during ingest {full['rss_ingest_peak_mb']:.0f} MB  (models loaded {full['models_loaded_s']:.1f} s after launch)")
    widget = full["first_text_s"]
    print(f"Enter -> first streamed text, warm, through the widgets: median {med(widget) * 1000:.0f} ms, "
          f"max {max(widget) * 1000:.0f} ms over {len(widget)} questions   [goal <= 300 ms]")
    print(f"core ask() first text without a window: median {med(direct) * 1000:.0f} ms   ratio {med(widget) / med(direct):.2f}x")


if __name__ == "__main__":
    main()
