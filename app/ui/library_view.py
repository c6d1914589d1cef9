"""The library: collections on the left, their documents in a sortable table, and the ingest
panel with progress per file and overall, an ETA and Cancel. Ingest is cancelled between files,
where the store is consistent: a file is either wholly indexed or not touched."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.documents import supported_suffixes
from app.core.ingest import ingest_iter
from app.core.services import DEFAULT_COLLECTION
from app.core.store.catalog import DocumentRecord
from app.ui.documents_model import RECORD_ROLE, DocumentsModel, sorted_filtered
from app.ui.dropping import dropped_items
from app.ui.workers import FolderWatcher, GeneratorWorker, Jobs


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    if seconds < 1:
        return "almost done"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"about {minutes} min {secs} s left" if minutes else f"about {secs} s left"


def button(text: str, tip: str, slot, name: str | None = None) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.setAccessibleName(name or text.rstrip("…"))
    b.clicked.connect(lambda _checked=False: slot())
    return b


def fill_with_panes(view: QWidget, left: QWidget, right: QWidget, sizes: list[int]) -> None:
    """Every main view's layout: two panes side by side that the user can resize but not collapse."""
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(right)
    splitter.setSizes(sizes)
    splitter.setChildrenCollapsible(False)
    outer = QVBoxLayout(view)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(splitter)


class IngestPanel(QWidget):
    """Overall progress with an ETA and Cancel, and one row per file of the batch."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.overall = QProgressBar()
        self.overall.setAccessibleName("Overall ingest progress")
        self.label = QLabel("")
        self.label.setAccessibleName("Ingest status and time left")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel adding documents")
        self.cancel_button.setToolTip("Stop after the file being read; files already added stay, nothing half-added remains")
        row.addWidget(self.overall, 1)
        row.addWidget(self.cancel_button)
        box.addLayout(row)
        box.addWidget(self.label)
        self.files = QStandardItemModel(0, 3, self)
        self.files.setHorizontalHeaderLabels(["File", "State", "Details"])
        self.file_view = QTableView()
        self.file_view.setModel(self.files)
        self.file_view.setAccessibleName("Progress of each file")
        self.file_view.verticalHeader().hide()
        self.file_view.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.file_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.file_view.setMaximumHeight(140)
        box.addWidget(self.file_view)
        self._rows: dict[str, int] = {}
        self._eta = _eta(None)

    def begin(self) -> None:
        self.files.removeRows(0, self.files.rowCount())
        self._rows.clear()
        self._eta = _eta(None)
        self.overall.setRange(0, 0)
        self.label.setText("Looking for files…")
        self.cancel_button.setEnabled(True)
        self.show()

    def update(self, progress) -> None:  # noqa: A003 - one call per Progress
        self.overall.setRange(0, progress.total)
        self.overall.setValue(progress.done)
        name = Path(progress.file).name
        if progress.file not in self._rows:
            self._rows[progress.file] = self.files.rowCount()
            self.files.appendRow([QStandardItem(name), QStandardItem(""), QStandardItem("")])
        row = self._rows[progress.file]
        if progress.outcome is None:
            self.files.item(row, 1).setText("reading…")
            self.label.setText(f"Reading {name} ({progress.done + 1} of {progress.total}) · {self._eta}")
            self.file_view.scrollTo(self.files.index(row, 0))
        else:
            o = progress.outcome
            self.files.item(row, 1).setText(o.status)
            self.files.item(row, 2).setText(o.error or f"{o.pages} pages, {o.chunks} chunks, {o.seconds:.1f} s")
            self._eta = _eta(progress.eta_s)
            self.label.setText(f"{progress.done} of {progress.total} files · {self._eta}")


class CollectionList(QListWidget):
    """The sidebar's collections; files dropped onto one go into that collection."""

    dropped = Signal(list, str)  # dropped items (app.ui.dropping), the collection they go into

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)

    # The item view's own handlers accept only its model's drag types: take URLs ourselves.
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)
        self.mark(self.itemAt(event.position().toPoint()) if event.isAccepted() else None)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.mark(None)
        super().dragLeaveEvent(event)

    def mark(self, target: QListWidgetItem | None) -> None:
        """Show which collection the drop would go into."""
        for row in range(self.count()):
            item = self.item(row)
            item.setData(Qt.ItemDataRole.BackgroundRole, self.palette().highlight() if item is target else None)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.mark(None)
        item = self.itemAt(event.position().toPoint()) or self.currentItem()
        if item is None or not event.mimeData().hasUrls():
            event.ignore()
            return
        event.acceptProposedAction()
        self.dropped.emit(dropped_items(event.mimeData()), item.data(Qt.ItemDataRole.UserRole))


