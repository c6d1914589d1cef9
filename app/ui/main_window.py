"""The main window: documents on the left (drop files anywhere), ask on the right, the answer
streaming in as it is generated, and the citations under it."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.documents import supported_suffixes
from app.core.ingest import ingest_iter
from app.core.services import DEFAULT_COLLECTION, Services
from app.core.routing.router import run
from app.ui.consent import ConsentDialog
from app.ui.workers import FolderWatcher, GeneratorWorker


def _where(citation) -> str:
    return f"p. {citation.page}" if citation.page else f"lines {citation.line_start}–{citation.line_end}"


class MainWindow(QMainWindow):
    answer_finished = Signal(object)  # TaskResult; tests and the tray wait on it
    consent_requested = Signal(object, object)  # (Preview, reply dict): from a worker, answered on the UI thread

    def __init__(self, services: Services, collection: str = DEFAULT_COLLECTION) -> None:
        super().__init__()
        self.services = services
        self.collection = collection
        self._workers: set[GeneratorWorker] = set()
        self._ask_worker: GeneratorWorker | None = None
        self.consent_dialog: ConsentDialog | None = None  # open while the user decides
        self.setWindowTitle("Hearth")
        self.consent_requested.connect(self._ask_consent)  # queued: the dialog runs on this thread
        self.setAcceptDrops(True)
        self.resize(1100, 700)
        self._build()
        self.refresh_documents()
        self.watcher: FolderWatcher | None = None
        self.restart_watcher()
        if services.settings.warning:
            self.statusBar().showMessage(services.settings.warning)

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.addWidget(QLabel("<b>Documents</b>"))
        self.documents = QListWidget()
        self.documents.setObjectName("documents")
        left_box.addWidget(self.documents)
        self.add_button = QPushButton("Add files…")
        self.add_button.clicked.connect(self._choose_files)
        self.follow_button = QPushButton("Follow a folder…")
        self.follow_button.setToolTip("New, changed and deleted files in the folder are picked up while Hearth runs")
        self.follow_button.clicked.connect(self._choose_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.follow_button)
        left_box.addLayout(buttons)
        self.ingest_progress = QProgressBar()
        self.ingest_progress.setVisible(False)
        left_box.addWidget(self.ingest_progress)
        hint = QLabel("Drop files or folders anywhere on this window: PDF, Word, text, Markdown, HTML, CSV, JSON, logs and code.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        left_box.addWidget(hint)

        right = QWidget()
        right_box = QVBoxLayout(right)
        ask_row = QHBoxLayout()
        self.question = QLineEdit()
        self.question.setObjectName("question")
        self.question.setPlaceholderText("Ask a question about your documents…")
        self.question.returnPressed.connect(self.ask)
        self.ask_button = QPushButton("Ask")
        self.ask_button.clicked.connect(self.ask)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(self.ask_button)
        ask_row.addWidget(self.stop_button)
        right_box.addLayout(ask_row)
        self.answer = QTextBrowser()
        self.answer.setObjectName("answer")
        self.answer.setPlaceholderText("The answer appears here as it is written, with its sources below.")
        right_box.addWidget(self.answer, 3)
        self.confidence = QLabel("")
        right_box.addWidget(self.confidence)
        right_box.addWidget(QLabel("<b>Sources</b>"))
        self.citations = QListWidget()
        self.citations.setObjectName("citations")
        self.citations.setWordWrap(True)
        right_box.addWidget(self.citations, 2)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([320, 780])
        self.setCentralWidget(splitter)
        self.statusBar().showMessage("Ready. Everything stays on this computer.")

    # -- background jobs -----------------------------------------------------------------
    def _start(self, worker: GeneratorWorker) -> GeneratorWorker:
        self._workers.add(worker)
        worker.finished.connect(lambda w=worker: self._workers.discard(w))
        worker.errored.connect(self._show_error)
        worker.start()
        return worker

    def _show_error(self, message: str) -> None:
        self.statusBar().showMessage(f"Error: {message}")
        self._set_asking(False)

    # -- documents -----------------------------------------------------------------------
    def refresh_documents(self) -> None:
        self.documents.clear()
        for record in self.services.library.documents(self.collection):
            item = QListWidgetItem(record.name if record.status == "indexed" else f"{record.name} — {record.status}")
            detail = f"{record.pages} pages, {record.chunks} chunks" if record.status == "indexed" else record.error or record.status
            item.setToolTip(f"{record.path}\n{detail}")
            self.documents.addItem(item)

    def _choose_files(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in supported_suffixes())
        files, _ = QFileDialog.getOpenFileNames(self, "Add documents", str(Path.home()), f"Documents ({patterns})")
        if files:
            self.ingest_files(files)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Follow a folder", str(Path.home()))
        if folder:
            self.follow_folder(Path(folder))

    def follow_folder(self, folder: Path) -> None:
        self.services.library.follow_folder(self.collection, folder)
        self.statusBar().showMessage(f"Following {folder}")
        self.restart_watcher()

    def restart_watcher(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = FolderWatcher(self.services)
        self.watcher.changed.connect(lambda _name: self.refresh_documents())
        self.watcher.start()

    def ingest_files(self, files: list[str]) -> GeneratorWorker:
        paths = [Path(f) for f in files]
        self.ingest_progress.setRange(0, 0)
        self.ingest_progress.setVisible(True)

        worker = GeneratorWorker(lambda _cancel: ingest_iter(self.services, paths, self.collection))
        worker.yielded.connect(self._on_ingest_progress)
        worker.finished_with.connect(self._on_ingest_done)
        return self._start(worker)

    def _on_ingest_progress(self, progress) -> None:
        self.ingest_progress.setRange(0, progress.total)
        self.ingest_progress.setValue(progress.done)
        if progress.outcome is None:
            self.statusBar().showMessage(f"Reading {Path(progress.file).name}…")

    def _on_ingest_done(self, report) -> None:
        self.ingest_progress.setVisible(False)
        data = report.as_json()
        failed = [f for f in report.files if f.status not in ("indexed", "unchanged")]
        message = f"{data['indexed']} indexed, {data['unchanged']} unchanged, {data['errors']} failed"
        self.statusBar().showMessage(message)
        self.refresh_documents()
        if failed:
            QMessageBox.warning(self, "Some files were not added", "\n".join(f"{Path(f.path).name}: {f.error}" for f in failed))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.ingest_files(files)

    # -- asking --------------------------------------------------------------------------
    def _set_asking(self, asking: bool) -> None:
        self.ask_button.setEnabled(not asking)
        self.stop_button.setEnabled(asking)

    def ask(self) -> GeneratorWorker | None:
        question = self.question.text().strip()
        if not question or self._ask_worker is not None:
            return None
        self.answer.clear()
        self.citations.clear()
        self.confidence.setText("")
        self._set_asking(True)
        self.statusBar().showMessage("Thinking… (the first question loads the model)")
        inputs = {"question": question, "collection": self.collection}
        worker = GeneratorWorker(lambda cancel: run(self.services, "ask", inputs, consent=self._consent_from_worker, cancel=cancel))
        worker.yielded.connect(self._on_token)
        worker.finished_with.connect(self._on_answer)
        worker.cancelled.connect(lambda: self.statusBar().showMessage("Stopped."))
        worker.finished.connect(self._ask_done)
        self._ask_worker = worker
        return self._start(worker)

    def _consent_from_worker(self, preview) -> bool:
        """Runs on the ask worker: wait for the user, but give up (send nothing) if the ask is stopped."""
        worker, reply = self._ask_worker, {"done": threading.Event(), "send": False}
        self.consent_requested.emit(preview, reply)
        while not reply["done"].wait(0.1):
            if worker is None or worker.cancel_event.is_set():
                return False
        return reply["send"]

    def _ask_consent(self, preview, reply: dict) -> None:
        dialog = self.consent_dialog = ConsentDialog(preview, self)

        def decided(code: int) -> None:
            reply["send"] = code == ConsentDialog.DialogCode.Accepted
            self.consent_dialog = None
            reply["done"].set()
            dialog.deleteLater()

        dialog.finished.connect(decided)
        dialog.open()  # window-modal without a nested event loop: the window keeps painting

    def stop(self) -> None:
        if self._ask_worker is not None:
            self._ask_worker.cancel()

    def _ask_done(self) -> None:
        self._ask_worker = None
        self._set_asking(False)

    def _on_token(self, text: str) -> None:
        cursor = self.answer.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)
        self.answer.setTextCursor(cursor)

    def _on_answer(self, result) -> None:
        for n, c in enumerate(result.citations, start=1):
            item = QListWidgetItem(f"[{n}] {c.file}, {_where(c)} — “{c.quote}”")
            item.setToolTip(f"{c.path}\nsimilarity {c.score:.2f}")
            self.citations.addItem(item)
        escalation = result.escalation or {}
        if result.route == "cloud":
            self.answer.setPlainText(result.text)  # the local draft streamed first; the cloud's answer replaces it
            self.confidence.setText(f"Local confidence {result.confidence:.0%} · answered by the cloud model, "
                                    f"sent redacted (ledger #{escalation.get('ledger_id')})")
        else:
            self.confidence.setText(f"Confidence {result.confidence:.0%} · answered on this computer")
        note = f"; cloud {escalation['status']}: {escalation['detail']}" if escalation.get("status") in ("declined", "failed") else ""
        self.statusBar().showMessage(f"Answered in {result.timings.get('total_s', 0):.1f}s{note}")
        self.answer_finished.emit(result)

    # -- shutdown ------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.watcher is not None:
            self.watcher.stop()
        for worker in list(self._workers):
            worker.cancel()
            worker.wait()
        super().closeEvent(event)

