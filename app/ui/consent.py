"""The "ask me" policy in the window: the exact redacted payload, its diff against the original,
and two buttons. Nothing is sent unless the user presses Send."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QTabWidget, QVBoxLayout


class ConsentDialog(QDialog):
    def __init__(self, preview, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("consent")
        self.setWindowTitle("Send to the cloud model?")
        self.resize(720, 480)
        box = QVBoxLayout(self)
        redacted = ", ".join(f"{n} {kind.lower()}" for kind, n in preview.redacted.items()) or "nothing"
        summary = QLabel(f"The local answer is not confident enough. Hearth can ask <b>{preview.model}</b> at "
                         f"<b>{preview.provider}</b> for the <b>{preview.task}</b> request below.<br>"
                         f"Replaced with placeholders before sending: {redacted}. The reply gets the values back on this computer.")
        summary.setWordWrap(True)
        box.addWidget(summary)
        tabs = QTabWidget()
        for title, text in (("What changes (original → sent)", preview.diff or "nothing was redacted"),
                            ("Exact payload", json.dumps(preview.payload, indent=2, ensure_ascii=False))):
            view = QPlainTextEdit(text)
            view.setReadOnly(True)
            tabs.addTab(view, title)
        box.addWidget(tabs)
        self.buttons = QDialogButtonBox()
        self.send_button = self.buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.keep_button = self.buttons.addButton("Keep the local answer", QDialogButtonBox.ButtonRole.RejectRole)
        self.keep_button.setDefault(True)  # Enter never sends by accident
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        box.addWidget(self.buttons)
