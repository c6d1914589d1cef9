"""Drag and drop onto each target, with real QDragEnterEvent/QDropEvent around QMimeData URLs, sent
where a user's drop lands and passed on by Qt as it passes a real one: anywhere on the window
(into the current collection), onto a collection in the sidebar (into that one), onto the task
panel (the current task runs on the files, with the real model), dropped text, and a .gguf that is
offered for import. Unsupported and missing files are listed with the reason; the rest go on."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from uihelpers import open_window

COPY = Qt.DropAction.CopyAction


@pytest.fixture
def window(qtbot, services):
    w = open_window(qtbot, services)
    yield w
    w.close()


def urls(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([p if isinstance(p, QUrl) else QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop(widget, mime: QMimeData, pos: QPoint | None = None, hovering=lambda: None) -> QDropEvent:
    """Enter, move and drop at `pos` on `widget` as a drag from a file manager does; `hovering`
    is called between the move and the drop."""
    pos = QPointF(pos or widget.rect().center())
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, COPY, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), f"{widget} refused the drag"
    move = QDragMoveEvent(pos, COPY, mime, buttons, mods)
    move.setAccepted(True)  # Qt carries the enter's answer into each move (QWidgetWindow::handleDragMoveEvent)
    QApplication.sendEvent(widget, move)
    assert move.isAccepted()
    hovering()
    event = QDropEvent(pos, COPY, mime, buttons, mods)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()
    return event


@pytest.fixture
def mixed(tmp_path, guide_pdf):
    """Two good documents, an unsupported file, a missing one, and an address on the web."""
    note = tmp_path / "harbour-note.txt"
    note.write_text("The harbour lamp is lit at dusk by the keeper of the Brannock lighthouse.", encoding="utf-8")
    binary = tmp_path / "tool.exe"
    binary.write_bytes(b"MZ\x90\x00")
    return {"good": [guide_pdf, note], "unsupported": binary, "missing": tmp_path / "gone.pdf",
            "remote": QUrl("https://example.com/report.pdf")}


def documents_in(services, collection: str) -> set[str]:
    return {Path(r.path).name for r in services.library.documents(collection) if r.status == "indexed"}


def notice_lines(window) -> list[str]:
    assert window.drop_notice is not None and window.drop_notice.isVisible()
    return window.drop_notice.informativeText().splitlines()


def test_a_drop_anywhere_on_the_window_ingests_the_good_files_and_lists_the_rest(qtbot, window, services, mixed):
    lib = window.library
    window.show_view(1)  # on the chat view: not a drop target of its own, so the window takes it
    mime = urls(*mixed["good"], mixed["unsupported"], mixed["missing"], mixed["remote"])
    with qtbot.waitSignal(lib.ingest_finished, timeout=120_000) as done:
        drop(window.chat, mime)
    assert sorted(f.status for f in done.args[0].files) == ["indexed", "indexed"]
    assert documents_in(services, lib.collection) == {"keeper-manual.pdf", "harbour-note.txt"}
    lines = notice_lines(window)
    assert len(lines) == 3
    assert any("tool.exe" in line and "unsupported file type .exe" in line for line in lines)
    assert any("gone.pdf" in line and "not found" in line for line in lines)
    assert any("https://example.com/report.pdf" in line and "not a file on this computer" in line for line in lines)


def test_a_drop_onto_a_sidebar_collection_goes_into_that_collection(qtbot, window, services, mixed):
    lib = window.library
    services.library.create_collection("Receipts")
    lib.refresh()
    window.show_view(0)
    assert lib.collection == "default"
    row = next(r for r in range(lib.collections.count()) if lib.collections.item(r).data(Qt.ItemDataRole.UserRole) == "Receipts")
    target = lib.collections.item(row)
    spot = lib.collections.visualItemRect(target).center()
    marked = []  # while the drag hovers, the collection it would go into is marked, and only that one
    with qtbot.waitSignal(lib.ingest_finished, timeout=120_000):
        drop(lib.collections.viewport(), urls(mixed["good"][1], mixed["missing"]), spot, hovering=lambda: marked.extend(
            lib.collections.item(r).data(Qt.ItemDataRole.UserRole) for r in range(lib.collections.count())
            if lib.collections.item(r).data(Qt.ItemDataRole.BackgroundRole) is not None))
    assert marked == ["Receipts"]
    assert documents_in(services, "Receipts") == {"harbour-note.txt"}
    assert documents_in(services, "default") == set()
    assert [line for line in notice_lines(window) if "gone.pdf" in line]


def test_a_drop_onto_the_task_panel_runs_the_current_task_on_the_files_and_dropped_text_on_the_text(qtbot, window, mixed):
    tasks = window.tasks
    window.show_view(2)
    tasks.task_tabs.setCurrentIndex(2)  # Classify: the cheapest task for the real model
    tasks.labels.setText("lighthouse, finance")
    with qtbot.waitSignal(tasks.finished, timeout=600_000) as done:
        drop(tasks.files.viewport(), urls(mixed["good"][1], mixed["unsupported"]))
    [(label, result)] = done.args[0]
    assert label == "harbour-note.txt" and result.task == "classify" and result.label in ("lighthouse", "finance")
    assert tasks.file_paths() == [str(mixed["good"][1])]  # only the good file joined the list
    assert [line for line in notice_lines(window) if "tool.exe" in line and "unsupported" in line]

    text = QMimeData()
    text.setText("Please refund the second charge on my invoice.")
    with qtbot.waitSignal(tasks.finished, timeout=600_000) as done:
        drop(tasks.pasted.viewport(), text)  # onto the text box: the panel takes it and runs it
    [(label, result)] = done.args[0]
    assert label == "pasted text" and result.task == "classify"
    assert tasks.pasted.toPlainText() == "Please refund the second charge on my invoice."


def test_text_dropped_outside_the_task_panel_is_not_taken_as_files(qtbot, window):
    text = QMimeData()
    text.setText("just words")
    window.show_view(0)
    enter = QDragEnterEvent(QPointF(5, 5), COPY, text, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.library.table.viewport(), enter)
    assert not enter.isAccepted()


def test_a_dropped_gguf_is_offered_for_import_and_imported_as_settings_does(qtbot, window, services, copy_model, mixed):
    model = copy_model("dropped-model.gguf")
    with qtbot.waitSignal(window.library.ingest_finished, timeout=120_000):
        drop(window.library.table.viewport(), urls(model, mixed["good"][1]))  # the document still goes on
    [offer] = window.model_offers
    assert "dropped-model.gguf" in offer.text() and offer.isVisible()
    assert window.drop_notice is None  # a model is not a problem
    offer.button(QMessageBox.StandardButton.Yes).click()
    assert window.tabs.currentWidget() is window.settings_view
    qtbot.waitUntil(lambda: window.settings_view.model_status.text().startswith("Imported dropped-model"), timeout=120_000)
    from app.core.models import registry

    assert registry.find("dropped-model").imported
    assert window.model_offers == []
