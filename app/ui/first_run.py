"""The first screen a new user sees: what stays on the machine, in three sentences, and one
button to add a folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

WELCOME = (
    "Hearth reads your documents and answers questions about them on this computer: the files, their index "
    "and every conversation stay in your own data folder. "
    "The language model runs here too, so nothing is sent anywhere unless you turn on the cloud fallback in Privacy. "
    "If you ever do, you see the exact redacted text before it leaves, and every request is written in a ledger you can read."
)


class FirstRun(QWidget):
    add_folder = Signal(object)  # Path
    dismissed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.addStretch(1)
        title = QLabel("<h1>Welcome to Hearth</h1>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(title)
        self.text = QLabel(WELCOME)
        self.text.setWordWrap(True)
        self.text.setMaximumWidth(640)
        self.text.setAccessibleName("What stays on this computer")
        self.text.setStyleSheet("font-size: 11pt")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.text)
        row.addStretch(1)
        box.addLayout(row)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.folder_button = QPushButton("Add a folder of documents…")
        self.folder_button.setAccessibleName("Add a folder of documents")
        self.folder_button.setDefault(True)
        self.folder_button.clicked.connect(self.choose_folder)
        self.skip_button = QPushButton("Not now")
        self.skip_button.setAccessibleName("Skip and open the library")
        self.skip_button.clicked.connect(self.dismissed)
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        box.addStretch(2)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder for Hearth to follow", str(Path.home()))
        if folder:
            self.add_folder.emit(Path(folder))
