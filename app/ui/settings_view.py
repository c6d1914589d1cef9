"""Settings: the chat model (from the catalog, or a GGUF imported by dialog, and verified; the one recommended for this computer), threads,
context size, the theme, and where the data lives. A change that needs the model reloaded does
it on a worker; the window keeps working meanwhile."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core import paths, reload
from app.core.models import registry
from app.ui.hotkey import DEFAULT as DEFAULT_SHORTCUT
from app.ui.library_view import button
from app.ui.prefs import prefs
from app.ui.theme import THEMES
from app.ui.workers import GeneratorWorker, Jobs

DEFAULT = "(the default model)"


class StatusLine(QLabel):
    """A word-wrapped line that takes no room until it has something to say (an empty label in a
    form still holds its row open, a gap under the field)."""

    def __init__(self, accessible_name: str) -> None:
        super().__init__("")
        self.setWordWrap(True)
        self.setAccessibleName(accessible_name)
        self.hide()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setVisible(bool(text))


class SettingsView(QWidget):
    status = Signal(str)
    theme_changed = Signal(str)
    shortcut_changed = Signal(str)  # the quick-action palette's global shortcut, as Qt's portable text
    reloaded = Signal(bool)  # True when the engine was swapped

    def __init__(self, services, jobs: Jobs, parent=None) -> None:
        super().__init__(parent)
        self.services, self.jobs = services, jobs
        self.worker: GeneratorWorker | None = None
        self._build()
        self.load()

    def _build(self) -> None:
        # The groups scroll, so the view never forces the window taller than a small screen.
        page = QWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        QVBoxLayout(self).addWidget(scroll)
        box = QVBoxLayout(page)
        model = QGroupBox("Language model")
        form = QFormLayout(model)
        row = QHBoxLayout()
        self.model = QComboBox()
        self.model.setAccessibleName("Chat model")
        self.model.setMinimumWidth(320)
        row.addWidget(self.model, 1)
        self.import_button = button("Import GGUF…", "Copy a .gguf model file in and make it selectable", self.choose_gguf,
                                    "Import a GGUF model")
        self.verify_button = button("Verify", "Check the model file against its recorded sha256", self.verify, "Verify the model")
        row.addWidget(self.import_button)
        row.addWidget(self.verify_button)
        form.addRow("Chat model", row)
        self.model_status = StatusLine("Model status")
        form.addRow("", self.model_status)
        rec = registry.recommend()  # the same rule as `hearth models recommend`: this machine's cores and memory
        self.recommendation = QLabel(rec.advice)  # model names keep their case
        self.recommendation.setWordWrap(True)
        self.recommendation.setAccessibleName("Chat model recommended for this computer")
        form.addRow("For this computer", self.recommendation)
        self.threads = QSpinBox()
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText("automatic")
        self.threads.setAccessibleName("Threads")
        form.addRow("Threads", self.threads)
        self.n_ctx = QSpinBox()
        self.n_ctx.setRange(256, 32768)
        self.n_ctx.setSingleStep(256)
        self.n_ctx.setSuffix(" tokens")
        self.n_ctx.setAccessibleName("Context size")
        form.addRow("Context size", self.n_ctx)
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(-1, 999)
        self.gpu_layers.setSpecialValueText("all")
        self.gpu_layers.setAccessibleName("GPU layers")
        self.gpu_layers.setToolTip("Layers of the model offloaded to the GPU: all, none (0, CPU only) or the first N when the GPU's "
                                   "memory holds only part of the model. Used only when llama.cpp was built with a GPU backend; "
                                   "`hearth doctor` says whether it was.")
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu_layers, 1)
        self.gpu_note = QLabel("")  # said once the view is first shown: asking llama.cpp imports it
        self.gpu_note.setAccessibleName("Whether the GPU is used")
        self.gpu_note.hide()
        gpu_row.addWidget(self.gpu_note)
        form.addRow("GPU layers", gpu_row)
        self._gpu_checked = False
        self.apply_button = button("Apply", "Save; the model reloads in the background if needed", self.apply, "Apply model settings")
        form.addRow("", self.apply_button)
        box.addWidget(model)

        look = QGroupBox("Look")
        lform = QFormLayout(look)
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setAccessibleName("Theme")
        self.theme.currentTextChanged.connect(self.theme_changed)
        lform.addRow("Theme", self.theme)
        box.addWidget(look)

        quick = QGroupBox("Quick actions")
        qform = QFormLayout(quick)
        row = QHBoxLayout()
        self.shortcut = QKeySequenceEdit(QKeySequence(str(prefs().value("quick_shortcut", DEFAULT_SHORTCUT))))
        self.shortcut.setMaximumSequenceLength(1)
        self.shortcut.setAccessibleName("Global shortcut for the quick actions")
        row.addWidget(self.shortcut, 1)
        self.shortcut_button = button("Use this shortcut", "Grab this key combination for the quick-action palette",
                                      self._use_shortcut, "Use this global shortcut")
        row.addWidget(self.shortcut_button)
        qform.addRow("Palette shortcut", row)
        self.shortcut_status = StatusLine("Global shortcut status")  # the tray says whether the grab worked, or why not (Wayland)
        qform.addRow("", self.shortcut_status)
        box.addWidget(quick)

        box.addWidget(self._store_box())

        data = QGroupBox("Where your data lives")
        dform = QFormLayout(data)
        self.data_dir = QLabel(str(paths.data_dir()))
        self.data_dir.setAccessibleName("Data folder")
        self.data_dir.setWordWrap(True)
        self.config_dir = QLabel(str(paths.config_dir()))
        self.config_dir.setAccessibleName("Settings folder")
        dform.addRow("Documents index, conversations, ledger", self.data_dir)
        dform.addRow("Settings", self.config_dir)
        dform.addRow("", button("Open the data folder", "Show the data folder in the file manager", self.open_data_dir))
        dform.addRow("", QLabel("To keep everything somewhere else, start Hearth with HEARTH_HOME set to that folder."))
        box.addWidget(data)
        box.addStretch(1)

    def _store_box(self) -> QGroupBox:
        """Embedded, or a team's Chroma server (its token only ever goes to the keyring)."""
        store = QGroupBox("Document store")
        form = QFormLayout(store)
        self.store_kind = QComboBox()
        self.store_kind.addItem("Embedded in the data folder", "embedded")
        self.store_kind.addItem("A team's Chroma server", "server")
        self.store_kind.setAccessibleName("Document store")
        self.store_kind.currentIndexChanged.connect(lambda _i: self.store_url.setEnabled(self.store_kind.currentData() == "server"))
        form.addRow("Store", self.store_kind)
        self.store_url = QLineEdit()
        self.store_url.setPlaceholderText("http://HOST:8000 (a `chroma run` server)")
        self.store_url.setAccessibleName("Store server URL")
        form.addRow("Server URL", self.store_url)
        self.store_token = QLineEdit()
        self.store_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.store_token.setPlaceholderText("only if the server wants one; stored in the OS keyring")
        self.store_token.setAccessibleName("Store server token")
        form.addRow("Token", self.store_token)
        row = QHBoxLayout()
        row.addWidget(button("Use this store", "Check the server answers, then save; the store opens there at the next start",
                             self.use_store, "Use this document store"))
        row.addWidget(button("Check", "Ask the store whether it answers and how many documents it holds", self.check_store,
                             "Check the document store"))
        form.addRow("", row)
        self.store_status = QLabel("")
        self.store_status.setWordWrap(True)
        self.store_status.setAccessibleName("Document store status")
        form.addRow("", self.store_status)
        return store

    def _store_job(self, job, busy: str) -> GeneratorWorker:
        self.store_status.setText(busy)
        worker = GeneratorWorker(job)
        worker.finished_with.connect(self.store_status.setText)
        worker.errored.connect(self.store_status.setText)
        return self.jobs.start(worker)

    def use_store(self) -> GeneratorWorker:
        from app.core.store import server

        url = self.store_url.text().strip() if self.store_kind.currentData() == "server" else ""
        token = self.store_token.text().strip() or None
        self.store_token.clear()

        def job(_cancel) -> str:
            self.services.settings.store = server.use(url, token)  # so a later save elsewhere keeps it
            where = server.summary(server.status(url))
            return f"Saved: {where}. Hearth opens this store at its next start."

        return self._store_job(job, "Checking the store…")

    def check_store(self) -> GeneratorWorker:
        from app.core.store import server

        url = self.services.settings.store.server_url
        return self._store_job(lambda _cancel: server.summary(server.status(url)), "Checking the store…")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._gpu_checked:
            self._gpu_checked = True
            self.say_whether_the_gpu_is_used()

    def say_whether_the_gpu_is_used(self) -> None:
        """GPU layers mean nothing to a llama.cpp built without a GPU backend (the default build):
        say so beside the field rather than let 'all' suggest the GPU works."""
        from app.core.llm.cpu import installed_library

        try:
            offload = installed_library().gpu_offload
        except Exception:  # noqa: BLE001 - a broken library is `hearth doctor`'s to explain; the field stays as it was
            return
        self.gpu_layers.setEnabled(offload)
        self.gpu_note.setVisible(not offload)
        self.gpu_note.setText("" if offload else "CPU only: this llama.cpp build has no GPU backend")
        self.gpu_note.setToolTip("" if offload else "The README's GPU section says how to build llama.cpp with one; "
                                 "`hearth doctor` says which build is installed.")

    def load(self) -> None:
        s = self.services.settings
        self.store_kind.setCurrentIndex(1 if s.store.server_url else 0)
        self.store_url.setText(s.store.server_url)
        self.store_url.setEnabled(bool(s.store.server_url))
        self.store_status.setText(f"The Chroma server at {s.store.server_url} (Check asks it)" if s.store.server_url
                                  else "Embedded in the data folder")
        self.model.clear()
        self.model.addItem(DEFAULT, "")
        for entry in registry.all_models():
            if entry.role == "chat":
                self.model.addItem(f"{entry.name}{' (imported)' if entry.imported else ''}", entry.name)
        self.model.setCurrentIndex(max(0, self.model.findData(s.chat_model)))
        self.threads.setValue(s.n_threads)
        self.n_ctx.setValue(s.n_ctx)
        self.gpu_layers.setValue(s.n_gpu_layers)
        self.theme.blockSignals(True)
        self.theme.setCurrentText(str(prefs().value("theme", "system")))
        self.theme.blockSignals(False)

    def _use_shortcut(self) -> None:
        sequence = self.shortcut.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
        if sequence:
            self.shortcut_changed.emit(sequence)

    def set_theme(self, name: str) -> None:
        self.theme.setCurrentText(name)

    def open_data_dir(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.data_dir())))

    def _run(self, job, done, busy: str) -> GeneratorWorker:
        self.model_status.setText(busy)
        worker = GeneratorWorker(job)
        worker.finished_with.connect(done)
        worker.errored.connect(lambda message: self.model_status.setText(message))
        return self.jobs.start(worker)

    def choose_gguf(self) -> GeneratorWorker | None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a GGUF model", str(Path.home()), "GGUF models (*.gguf)")
        return self.import_gguf(Path(path)) if path else None

    def import_gguf(self, path: Path) -> GeneratorWorker:
        def imported(entry) -> None:
            self.load()
            self.model.setCurrentIndex(self.model.findData(entry.name))
            self.model_status.setText(f"Imported {entry.name} (sha256 {entry.sha256[:12]}…). Press Apply to use it.")

        return self._run(lambda _c: registry.import_gguf(path), imported, f"Importing {path.name}…")

    def verify(self) -> GeneratorWorker:
        name = self.model.currentData() or None

        def verified(status) -> None:
            self.model_status.setText(f"{status.entry.name}: verified, sha256 matches ({status.path})" if status.verified
                                      else f"{status.entry.name}: {status.problem}")

        return self._run(lambda _c: registry.check(registry.find(name)), verified, "Checking the file's sha256…")

    def apply(self) -> GeneratorWorker:
        new = self.services.settings.model_copy(update={"chat_model": self.model.currentData() or "", "n_threads": self.threads.value(),
                                                        "n_ctx": self.n_ctx.value(), "n_gpu_layers": self.gpu_layers.value()})

        def applied(swapped: bool) -> None:
            self.model_status.setText("Model reloaded with the new settings" if swapped else "Saved; the model did not need reloading")
            self.status.emit(self.model_status.text())
            self.reloaded.emit(swapped)

        return self._run(lambda _c: reload.apply(self.services, new), applied,
                         "Reloading the model in the background…" if reload.needs_reload(self.services.settings, new) else "Saving…")
