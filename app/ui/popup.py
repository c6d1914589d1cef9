"""The quick action's result: a small always-on-top window near the tray icon, with the text as it
streams, then its confidence and route, and Copy, Open in Hearth and Close. A file dropped on it
runs the same action on that file."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from app.ui.library_view import button
from app.ui.tasks_view import badge_html

MARGIN = 8


def result_text(result) -> str:
    """What the popup shows and Copy copies: the label for classify, the JSON for extract."""
    if result.task == "classify":
        ranked = sorted((result.scores or {}).items(), key=lambda kv: -kv[1])
        return "\n".join([result.label or ""] + [f"  {label}: {p:.0%}" for label, p in ranked])
    if result.task == "extract":
        return json.dumps(result.data, indent=2, ensure_ascii=False)
    return result.text


class ResultPopup(QFrame):
    open_requested = Signal()  # Open in Hearth
    file_dropped = Signal(str)  # run the popup's action on this file
    dismissed = Signal()  # closed by the user (or Esc)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("quickPopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAcceptDrops(True)
        self.setAccessibleName("Quick action result")
        self.resize(420, 260)
        box = QVBoxLayout(self)
        self.heading = QLabel("")
        self.heading.setAccessibleName("Quick action")
        box.addWidget(self.heading)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAcceptDrops(False)  # a file dropped over the text is the popup's to take
        self.text.setAccessibleName("Result text")
        self.text.setPlaceholderText("Drop a file here to run the same action on it.")
        box.addWidget(self.text, 1)
        self.badge = QLabel("")
        self.badge.setAccessibleName("Confidence and route")
        box.addWidget(self.badge)
        row = QHBoxLayout()
        self.copy_button = button("Copy", "Copy the result to the clipboard", self.copy)
        self.open_button = button("Open in Hearth", "Show this in the Hearth window", self.open_requested.emit)
        self.close_button = button("Close", "Close this popup", self.dismiss)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        row.addWidget(self.open_button)
        row.addWidget(self.close_button)
        box.addLayout(row)
        self.result = None

    # -- content -------------------------------------------------------------------------
    def start(self, heading: str) -> None:
        self.result = None
        self.heading.setText(f"<b>{heading}</b>")
        self.text.clear()
        self.badge.setText("<small>working on this computer…</small>")
        self.copy_button.setEnabled(False)

    def append(self, piece: str) -> None:
        self.text.moveCursor(QTextCursor.MoveOperation.End)
        self.text.insertPlainText(piece)

    def finish(self, result) -> None:
        self.result = result
        self.text.setPlainText(result_text(result))  # the streamed pieces, or the cloud's reply, as the result holds it
        badge = badge_html(result)
        if result.escalation and result.escalation.get("status") != "sent":
            badge += f" <small>· not sent: {result.escalation.get('detail', '')}</small>"
        self.badge.setText(badge)
        self.copy_button.setEnabled(True)

    def fail(self, message: str) -> None:
        self.text.setPlainText(message)
        self.badge.setText("<small style='color:#c62828'>stopped by an error</small>")

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            self.dismiss()
        else:
            super().keyPressEvent(event)

    # -- placement -----------------------------------------------------------------------
    def show_near(self, anchor: QRect) -> None:
        """Next to the tray icon's rectangle (the screen's bottom right corner when it is unknown),
        kept inside the screen's available area."""
        screen = QGuiApplication.screenAt(anchor.center()) if anchor.isValid() else None
        area = (screen or QGuiApplication.primaryScreen()).availableGeometry()
        if anchor.isValid() and not anchor.isEmpty():
            below = anchor.bottom() + MARGIN + self.height() <= area.bottom()
            y = anchor.bottom() + MARGIN if below else anchor.top() - MARGIN - self.height()
            x = anchor.center().x() - self.width() // 2
        else:
            x, y = area.right() - self.width() - MARGIN, area.bottom() - self.height() - MARGIN
        x = min(max(x, area.left() + MARGIN), area.right() - self.width() - MARGIN)
        y = min(max(y, area.top() + MARGIN), area.bottom() - self.height() - MARGIN)
        self.move(QPoint(x, y))
        self.show()
        self.raise_()

    # -- drop a file ---------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.file_dropped.emit(str(Path(files[0])))
