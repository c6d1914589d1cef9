"""The quick-action palette the global shortcut opens: the clipboard's first lines, a filter box
and every quick action with its options. Enter runs the chosen one; for Ask, the text typed in
the box is the question."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from app.core.quick import ACTIONS, choices, title

PREVIEW_CHARS = 160


def entries() -> list[tuple[str, str | None, str]]:
    """(action, option, label) for every line of the palette, options spelled out."""
    rows: list[tuple[str, str | None, str]] = []
    for name in ACTIONS:
        if name == "summarize-file":
            continue  # a file chooser is the tray's; the palette works on the clipboard
        options = choices(name)
        rows += [(name, option, title(name, option)) for option in options] if options else [(name, None, ACTIONS[name])]
    return rows


class Palette(QFrame):
    chosen = Signal(str, object)  # (action name, option or None)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("quickPalette")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Quick actions on the clipboard")
        self.resize(520, 360)
        box = QVBoxLayout(self)
        box.addWidget(QLabel("<b>Hearth quick actions</b> on the clipboard"))
        self.preview = QLabel("")
        self.preview.setWordWrap(True)
        self.preview.setAccessibleName("Clipboard text")
        box.addWidget(self.preview)
        self.filter = QLineEdit()
        self.filter.setAccessibleName("Filter the actions, or type the question for Ask")
        self.filter.setPlaceholderText("Type to filter, or type a question and choose Ask…")
        self.filter.textChanged.connect(self._refilter)
        self.filter.returnPressed.connect(self.run_current)
        box.addWidget(self.filter)
        self.list = QListWidget()
        self.list.setAccessibleName("Quick actions")
        self.list.itemActivated.connect(lambda _item: self.run_current())
        box.addWidget(self.list, 1)
        for name, option, label in entries():
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, (name, option))
            self.list.addItem(item)
        self.filter.installEventFilter(self)

    def open_over(self, clipboard_text: str) -> None:
        """Show centred on the screen under the pointer, focused on the filter box."""
        text = " ".join(clipboard_text.split())
        self.preview.setText(f"<i>{text[:PREVIEW_CHARS]}{'…' if len(text) > PREVIEW_CHARS else ''}</i>" if text
                             else "<i>The clipboard holds no text.</i>")
        self.filter.clear()
        self.list.setCurrentRow(0)
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        self.move(area.center().x() - self.width() // 2, area.top() + area.height() // 4)
        self.show()
        self.raise_()
        self.activateWindow()
        self.filter.setFocus()

    def _refilter(self, typed: str) -> None:
        words = typed.lower().split()
        first = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            name, _option = item.data(Qt.ItemDataRole.UserRole)
            # Ask stays in view whatever is typed: the typed text is its question.
            hidden = bool(words) and name != "ask-clipboard" and not all(w in item.text().lower() for w in words)
            item.setHidden(hidden)
            if not hidden and first is None and name != "ask-clipboard":
                first = row
        ask = next(r for r in range(self.list.count()) if self.list.item(r).data(Qt.ItemDataRole.UserRole)[0] == "ask-clipboard")
        self.list.setCurrentRow(first if first is not None else ask)

    def run_current(self) -> None:
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return
        name, option = item.data(Qt.ItemDataRole.UserRole)
        if name == "ask-clipboard":
            option = self.filter.text().strip()
            if not option:
                self.filter.setPlaceholderText("Type your question about the clipboard, then press Enter")
                return
        self.hide()
        self.chosen.emit(name, option)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        """Up and Down in the filter box move through the list; Esc closes."""
        if watched is self.filter and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                step = -1 if key == Qt.Key.Key_Up else 1
                row = self.list.currentRow() + step
                while 0 <= row < self.list.count() and self.list.item(row).isHidden():
                    row += step
                if 0 <= row < self.list.count():
                    self.list.setCurrentRow(row)
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(watched, event)
