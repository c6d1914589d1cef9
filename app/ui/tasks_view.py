"""Tasks: summarize, extract, classify and transform, on documents of the library, dropped or
chosen files, or pasted text. Each file is one run through the router (local first, the cloud
only as the policy says); a summary shows its map-reduce parts, extraction fills a table with
one row per file, and every result shows its confidence and route."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core import sources
from app.core.activity import Activity
from app.core.isolation import ParserProcess
from app.core.jobs import ReportingServices, summary_parts
from app.core.tasks.descriptions import parse_descriptions, parse_labels
from app.core.tasks.extract import BUILTIN, load_schema
from app.core.tasks.result import TaskError
from app.core.tasks.summarize import LENGTHS, STYLES
from app.core.tasks.transform import PRESETS
from app.ui.consent import ConsentBroker
from app.ui.dropping import dropped_items
from app.ui.extraction_model import ExtractionModel, ExtractionRow
from app.ui.library_view import LibraryView, button, fill_with_panes
from app.ui.source_viewer import Place, SourceViewer
from app.ui.workers import GeneratorWorker, Jobs

TASKS = ("summarize", "extract", "classify", "transform")
PASTED = "pasted text"


def badge_html(result) -> str:
    route = "sent to the cloud, redacted" if result.route == "cloud" else "on this computer"
    if result.route == "local:zero-shot":
        route += " · examples set aside: zero-shot was clearly better on them"
    return f"<small>confidence {result.confidence:.0%} · {route}</small>"


class FittedTable(QTableView):
    """Columns as wide as their contents; the last stretches over room to spare, but only while
    there is some: Qt's stretch alone squeezed it below its contents ('on this computer' on two
    lines), so a table too wide for its pane scrolls sideways instead."""

    def fit_columns(self) -> None:
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        self.resizeColumnsToContents()
        self._stretch_if_room()

    def _stretch_if_room(self) -> None:
        """The others keep their contents' widths, so only the last column's own is measured here."""
        header = self.horizontalHeader()
        last = header.count() - 1
        own = max(self.sizeHintForColumn(last), header.sectionSizeHint(last))
        fits = header.length() - header.sectionSize(last) + own <= self.viewport().width()
        if header.stretchLastSection() != fits:
            header.setStretchLastSection(fits)
            if not fits:
                self.resizeColumnToContents(last)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.model() is not None and self.model().rowCount():
            self._stretch_if_room()


class TasksView(QWidget):
    """Files dropped here run the current task (sorted and routed by the window: `files_dropped`);
    dropped text becomes the pasted text and runs it."""

    status = Signal(str)
    files_dropped = Signal(list)  # dropped items (app.ui.dropping)
    finished = Signal(object)  # the list of (label, TaskResult) of one run
    progress_text = Signal(str)  # each progress message as it is shown

    def __init__(self, services, jobs: Jobs, consent: ConsentBroker, library: LibraryView, parent=None) -> None:
        super().__init__(parent)
        self.services, self.jobs, self.consent, self.library = services, jobs, consent, library
        self.worker: GeneratorWorker | None = None
        self.results: list = []
        self._descriptions: dict[str, list[str]] = {}  # the classify form's, read at the start of a run
        self.activity = Activity()
        self.viewer = SourceViewer(jobs)
        self._build()
        self.setAcceptDrops(True)

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        inputs = QWidget()
        box = QVBoxLayout(inputs)
        box.addWidget(QLabel("<b>Documents from the library</b> (tick the ones to use)"))
        self.documents = QStandardItemModel(self)
        self.document_list = QListView()
        self.document_list.setModel(self.documents)
        self.document_list.setAccessibleName("Library documents to run the task on")
        box.addWidget(self.document_list, 2)
        box.addWidget(QLabel("<b>Files</b> (drop them here, or choose)"))
        self.files = QListWidget()
        self.files.setAccessibleName("Files to run the task on")
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        box.addWidget(self.files, 1)
        row = QHBoxLayout()
        row.addWidget(button("Choose files…", "Add files to run the task on", self.choose_files, "Choose files for the task"))
        row.addWidget(button("Clear", "Remove every file from the list", self.files.clear, "Clear the task's files"))
        box.addLayout(row)
        box.addWidget(QLabel("<b>Or paste text</b> (used when no file is chosen)"))
        self.pasted = QPlainTextEdit()
        self.pasted.setAccessibleName("Text to run the task on")
        self.pasted.setPlaceholderText("Paste text here, or drop it anywhere on this panel to run the task on it…")
        self.pasted.setAcceptDrops(False)  # a drop here runs the task (dropEvent), rather than inserting file names
        box.addWidget(self.pasted, 2)

        right = QWidget()
        rbox = QVBoxLayout(right)
        self.task_tabs = QTabWidget()
        self.task_tabs.setAccessibleName("Task")
        self.task_tabs.addTab(self._summarize_form(), "Summarize")
        self.task_tabs.addTab(self._extract_form(), "Extract")
        self.task_tabs.addTab(self._classify_form(), "Classify")
        self.task_tabs.addTab(self._transform_form(), "Transform")
        self.task_tabs.setMaximumHeight(190)
        rbox.addWidget(self.task_tabs)
        run_row = QHBoxLayout()
        self.run_button = button("Run", "Run the task (Ctrl+R)", self.start, "Run the task")
        self.run_button.setShortcut("Ctrl+R")
        self.stop_button = button("Stop", "Stop the task (Esc)", self.stop, "Stop the task")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Task progress")
        self.progress.hide()
        self.progress_label = QLabel("")
        self.progress_label.setAccessibleName("Task progress in words")
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.stop_button)
        run_row.addWidget(self.progress, 1)
        rbox.addLayout(run_row)
        rbox.addWidget(self.progress_label)
        self.output = QTextBrowser()
        self.output.setAccessibleName("Task results")
        self.output.setPlaceholderText("Results appear here, each with its confidence and whether it was made on this computer.")
        self.extraction = ExtractionModel(self)
        self.table = FittedTable()
        self.table.setModel(self.extraction)
        self.table.setAccessibleName("Extracted fields, one row per file")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.clicked.connect(self.open_cell)
        self.table.setWordWrap(False)  # one line a row; a squeezed cell elides
        table_box = QWidget()
        tb = QVBoxLayout(table_box)
        tb.setContentsMargins(0, 0, 0, 0)
        tb.addWidget(self.table, 1)
        exports = QHBoxLayout()
        self.csv_button = button("Export CSV…", "Save the table as CSV", self.export_csv, "Export the table as CSV")
        self.json_button = button("Export JSON…", "Save the table as JSON", self.export_json, "Export the table as JSON")
        exports.addWidget(QLabel("Click a cell to see where its value is in the file; a tinted one is a value Hearth is unsure of."))
        exports.addStretch(1)
        exports.addWidget(self.csv_button)
        exports.addWidget(self.json_button)
        tb.addLayout(exports)
        self.results_stack = QStackedWidget()
        self.results_stack.addWidget(self.output)
        self.results_stack.addWidget(table_box)
        rbox.addWidget(self.results_stack, 1)

        fill_with_panes(self, inputs, right, [290, 890])

    def _combo(self, items, name: str) -> QComboBox:
        combo = QComboBox()
        combo.addItems(list(items))
        combo.setAccessibleName(name)
        return combo

    def _summarize_form(self) -> QWidget:
        form_widget, form = QWidget(), QFormLayout()
        self.length = self._combo(LENGTHS, "Summary length")
        self.length.setCurrentText("medium")
        self.style = self._combo(STYLES, "Summary style")
        form.addRow("Length", self.length)
        form.addRow("Style", self.style)
        form_widget.setLayout(form)
        return form_widget

    def _extract_form(self) -> QWidget:
        form_widget, form = QWidget(), QFormLayout()
        row = QHBoxLayout()
        self.schema = self._combo(BUILTIN, "Schema")
        row.addWidget(self.schema, 1)
        row.addWidget(button("JSON Schema file…", "Use your own JSON Schema", self.choose_schema, "Choose a JSON Schema file"))
        form.addRow("Schema", row)
        form.addRow(QLabel("Runs once per file: one row per file, one column per field."))
        form_widget.setLayout(form)
        return form_widget

    def _classify_form(self) -> QWidget:
        form_widget, form = QWidget(), QFormLayout()
        self.labels = QLineEdit("billing, technical, account")
        self.labels.setAccessibleName("Labels, separated by commas")
        self.examples = QLineEdit()
        self.examples.setAccessibleName("Examples file to teach by example")
        self.examples.setPlaceholderText("optional: a JSONL file of {\"text\", \"label\"} to teach by example")
        row = QHBoxLayout()
        row.addWidget(self.examples, 1)
        row.addWidget(button("Choose…", "Pick a JSONL file of examples", self.choose_examples, "Choose an examples file"))
        self.descriptions = QPlainTextEdit()
        self.descriptions.setAccessibleName("What each label means, one per line")
        self.descriptions.setPlaceholderText("optional, one per line: label: what it means\n"
                                             "billing: charges, invoices and refunds\n"
                                             "(positive, negative and neutral have built-in ones)")
        self.descriptions.setToolTip("Zero-shot classification compares the text with each label's name and descriptions; "
                                     "several lines for one label are averaged. Not used once a classifier is taught by example.")
        self.descriptions.setFixedHeight(self.descriptions.fontMetrics().lineSpacing() * 4 + 12)
        form.addRow("Labels", self.labels)
        form.addRow("Descriptions", self.descriptions)
        form.addRow("Examples", row)
        form_widget.setLayout(form)
        return form_widget

    def _transform_form(self) -> QWidget:
        form_widget, form = QWidget(), QFormLayout()
        self.preset = self._combo(PRESETS, "Transform preset")
        self.instruction = QLineEdit()
        self.instruction.setAccessibleName("Your own instruction")
        self.instruction.setPlaceholderText("optional: your own instruction instead of the preset")
        self.language = QLineEdit("English")
        self.language.setAccessibleName("Language to translate into")
        form.addRow("Preset", self.preset)
        form.addRow("Instruction", self.instruction)
        form.addRow("Language", self.language)
        form_widget.setLayout(form)
        return form_widget

    # -- inputs --------------------------------------------------------------------------
    def refresh_documents(self) -> None:
        checked = set(self.checked_documents())
        self.documents.clear()
        for record in self.library.model.records() if self.library.ready() else []:  # the library's current collection
            if record.status != "indexed":
                continue
            item = QStandardItem(record.name)
            item.setData(record.path, Qt.ItemDataRole.UserRole)
            item.setCheckable(True)
            item.setCheckState(Qt.CheckState.Checked if record.path in checked else Qt.CheckState.Unchecked)
            item.setToolTip(record.path)
            self.documents.appendRow(item)

    def checked_documents(self) -> list[str]:
        return [self.documents.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.documents.rowCount())
                if self.documents.item(r).checkState() == Qt.CheckState.Checked]

    def file_paths(self) -> list[str]:
        return [self.files.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.files.count())]

    def add_files(self, files) -> None:
        known = set(self.file_paths())
        for f in files:
            if str(f) not in known:
                item = QListWidgetItem(Path(f).name)
                item.setData(Qt.ItemDataRole.UserRole, str(f))
                item.setToolTip(str(f))
                self.files.addItem(item)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() or event.mimeData().text().strip():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        mime = event.mimeData()
        event.acceptProposedAction()
        if mime.hasUrls():
            self.files_dropped.emit(dropped_items(mime))
        elif mime.text().strip():
            self.pasted.setPlainText(mime.text())
            self._start_dropped([None])

    def run_on(self, files) -> None:
        """Run the current task on these files only (they join the list too)."""
        self.add_files(files)
        self._start_dropped([str(f) for f in files])

    def _start_dropped(self, targets: list[str | None]) -> None:
        if self.start(targets) is None and self.worker is not None:
            self.status.emit("A task is running: what you dropped waits in the lists; press Run when it ends")

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Files for the task", str(Path.home()))
        self.add_files(files)

    def choose_schema(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A JSON Schema", str(Path.home()), "JSON Schema (*.json)")
        if path:
            self.schema.addItem(path)
            self.schema.setCurrentText(path)

    def choose_examples(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Examples to teach by", str(Path.home()), "JSON Lines (*.jsonl)")
        if path:
            self.examples.setText(path)

    def _sources(self) -> list[str | None]:
        paths = self.checked_documents() + self.file_paths()
        return list(dict.fromkeys(paths)) or ([None] if self.pasted.toPlainText().strip() else [])

    def task(self) -> str:
        return TASKS[self.task_tabs.currentIndex()]

    def _inputs(self, task: str, text: str) -> dict:
        if task == "summarize":
            return {"text": text, "length": self.length.currentText(), "style": self.style.currentText()}
        if task == "extract":
            return {"text": text, "schema": self._schema}
        if task == "classify":
            return {"text": text, "labels": self._label_set(), "descriptions": self._descriptions,
                    "examples": self.examples.text().strip() or None}
        return {"text": text, "preset": self.preset.currentText(), "instruction": self.instruction.text().strip() or None,
                "language": self.language.text().strip() or "English"}

    def _label_set(self) -> list[str]:
        return parse_labels(self.labels.text())

    def _read_descriptions(self) -> bool:
        """The descriptions box, checked once before a run (not once per file)."""
        try:
            descriptions = parse_descriptions(self.descriptions.toPlainText().splitlines())
        except TaskError as exc:
            QMessageBox.warning(self, "Unusable description", f"{exc}: write each line as label: what it means.")
            return False
        if unknown := [label for label in descriptions if label not in self._label_set()]:
            QMessageBox.warning(self, "Unusable description", f"Described but not among the labels: {', '.join(unknown)}.")
            return False
        self._descriptions = descriptions
        return True

    # -- running -------------------------------------------------------------------------
    def start(self, targets: list[str | None] | None = None) -> GeneratorWorker | None:
        """`targets`: files (None for the pasted text) instead of everything ticked and listed."""
        if self.worker is not None:
            return None
        task, targets = self.task(), self._sources() if targets is None else targets
        if not targets:
            QMessageBox.information(self, "Nothing to work on", "Tick library documents, add files, or paste some text first.")
            return None
        if task == "extract":
            try:
                self._schema = load_schema(self.schema.currentText())
            except Exception as exc:  # noqa: BLE001 - a bad schema file is the user's to fix
                QMessageBox.warning(self, "Unusable schema", str(exc))
                return None
            self.extraction.reset(list(self._schema["properties"]))
        if task == "classify" and not self._read_descriptions():
            return None
        self.results = []
        self.output.clear()
        self.results_stack.setCurrentIndex(1 if task == "extract" else 0)
        self.progress.setRange(0, len(targets))
        self.progress.setValue(0)
        self.progress.show()
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        pasted = self.pasted.toPlainText()
        settings = {"task": task, "inputs": lambda text: self._inputs(task, text)}
        worker = GeneratorWorker(lambda cancel: self._job(targets, pasted, settings, cancel))
        worker.yielded.connect(self._on_event)
        worker.finished.connect(self._done)
        worker.errored.connect(lambda message: self.progress_label.setText(f"Stopped by an error: {message}"))
        self.worker = worker
        return self.jobs.start(worker)

    def _job(self, targets, pasted: str, settings: dict, cancel):
        from app.core.routing.router import run  # imported on first use: retrieval's imports take seconds

        task, parser, total = settings["task"], ParserProcess(), len(targets)
        try:
            for n, path in enumerate(targets):
                label = Path(path).name if path else PASTED
                yield ("file", n, total, label)
                try:
                    source = sources.read(parser, Path(path)) if path else None
                except Exception as exc:  # noqa: BLE001 - one unreadable file is reported, the rest go on
                    yield ("failed", n, label, path, str(exc))
                    continue
                text = source.text if source else pasted
                generations = [0]
                observed = ReportingServices(self.services, lambda: generations.__setitem__(0, generations[0] + 1))
                parts = summary_parts(self.services, text, settings["inputs"](text)["length"]) if task == "summarize" else 0
                stream = run(observed, task, settings["inputs"](text), consent=self.consent.for_job(cancel), cancel=cancel)
                seen = 0
                while True:
                    try:
                        piece = next(stream)
                    except StopIteration as done:
                        result = done.value
                        break
                    if parts and generations[0] != seen:
                        seen = generations[0]
                        yield ("part", label, min(seen, parts), parts)
                    yield ("text", piece)
                yield ("result", n, label, path, source, result)
        finally:
            parser.close()

    def _on_event(self, event) -> None:
        kind = event[0]
        if kind == "file":
            _, n, total, label = event
            self.progress.setValue(n)
            self._say(f"{self.task().title()}: {label} ({n + 1} of {total})")
            if self.task() != "extract":
                self.output.append(f"<h3>{html.escape(label)}</h3>")
        elif kind == "part":
            _, label, part, parts = event
            self._say(f"Summarizing {label}: part {part} of {parts} (map), then joined in order (reduce)")
        elif kind == "failed":
            _, n, label, path, message = event
            if self.task() == "extract":
                self.extraction.add(ExtractionRow(label, path, None, {}, 0.0, "local", None, error=message))
            else:
                self.output.append(f"<p style='color:#c62828'>Could not read it: {html.escape(message)}</p>")
        elif kind == "result":
            _, n, label, path, source, result = event
            self.progress.setValue(n + 1)
            self.results.append((label, result))
            self.activity.record(result)
            self._show_result(label, path, source, result)

    def _say(self, text: str) -> None:
        self.progress_label.setText(text)
        self.progress_text.emit(text)

    def _show_result(self, label, path, source, result) -> None:
        if result.task == "extract":
            self.extraction.add(ExtractionRow(label, path, result.data, result.spans or {}, result.confidence, result.route, source,
                                              field_confidence=result.field_confidence))
            self.table.fit_columns()
            return
        if result.task == "classify":
            bars = "".join(
                # Qt's rich text ignores a div's width; a cell's width and colour it draws
                f"<tr><td>{html.escape(name)}</td><td width=204><table cellspacing=0 cellpadding=0><tr>"
                f"<td width={max(2, int(p * 200))} bgcolor='#4c8bf5'></td></tr></table></td>"
                f"<td>{p:.0%}</td></tr>" for name, p in sorted((result.scores or {}).items(), key=lambda kv: -kv[1]))
            self.output.append(f"<p><b>{html.escape(result.label or '')}</b></p><table>{bars}</table>{badge_html(result)}")
            return
        self.output.append(f"<p>{html.escape(result.text).replace(chr(10), '<br>')}</p>{badge_html(result)}")

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _done(self) -> None:
        self.worker = None
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.progress.hide()
        self.progress_label.setText(f"Done: {len(self.results)} result{'s' * (len(self.results) != 1)}")
        self.status.emit(self.progress_label.text())
        self.finished.emit(self.results)

    # -- extraction table ----------------------------------------------------------------
    def open_cell(self, index: QModelIndex) -> GeneratorWorker | None:
        found = self.extraction.span(index)
        if found is None:
            return None
        row, span = found
        anchor = row.source.anchor(span["start"])
        return self.viewer.open_place(Place(row.path, anchor.page, anchor.line, anchor.line, span["text"]))

    def _export(self, title: str, suffix: str, write) -> Path | None:
        target, _ = QFileDialog.getSaveFileName(self, title, str(Path.home() / f"extraction{suffix}"), f"*{suffix}")
        if not target:
            return None
        try:
            write(Path(target))
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"Could not write {target}: {exc.strerror or exc}")
            return None
        self.status.emit(f"Saved {target}")
        return Path(target)

    def export_csv(self) -> Path | None:
        return self._export("Export the table as CSV", ".csv", self.extraction.to_csv)

    def export_json(self) -> Path | None:
        return self._export("Export the table as JSON", ".json", self.extraction.to_json)

    def close_store(self) -> None:
        self.viewer.close()
        self.activity.close()

