"""Hearth in the system tray: quick actions on the clipboard and on files, without the window.

The icon shows the state (idle; working, and on what, in its tooltip; recently sent to the
cloud). Every action runs through app.core.quick, so through the same router as the window:
policy, threshold, redaction, the consent dialog (over the popup, so it shows with the window
hidden) and the ledger apply unchanged. The result streams into a popup near the icon; a
notification says when it is done if the popup was closed meanwhile. The global shortcut opens
the palette over the clipboard.

For the single-instance server: `Tray.run_quick(name, option=None)` runs an action from
app.core.quick.ACTIONS as if chosen in the menu (asking for the question or the file where the
action needs one and none is given) and returns its worker, or None when nothing was started.
"""

from __future__ import annotations

import html
import logging
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QPointF, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QSystemTrayIcon

from app.core import quick
from app.core.resources import resource_path
from app.ui.consent import ConsentBroker
from app.ui.hotkey import DEFAULT, GlobalHotkey, unsupported_reason
from app.ui.palette import Palette
from app.ui.popup import ResultPopup, result_text
from app.ui.prefs import prefs
from app.ui.tasks_view import badge_html
from app.ui.workers import GeneratorWorker

log = logging.getLogger(__name__)

RECENT = 5  # results kept in the menu
ESCALATED_MS = 10 * 60 * 1000  # how long the icon says "sent to the cloud" after it happened
BADGES = {"working": QColor("#f5a623"), "escalated": QColor("#2f80ed")}
NO_TRAY = ("No system tray is running on this desktop, so closing the window quits Hearth. "
           "Quick actions still work from the command line: `hearth quick ACTION`.")
HIDDEN_NOTICE = "Hearth keeps running in the tray. Quit from the tray menu (or File ▸ Quit)."


@dataclass
class QuickRun:
    name: str
    option: str | None
    text: str  # the clipboard text it ran on ("" for a file)
    path: str | None
    result: object = None

    @property
    def title(self) -> str:
        """'Classify clipboard (sentiment)'; run on a dropped file, the file's name for 'clipboard'."""
        if self.name == "summarize-file" or not self.path:
            return quick.title(self.name, self.option)
        return quick.title(self.name, self.option).replace("clipboard", Path(self.path).name)


def badged(base: QIcon, color: QColor | None) -> QIcon:
    """The app icon with a coloured dot in its lower right corner (none when idle)."""
    if color is None:
        return base
    pixmap = base.pixmap(64, 64)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("white"))
    painter.setBrush(color)
    painter.drawEllipse(QPointF(46, 46), 16, 16)
    painter.end()
    return QIcon(pixmap)