class LibraryView(QWidget):
    documents_changed = Signal()
    ingest_finished = Signal(object)  # IngestReport, or None when cancelled
    status = Signal(str)

    def __init__(self, services, jobs: Jobs, parent=None) -> None:
        super().__init__(parent)
        self.services, self.jobs = services, jobs
        self.collection = DEFAULT_COLLECTION
        self.ingest_worker: GeneratorWorker | None = None
        self._queue: list[tuple[list[Path], str, str | None, bool]] = []
        self.watcher: FolderWatcher | None = None
        self.lib = None  # the Library, once the loader has opened it
        self.password_dialog: QInputDialog | None = None
        self._build()

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        side = QWidget()
        side_box = QVBoxLayout(side)
        side_box.addWidget(QLabel("<b>Collections</b>"))
        self.collections = CollectionList()
        self.collections.setAccessibleName("Collections")
        self.collections.setToolTip("Drop files onto a collection to add them to it")
        self.collections.currentItemChanged.connect(self._collection_picked)
        side_box.addWidget(self.collections, 1)
        grid = QHBoxLayout()
        self.new_button = button("New…", "Create a collection", self.create_collection, "New collection")
        self.rename_button = button("Rename…", "Rename the selected collection", self.rename_collection, "Rename collection")
        self.delete_button = button("Delete", "Delete the selected collection and its index (your files stay)", self.delete_collection,
                                    "Delete collection")
        for b in (self.new_button, self.rename_button, self.delete_button):
            grid.addWidget(b)
        side_box.addLayout(grid)
        self.follow_button = button("Follow a folder…", "New, changed and deleted files in the folder are picked up while Hearth runs",
                                    self.choose_follow_folder)
        side_box.addWidget(self.follow_button)
        self.folder_label = QLabel("")
        self.folder_label.setWordWrap(True)
        self.folder_label.setAccessibleName("Folder this collection follows")
        side_box.addWidget(self.folder_label)

        main = QWidget()
        box = QVBoxLayout(main)
        tools = QHBoxLayout()
        self.add_button = button("Add files…", "Add documents to this collection (Ctrl+O)", self.choose_files)
        self.add_folder_button = button("Add folder…", "Add every readable file in a folder (Ctrl+Shift+O)", self.choose_folder)
        self.remove_button = button("Remove", "Remove the selected documents from the collection (Delete)", self.remove_selected,
                                    "Remove selected documents")
        self.reindex_button = button("Re-index", "Read the selected documents again (F5)", self.reindex_selected,
                                     "Re-index selected documents")
        self.open_button = button("Open", "Open with the system viewer", self.open_selected, "Open selected document")
        self.reveal_button = button("Show in folder", "Open the folder that holds the document", self.reveal_selected,
                                    "Show selected document in its folder")
        for b in (self.add_button, self.add_folder_button, self.remove_button, self.reindex_button, self.open_button, self.reveal_button):
            tools.addWidget(b)
        tools.addStretch(1)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name")
        self.filter.setAccessibleName("Filter documents by name")
        self.filter.setClearButtonEnabled(True)
        tools.addWidget(self.filter)
        box.addLayout(tools)

        self.model = DocumentsModel(self)
        self.proxy = sorted_filtered(self.model, self)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setObjectName("documents")
        self.table.setAccessibleName("Documents in the collection")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 240)
        header.resizeSection(5, 130)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.empty = QLabel("No documents here yet.\n\nAdd files or a folder with the buttons above, or drop them anywhere on "
                            "this window: PDF, Word, text, Markdown, HTML, CSV, JSON, logs and code.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName("No documents yet")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        box.addWidget(self.stack, 1)
        self.panel = IngestPanel()
        self.panel.cancel_button.clicked.connect(self.cancel_ingest)
        self.panel.hide()
        box.addWidget(self.panel)

        fill_with_panes(self, side, main, [240, 860])
        self.setTabOrder(self.collections, self.new_button)
        self.setTabOrder(self.follow_button, self.add_button)
        self.setTabOrder(self.filter, self.table)

    # -- refresh -------------------------------------------------------------------------
    def attach(self, library) -> None:
        """The opened store, handed over by the loader. Until then the view shows nothing: asking
        Services for it would wait on the lock the loader holds while the embedder loads."""
        self.lib = library
        self.refresh()
        self.restart_watcher()

    def ready(self) -> bool:
        return self.lib is not None

    def refresh(self) -> None:
        """Re-read collections and documents from the catalog (fast SQLite reads)."""
        if not self.ready():
            return
        library = self.lib
        names = library.collections()
        if not any(c.name == DEFAULT_COLLECTION for c in names):
            library.collection(DEFAULT_COLLECTION)  # created on first use, as everywhere
            names = library.collections()
        if not any(c.name == self.collection for c in names):
            self.collection = DEFAULT_COLLECTION
        self.collections.blockSignals(True)
        self.collections.clear()
        for c in names:
            item = QListWidgetItem(f"{c.name}  ({c.documents})")
            item.setData(Qt.ItemDataRole.UserRole, c.name)
            item.setToolTip(f"follows {c.folder}" if c.folder else "not following a folder")
            self.collections.addItem(item)
            if c.name == self.collection:
                self.collections.setCurrentItem(item)
        self.collections.blockSignals(False)
        current = next(c for c in names if c.name == self.collection)
        self.folder_label.setText(f"Follows {current.folder}" if current.folder else "")
        self.model.set_records(library.documents(self.collection))
        self.stack.setCurrentWidget(self.table if self.model.rowCount() else self.empty)
        self.documents_changed.emit()

    def _collection_picked(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.collection = item.data(Qt.ItemDataRole.UserRole)
            self.refresh()

    def collection_names(self) -> list[str]:
        return [c.name for c in self.lib.collections()] if self.ready() else [DEFAULT_COLLECTION]

    def selected_records(self) -> list[DocumentRecord]:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return [self.proxy.data(index, RECORD_ROLE) for index in rows]

    def select_names(self, names: list[str]) -> None:
        """Select the documents with these names (the keyboard and tests use it)."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data() in names:
                selection.select(self.proxy.index(row, 0),
                                 QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)

    # -- collections ---------------------------------------------------------------------
    def _library_call(self, fn, *args) -> bool:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - a bad name is the user's to fix: say why
            QMessageBox.warning(self, "Hearth", str(exc))
            return False
        self.refresh()
        return True

    def create_collection(self) -> None:
        name, ok = QInputDialog.getText(self, "New collection", "Name of the new collection:")
        if ok and name.strip() and self._library_call(self.lib.create_collection, name.strip()):
            self._select_collection(name.strip())

    def rename_collection(self) -> None:
        old = self.collection
        name, ok = QInputDialog.getText(self, "Rename collection", f"New name for {old}:", text=old)
        if ok and name.strip() and name.strip() != old and self._library_call(self.lib.rename_collection, old, name.strip()):
            self._select_collection(name.strip())
            self.restart_watcher()

    def delete_collection(self) -> None:
        name = self.collection
        answer = QMessageBox.question(self, "Delete collection",
                                      f"Delete the collection {name!r} and its index? Your files are not touched.")
        if answer == QMessageBox.StandardButton.Yes and self._library_call(self.lib.delete_collection, name):
            self._select_collection(DEFAULT_COLLECTION)
            self.restart_watcher()

    def _select_collection(self, name: str) -> None:
        self.collection = name
        self.refresh()

    def choose_follow_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Follow a folder", str(Path.home()))
        if folder:
            self.follow_folder(Path(folder))

    def follow_folder(self, folder: Path, collection: str | None = None) -> None:
        self.lib.follow_folder(collection or self.collection, folder)
        self.status.emit(f"Following {folder}")
        self.refresh()
        self.restart_watcher()

    def restart_watcher(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = FolderWatcher(self.services)
        self.watcher.changed.connect(lambda _name: self.refresh())
        self.watcher.start()

    def stop_watcher(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    # -- documents -----------------------------------------------------------------------
    def choose_files(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in supported_suffixes())
        files, _ = QFileDialog.getOpenFileNames(self, "Add documents", str(Path.home()), f"Documents ({patterns})")
        if files:
            self.ingest_files(files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder", str(Path.home()))
        if folder:
            self.ingest_files([folder])

    def remove_selected(self) -> GeneratorWorker | None:
        records = self.selected_records()
        if not records:
            return None
        # The store writer may be busy with an ingest: wait for it on a worker, not here.
        worker = GeneratorWorker(lambda _cancel: [self.services.library.remove_document(r.collection, r.path) for r in records])
        worker.finished_with.connect(lambda _done: (
            self.status.emit(f"Removed {len(records)} document{'s' * (len(records) > 1)} from {self.collection}"), self.refresh()))
        return self.jobs.start(worker)

    def reindex_selected(self) -> GeneratorWorker | None:
        records = self.selected_records()
        present = [r for r in records if Path(r.path).exists()]
        missing = [r.name for r in records if r not in present]
        if missing:
            QMessageBox.warning(self, "Cannot re-index", "These files are gone (moved or deleted):\n" + "\n".join(missing))
        return self.ingest_files([r.path for r in present], forget_first=True) if present else None

    def open_selected(self) -> None:
        for r in self.selected_records():
            QDesktopServices.openUrl(QUrl.fromLocalFile(r.path))

    def reveal_selected(self) -> None:
        for folder in dict.fromkeys(str(Path(r.path).parent) for r in self.selected_records()):
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    # -- ingest --------------------------------------------------------------------------
    def ingest_files(self, files: list, collection: str | None = None, password: str | None = None,
                     forget_first: bool = False) -> GeneratorWorker | None:
        """`forget_first` re-reads files the catalog would skip as unchanged (re-index)."""
        batch = ([Path(f) for f in files], collection or self.collection, password, forget_first)
        if self.ingest_worker is not None:
            self._queue.append(batch)
            self.status.emit(f"{len(files)} more queued; they follow the current batch")
            return None
        return self._start_ingest(*batch)

    def _start_ingest(self, paths: list[Path], collection: str, password: str | None, forget_first: bool) -> GeneratorWorker:
        self.panel.begin()

        def job(_cancel):
            for path in paths if forget_first else ():
                self.services.library.remove_document(collection, str(path.resolve()))
            return ingest_iter(self.services, paths, collection, password)

        worker = GeneratorWorker(job)
        worker.yielded.connect(self.panel.update)
        worker.finished_with.connect(self._ingest_done)
        worker.cancelled.connect(self._ingest_cancelled)
        worker.errored.connect(lambda _m: self._ingest_ended(None))
        self.ingest_worker = worker
        return self.jobs.start(worker)

    def cancel_ingest(self) -> None:
        if self.ingest_worker is not None:
            self._queue.clear()
            self.ingest_worker.cancel()
            self.panel.cancel_button.setEnabled(False)
            self.panel.label.setText("Cancelling after the current file…")

    def _ingest_cancelled(self) -> None:
        self.status.emit("Adding documents was cancelled; the files already added are kept")
        self._ingest_ended(None)

    def _ingest_done(self, report) -> None:
        data = report.as_json()
        self.status.emit(f"{data['indexed']} indexed, {data['unchanged']} unchanged, {data['errors']} failed")
        failed = [f for f in report.files if f.status not in ("indexed", "unchanged", "needs password")]
        locked = [f for f in report.files if f.status == "needs password"]
        self._ingest_ended(report)
        if failed:
            QMessageBox.warning(self, "Some files were not added", "\n".join(f"{Path(f.path).name}: {f.error}" for f in failed))
        for f in locked:
            self.ask_password(Path(f.path))

    def _ingest_ended(self, report) -> None:
        self.ingest_worker = None
        self.panel.hide()
        self.refresh()
        self.ingest_finished.emit(report)
        if self._queue:
            self._start_ingest(*self._queue.pop(0))

    def ask_password(self, path: Path) -> None:
        """A non-blocking dialog per locked PDF; the file is read again with what the user types."""
        dialog = self.password_dialog = QInputDialog(self)
        dialog.setWindowTitle("Password needed")
        dialog.setLabelText(f"{path.name} is protected by a password. Type it to add the document:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        collection = self.collection

        def done(code: int) -> None:
            self.password_dialog = None
            if code == QInputDialog.DialogCode.Accepted and dialog.textValue():
                self.ingest_files([path], collection, dialog.textValue())
            dialog.deleteLater()

        dialog.finished.connect(done)
        dialog.open()
