"""The "ask me" policy in the window: the exact redacted payload with every placeholder marked,
the provider, the estimated tokens and cost, and two buttons. Nothing is sent unless the user
presses Send; Keep local is the default button."""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QTabWidget, QTextEdit, QVBoxLayout, QWidget

from app.core.llm.cloud import estimate_tokens
from app.ui.theme import highlight_color

PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]")


def marked_payload(payload: dict) -> str:
    """The payload as HTML, each placeholder on a marker background."""
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    color = highlight_color(255).name()
    parts, at = [], 0
    for m in PLACEHOLDER.finditer(text):
        parts += [html.escape(text[at:m.start()]), f'<span style="background:{color}; color:#000">{html.escape(m.group())}</span>']
        at = m.end()
    parts.append(html.escape(text[at:]))
    return f"<pre style='font-family:monospace'>{''.join(parts)}</pre>"


class ConsentDialog(QDialog):
    def __init__(self, preview, price_per_1k: float = 0.0, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("consent")
        self.setWindowTitle("Send to the cloud model?")
        self.resize(760, 520)
        box = QVBoxLayout(self)
        body = json.dumps(preview.payload, ensure_ascii=False)
        self.tokens = estimate_tokens(body) + int(preview.payload.get("max_tokens", 0) or 0)
        self.cost = self.tokens / 1000 * price_per_1k
        redacted = ", ".join(f"{n} {kind.lower()}" for kind, n in preview.redacted.items()) or "nothing"
        summary = QLabel(
            f"The local answer is not confident enough. Hearth can ask <b>{html.escape(preview.model)}</b> at "
            f"<b>{html.escape(preview.provider)}</b> for the <b>{preview.task}</b> request below: about "
            f"<b>{self.tokens} tokens</b>, estimated cost <b>${self.cost:.4f}</b>.<br>"
            f"Replaced with placeholders before sending: {redacted}. The reply gets the values back on this computer."
        )
        summary.setWordWrap(True)
        box.addWidget(summary)
        tabs = QTabWidget()
        self.payload_view = QTextEdit()
        self.payload_view.setReadOnly(True)
        self.payload_view.setHtml(marked_payload(preview.payload))
        self.payload_view.setAccessibleName("Exact payload that would be sent, placeholders highlighted")
        tabs.addTab(self.payload_view, "Exact payload (placeholders marked)")
        self.diff_view = QPlainTextEdit(preview.diff or "nothing was redacted")
        self.diff_view.setReadOnly(True)
        self.diff_view.setAccessibleName("What redaction changed, original against sent")
        tabs.addTab(self.diff_view, "What changes (original → sent)")
        box.addWidget(tabs)
        self.buttons = QDialogButtonBox()
        self.send_button = self.buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.keep_button = self.buttons.addButton("Keep local", QDialogButtonBox.ButtonRole.RejectRole)
        self.send_button.setAccessibleName("Send the redacted request to the cloud model")
        self.keep_button.setAccessibleName("Keep the local answer and send nothing")
        self.send_button.setAutoDefault(False)  # focus on Send must not make it the Enter button
        self.keep_button.setDefault(True)  # Enter never sends by accident
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        box.addWidget(self.buttons)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.keep_button.setFocus()


class ConsentBroker(QObject):
    """Asks for consent on the UI thread on behalf of a worker, which waits for the answer
    (and gives up, sending nothing, when its job is cancelled)."""

    requested = Signal(object, object)  # (Preview, reply dict)

    def __init__(self, parent: QWidget, price_per_1k: Callable[[], float]) -> None:
        super().__init__(parent)
        self._parent = parent
        self._price = price_per_1k
        self.dialog: ConsentDialog | None = None  # open while the user decides
        self.requested.connect(self._ask)  # queued across threads: the dialog opens on the UI thread

    def for_job(self, cancelled: threading.Event) -> Callable[[object], bool]:
        def consent(preview) -> bool:
            reply = {"done": threading.Event(), "send": False}
            self.requested.emit(preview, reply)
            while not reply["done"].wait(0.1):
                if cancelled.is_set():
                    return False
            return reply["send"]

        return consent

    def _ask(self, preview, reply: dict) -> None:
        dialog = self.dialog = ConsentDialog(preview, self._price(), self._parent)

        def decided(code: int) -> None:
            reply["send"] = code == ConsentDialog.DialogCode.Accepted
            self.dialog = None
            reply["done"].set()
            dialog.deleteLater()

        dialog.finished.connect(decided)
        dialog.open()  # window-modal without a nested event loop: the window keeps painting
