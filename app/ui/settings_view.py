"""Settings: the chat model (from the catalog, or a GGUF imported by dialog, and verified), threads,
context size, the theme, and where the data lives. A change that needs the model reloaded does
it on a worker; the window keeps working meanwhile."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from app.core import paths, reload
from app.core.models import registry
from app.ui.library_view import button
from app.ui.prefs import prefs
from app.ui.theme import THEMES
from app.ui.workers import GeneratorWorker, Jobs

DEFAULT = "(the default model)"


class SettingsView(QWidget):
    status = Signal(str)
    theme_changed = Signal(str)
    reloaded = Signal(bool)  # True when the engine was swapped

    def __init__(self, services, jobs: Jobs, parent=None) -> None:
        super().__init__(parent)
        self.services, self.jobs = services, jobs
        self.worker: GeneratorWorker | None = None
        self._build()
        self.load()

    def _build(self) -> None:
        box = QVBoxLayout(self)
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
        self.model_status = QLabel("")
        self.model_status.setWordWrap(True)
        self.model_status.setAccessibleName("Model status")
        form.addRow("", self.model_status)
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
        form.addRow("GPU layers", self.gpu_layers)
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

    def load(self) -> None:
        s = self.services.settings
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