class Tray(QObject):
    state_changed = Signal(str)  # idle | working | escalated
    result_shown = Signal(object)  # a finished run's TaskResult, now in the popup
    notified = Signal(str, str)  # (title, message) of each notification
    announced = Signal(str)  # a one-time explanation (no tray here; hidden to the tray)

    def __init__(self, services, window) -> None:
        super().__init__(window)
        self.services, self.window = services, window
        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self.base_icon = QIcon(str(resource_path("icons", "hearth.svg")))
        self.state, self.working_on = "idle", ""
        self.current: QuickRun | None = None
        self.worker: GeneratorWorker | None = None
        self.recent: deque[QuickRun] = deque(maxlen=RECENT)
        self.question_dialog: QInputDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self.popup = ResultPopup()
        self.popup.open_requested.connect(self.open_in_hearth)
        self.popup.file_dropped.connect(self.run_on_file)
        self.palette = Palette()
        self.palette.chosen.connect(lambda name, option: self.run_quick(name, option))
        self.consent = ConsentBroker(self.popup, lambda: self.services.settings.cloud.price_per_1k)
        self._escalated = QTimer(self)
        self._escalated.setSingleShot(True)
        self._escalated.timeout.connect(self._show_state)
        self.icon = QSystemTrayIcon(self.base_icon, self)
        self.menu = self._build_menu()
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        window.jobs.changed.connect(self._show_state)
        window.chat.answered.connect(lambda result: self._note_route([result]))  # the window's escalations show on the icon too
        window.tasks.finished.connect(lambda results: self._note_route([r for _label, r in results]))
        window.settings_view.shortcut_changed.connect(self.set_shortcut)
        self.hotkey: GlobalHotkey | None = None
        self._show_state()
        if self.available:
            self.icon.show()
        else:
            self._announce(NO_TRAY)
        self.set_shortcut(str(prefs().value("quick_shortcut", DEFAULT)))

    # -- menu ------------------------------------------------------------------------------
    def _build_menu(self) -> QMenu:
        menu = QMenu()
        menu.setObjectName("trayMenu")
        self.actions: dict[str, QAction] = {}
        for name, label in quick.ACTIONS.items():
            options = quick.choices(name)
            if options:
                sub = menu.addMenu(label.rstrip("…"))
                for option in options:
                    sub.addAction(option, lambda name=name, option=option: self.run_quick(name, option))
                self.actions[name] = sub.menuAction()
            else:
                self.actions[name] = menu.addAction(label, lambda name=name: self.run_quick(name))
        menu.addSeparator()
        self.recent_menu = menu.addMenu("Recent results")
        self.recent_menu.setEnabled(False)
        menu.addSeparator()
        menu.addAction("Open Hearth", self.open_window)
        self.pause_action = menu.addAction("Pause cloud escalation")
        self.pause_action.setCheckable(True)
        self.pause_action.setChecked(self.services.settings.cloud.paused)
        self.pause_action.toggled.connect(self.set_paused)
        menu.addSeparator()
        menu.addAction("Quit", self.quit)
        return menu

    def _activated(self, reason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:  # a left click: the window, as every tray app does
            self.open_window()

    def set_paused(self, paused: bool) -> None:
        quick.set_paused(self.services, paused)
        self.pause_action.setChecked(paused)
        self._show_state()

    # -- running a quick action --------------------------------------------------------------
    def run_quick(self, name: str, option: str | None = None) -> GeneratorWorker | None:
        """Run a quick action as the menu does; the clipboard is read now. Asks for the question
        (ask-clipboard) or the file (summarize-file) when `option` does not give it."""
        if name not in quick.ACTIONS:
            self._notify("Hearth", f"Unknown quick action {name!r}")
            return None
        if name == "ask-clipboard" and not option:
            self._ask_question()
            return None
        if name == "summarize-file" and not option:
            self._choose_file()
            return None
        path = option if name == "summarize-file" else None
        text = "" if path else QGuiApplication.clipboard().text()
        return self._start(QuickRun(name, option, text, path))

    def run_on_file(self, path: str) -> GeneratorWorker | None:
        """A file dropped on the popup: the popup's action on that file instead of the clipboard."""
        last = self.current or QuickRun("summarize-file", None, "", None)
        name = last.name
        return self._start(QuickRun(name, path if name == "summarize-file" else last.option, "", path))

    def _start(self, run: QuickRun) -> GeneratorWorker | None:
        if self.worker is not None:
            self._notify("Hearth is busy", f"Still working on {self.current.title}; try again when it is done.")
            return None
        self.current = run
        self.popup.start(run.title)
        self.popup.show_near(self.icon.geometry() if self.available else QRect())

        def job(cancel):
            return quick.run_quick(self.services, run.name, run.text, run.option, cancel,
                                   consent=self.consent.for_job(cancel), path=run.path)

        worker = GeneratorWorker(job)
        worker.yielded.connect(self.popup.append)
        worker.finished_with.connect(lambda result, run=run: self._finished(run, result))
        worker.errored.connect(lambda message, run=run: self._failed(run, message))
        worker.finished.connect(self._worker_done)
        self.worker = worker
        self.working_on = run.title
        self.window.jobs.start(worker)
        return worker

    def _worker_done(self) -> None:
        self.worker = None
        self.working_on = ""
        self._show_state()

    def _finished(self, run: QuickRun, result) -> None:
        run.result = result
        self.recent.appendleft(run)
        self._refresh_recent()
        self._note_route([result])
        self.popup.finish(result)
        self.result_shown.emit(result)
        if not self.popup.isVisible():  # dismissed while it ran: say it is done
            self._notify(f"{run.title}: done", result_text(result)[:200])

    def _failed(self, run: QuickRun, message: str) -> None:
        self.popup.fail(message)
        if not self.popup.isVisible():
            self._notify(f"{run.title}: stopped", message)

    def _ask_question(self) -> None:
        dialog = self.question_dialog = QInputDialog()
        dialog.setWindowTitle("Ask about the clipboard")
        dialog.setLabelText("Your question about the text you copied:")
        dialog.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
        dialog.textValueSelected.connect(lambda q: q.strip() and self.run_quick("ask-clipboard", q))
        dialog.finished.connect(lambda _code: self._drop_dialog("question_dialog", dialog))
        dialog.open()

    def _choose_file(self) -> None:
        dialog = self.file_dialog = QFileDialog(None, "Summarize a file", str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # the same dialog on every desktop, and testable
        dialog.fileSelected.connect(lambda path: self.run_quick("summarize-file", path))
        dialog.finished.connect(lambda _code: self._drop_dialog("file_dialog", dialog))
        dialog.open()

    def _drop_dialog(self, attribute: str, dialog) -> None:
        setattr(self, attribute, None)
        dialog.deleteLater()

    # -- recent results and the window ---------------------------------------------------------
    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for run in self.recent:
            words = " ".join(result_text(run.result).split())[:48]
            self.recent_menu.addAction(f"{run.title}: {words}…", lambda run=run: self.show_run(run))
        self.recent_menu.setEnabled(bool(self.recent))

    def show_run(self, run: QuickRun) -> None:
        self.current = run
        self.popup.start(run.title)
        self.popup.finish(run.result)
        self.popup.show_near(self.icon.geometry() if self.available else QRect())

    def open_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def open_in_hearth(self) -> None:
        """The popup's run in the Tasks view: its text (or file) as input, its result as output."""
        run = self.current
        self.popup.hide()
        self.open_window()
        if run is None:
            return
        tasks = self.window.tasks
        self.window.show_view(2)
        if run.path:
            tasks.add_files([run.path])
        else:
            tasks.pasted.setPlainText(run.text)
        if run.result is not None:
            body = html.escape(result_text(run.result)).replace("\n", "<br>")
            tasks.output.setHtml(f"<h3>{html.escape(run.title)}</h3><p>{body}</p>{badge_html(run.result)}")

    # -- state, notices --------------------------------------------------------------------
    def _note_route(self, results) -> None:
        if any(r.route == "cloud" for r in results):
            self._escalated.start(ESCALATED_MS)
            self._show_state()

    def _show_state(self) -> None:
        window_busy = self.window.jobs.busy(besides=self.window.loader) and self.worker is None
        if self.worker is not None or window_busy:
            state, doing = "working", self.working_on or "a task in the window"
        elif self._escalated.isActive():
            state, doing = "escalated", ""
        else:
            state, doing = "idle", ""
        tip = {"working": f"Hearth: working on {doing}…", "escalated": "Hearth: a recent request was sent to the cloud model, redacted",
               "idle": "Hearth: idle, everything on this computer"}[state]
        if self.services.settings.cloud.paused:
            tip += " (cloud escalation paused)"
        self.icon.setToolTip(tip)
        self.icon.setIcon(badged(self.base_icon, BADGES.get(state)))
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _notify(self, title: str, message: str) -> None:
        log.info("%s: %s", title, message)
        if self.available:
            self.icon.showMessage(title, message, self.base_icon, 8000)
        self.notified.emit(title, message)

    def _announce(self, message: str) -> None:
        self.window.statusBar().showMessage(message)
        self.announced.emit(message)

    def keeps_running(self) -> bool:
        """Closing the window hides it to the tray (only when a tray shows the icon)."""
        return self.available and self.icon.isVisible()

    def window_hidden(self) -> None:
        """Said once per user, the first time the window closes to the tray."""
        p = prefs()
        if not p.value("tray_notice_shown", False, type=bool):
            p.setValue("tray_notice_shown", True)
            self._notify("Hearth is still running", HIDDEN_NOTICE)
            self.announced.emit(HIDDEN_NOTICE)

    # -- the global shortcut -------------------------------------------------------------------
    def set_shortcut(self, sequence: str) -> None:
        """Grab a new shortcut for the palette (the old one is released first)."""
        if self.hotkey is not None:
            self.hotkey.stop()
            self.hotkey = None
        prefs().setValue("quick_shortcut", sequence)
        reason = unsupported_reason()
        if reason is not None:
            self._shortcut_state(reason)
            return
        self.hotkey = GlobalHotkey(sequence, self)
        self.hotkey.activated.connect(self.open_palette)
        self.hotkey.grabbed.connect(lambda seq: self._shortcut_state(f"{seq} opens the quick actions from any application."))
        self.hotkey.failed.connect(self._shortcut_state)
        self.hotkey.start()

    def _shortcut_state(self, text: str) -> None:
        self.window.settings_view.shortcut_status.setText(text)

    def open_palette(self) -> None:
        self.palette.open_over(QGuiApplication.clipboard().text())

    # -- quitting ----------------------------------------------------------------------------
    def quit(self) -> None:
        self.window.quit_app()

    def shutdown(self) -> None:
        """At quit: release the shortcut and take the icon away."""
        if self.hotkey is not None:
            self.hotkey.stop()
            self.hotkey = None
        self.icon.hide()
        self.popup.close()
        self.palette.close()
