"""The library view through its widgets: collections, the documents table, add/remove/re-index/
open/reveal, ingest progress with Cancel, the password dialog, and the window shell around it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QMessageBox
from uihelpers import Heartbeat, open_window

from app.core.ingest import ingest

WORDS = ("harbour lamp keeper storm ledger vinegar wick chapter tide rope lantern cliff signal beacon fog "
         "shipping ferry gull anchor lens prism brass oil watch").split()


def names(view) -> list[str]:
    return [view.proxy.index(row, 0).data() for row in range(view.proxy.rowCount())]


def write_notes(folder: Path, count: int, paragraphs: int = 12) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for n in range(count):
        text = "\n\n".join(
            " ".join(WORDS[(n * 7 + p * 3 + k) % len(WORDS)] for k in range(60)) + f". Note {n}, paragraph {p}."
            for p in range(paragraphs))
        path = folder / f"note-{n:03d}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


@pytest.fixture
def window(qtbot, services):
    w = open_window(qtbot, services)
    yield w
    w.close()


def test_collections_are_created_renamed_followed_and_deleted_from_the_sidebar(qtbot, window, services, tmp_path, monkeypatch):
    lib = window.library
    answers = iter([("Receipts", True), ("Tax 2026", True)])
    monkeypatch.setattr("app.ui.library_view.QInputDialog.getText", lambda *a, **k: next(answers))
    lib.new_button.click()
    assert lib.collection == "Receipts" and "Receipts" in [c.name for c in services.library.collections()]
    lib.rename_button.click()
    assert lib.collection == "Tax 2026" and lib.collections.currentItem().text().startswith("Tax 2026")
    folder = tmp_path / "receipts"
    write_notes(folder, 2, paragraphs=1)
    monkeypatch.setattr("app.ui.library_view.QFileDialog.getExistingDirectory", lambda *a, **k: str(folder))
    lib.follow_button.click()
    qtbot.waitUntil(lambda: len(names(lib)) == 2, timeout=60_000)
    assert str(folder) in lib.folder_label.text()
    assert services.library.collection("Tax 2026").folder == str(folder.resolve())
    monkeypatch.setattr("app.ui.library_view.QMessageBox.question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    lib.delete_button.click()
    assert [c.name for c in services.library.collections()] == ["default"] and lib.collection == "default"
    # A bad name is refused with the reason, nothing else changes.
    warnings = []
    monkeypatch.setattr("app.ui.library_view.QInputDialog.getText", lambda *a, **k: ("a/b", True))
    monkeypatch.setattr("app.ui.library_view.QMessageBox.warning", lambda *a: warnings.append(a[2]))
    lib.new_button.click()
    assert warnings and "not a valid collection name" in warnings[0]


def test_documents_table_adds_sorts_filters_removes_reindexes_opens_and_reveals(qtbot, window, services, tmp_path, monkeypatch):
    lib = window.library
    assert lib.stack.currentWidget() is lib.empty  # the empty state says what to do
    files = write_notes(tmp_path / "notes", 3, paragraphs=2)
    big = tmp_path / "notes" / "big.txt"
    big.write_text("\n\n".join(f"Paragraph {n} about the harbour lamp and the keeper's ledger." * 4 for n in range(60)))
    monkeypatch.setattr("app.ui.library_view.QFileDialog.getOpenFileNames", lambda *a, **k: ([str(f) for f in [*files, big]], ""))
    with qtbot.waitSignal(lib.ingest_finished, timeout=120_000):
        lib.add_button.click()
    assert lib.stack.currentWidget() is lib.table
    assert names(lib) == ["big.txt", "note-000.txt", "note-001.txt", "note-002.txt"]
    # Sort by chunks, descending: the big file first.
    lib.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    assert names(lib)[0] == "big.txt"
    assert int(lib.proxy.index(0, 3).data()) > int(lib.proxy.index(1, 3).data())
    lib.filter.setText("note-00")
    assert len(names(lib)) == 3
    lib.filter.clear()
    # Open and reveal go to the system's handlers.
    opened = []
    monkeypatch.setattr("app.ui.library_view.QDesktopServices.openUrl", lambda url: opened.append(url.toLocalFile()))
    lib.select_names(["note-001.txt"])
    lib.open_button.click()
    lib.reveal_button.click()
    assert opened == [str(files[1].resolve()), str(files[1].resolve().parent)]
    # Re-index reads a changed file again; remove drops it from catalog and vectors.
    files[1].write_text("The beacon is lit at dusk. " * 5)
    lib.select_names(["note-001.txt"])
    with qtbot.waitSignal(lib.ingest_finished, timeout=120_000) as done:
        lib.reindex_button.click()
    assert [f.status for f in done.args[0].files] == ["indexed"]
    assert services.library.document("default", str(files[1].resolve())).chunks == 1
    lib.select_names(["note-000.txt", "note-002.txt"])
    worker = lib.remove_selected()
    qtbot.waitUntil(lambda: names(lib) == ["big.txt", "note-001.txt"] or names(lib) == ["note-001.txt", "big.txt"], timeout=30_000)
    worker.wait()
    assert services.library.check_consistency() == []
    assert set(services.library.vectors.chunk_counts(services.library.collection("default").key)) == \
        {str(big.resolve()), str(files[1].resolve())}


def test_cancel_during_ingest_leaves_catalog_and_vectors_agreeing(qtbot, window, services, tmp_path):
    lib = window.library
    files = write_notes(tmp_path / "many", 30)
    with Heartbeat() as beat:
        worker = lib.ingest_files([str(tmp_path / "many")])
        qtbot.waitUntil(lambda: lib.panel.overall.maximum() == 30 and lib.panel.overall.value() >= 3, timeout=120_000)
        assert re.search(r"about \d+( min \d+)? s left|almost done", lib.panel.label.text())  # an ETA in words
        assert lib.panel.files.rowCount() >= 3 and lib.panel.files.item(0, 1).text() == "indexed"
        with qtbot.waitSignal(worker.cancelled, timeout=120_000):
            lib.panel.cancel_button.click()
    worker.wait()
    print(f"\nworst UI gap during ingest: {beat.worst * 1000:.0f} ms over {beat.ticks} ticks")
    # A generous bound that only proves the UI thread never waited on the ingest itself.
    assert beat.worst < 5.0
    library = services.library
    key = library.collection("default").key
    indexed = {d.path: d.chunks for d in library.documents("default") if d.status == "indexed"}
    stored = library.vectors.chunk_counts(key)
    assert 3 <= len(indexed) < len(files), "cancelled part-way"
    assert stored == indexed, "every indexed document has exactly its chunks, and no other chunks exist"
    assert library.check_consistency() == []
    assert not lib.panel.isVisible() and "cancelled" in window.statusBar().currentMessage()
    # The rest comes in on the next run; nothing was half-added.
    report = ingest(services, [tmp_path / "many"], "default")
    assert report.count("unchanged") == len(indexed) and report.count("indexed") == len(files) - len(indexed)


def test_an_encrypted_pdf_asks_for_its_password(qtbot, window, services, tmp_path):
    from pypdf import PdfReader, PdfWriter
    from pdfgen import write_pdf

    plain = write_pdf(tmp_path / "plain.pdf", ["The vault code is kept by the harbour master."])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt("s3cret")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as f:
        writer.write(f)
    lib = window.library
    lib.ingest_files([str(locked)])
    qtbot.waitUntil(lambda: lib.password_dialog is not None and lib.password_dialog.isVisible(), timeout=120_000)
    assert "locked.pdf" in lib.password_dialog.labelText()
    lib.password_dialog.setTextValue("wrong")
    lib.password_dialog.accept()
    qtbot.waitUntil(lambda: lib.password_dialog is not None and lib.password_dialog.isVisible(), timeout=120_000)  # asked again
    lib.password_dialog.setTextValue("s3cret")
    with qtbot.waitSignal(lib.ingest_finished, timeout=120_000) as done:
        lib.password_dialog.accept()
    assert [f.status for f in done.args[0].files] == ["indexed"]
    assert lib.proxy.index(0, 1).data() == "Indexed"


def test_first_run_screen_geometry_theme_shortcuts_and_accessible_names(qtbot, services, tmp_path, monkeypatch):
    from app.ui.main_window import MainWindow
    from app.ui.prefs import prefs

    window = open_window(qtbot, services, dismiss_first_run=False)
    assert window.stack.currentWidget() is window.first_run
    assert window.first_run.text.text().count(". ") + 1 == 3  # three sentences
    folder = tmp_path / "mine"
    write_notes(folder, 1, paragraphs=1)
    monkeypatch.setattr("app.ui.first_run.QFileDialog.getExistingDirectory", lambda *a, **k: str(folder))
    window.first_run.folder_button.click()
    assert window.stack.currentWidget() is window.tabs
    qtbot.waitUntil(lambda: names(window.library) == ["note-000.txt"], timeout=60_000)
    # Every action in the menus has its shortcut shown; every button has an accessible name.
    actions = [a for top in window.menuBar().actions() for a in top.menu().actions() if not a.isSeparator()]
    main = [a for a in actions if "theme" not in a.text()]
    assert main and all(not a.shortcut().isEmpty() for a in main), [a.text() for a in main if a.shortcut().isEmpty()]
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit

    controls = [w for cls in (QAbstractButton, QLineEdit, QComboBox, QPlainTextEdit) for w in window.findChildren(cls)
                if w.window() is window and not w.objectName().startswith("qt_") and w.parent().metaObject().className() not in
                ("QTabBar", "QScrollBar", "QMenuBar", "QSpinBox", "QDoubleSpinBox", "QComboBox", "QDialogButtonBox", "QLineEdit")]
    unnamed = [f"{type(w).__name__}:{getattr(w, 'text', lambda: '')()}" for w in controls if not w.accessibleName()]
    assert not unnamed, unnamed
    # Ctrl+2 shows the chat with the keyboard, and the theme switch takes effect.
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.chat
    window.settings_view.theme.setCurrentText("dark")
    qtbot.waitUntil(lambda: window.palette().color(window.palette().ColorRole.Window).lightness() < 100, timeout=5_000)
    window.resize(window.minimumSizeHint().width() + 3, 561)
    qtbot.waitUntil(lambda: window.size().height() == 561, timeout=5_000)
    chosen = (window.size().width(), window.size().height())
    window.close()
    assert prefs().value("theme") == "dark" and not QByteArray(prefs().value("geometry")).isEmpty()
    again = MainWindow(services, load_models=False)
    qtbot.addWidget(again)
    # The offscreen screen is 800 px wide, so a restored window is kept within it; the height is free.
    assert again.size().height() == chosen[1] and again.size().width() <= chosen[0]
    assert again.stack.currentWidget() is again.tabs  # the first-run screen is shown once
    again.settings_view.theme.setCurrentText("light")
    again.close()


def test_quitting_while_work_runs_asks_first(qtbot, window, tmp_path, monkeypatch):
    write_notes(tmp_path / "q", 15)
    del window.confirm_quit  # the real question, answered through QMessageBox below
    asked = []
    monkeypatch.setattr("app.ui.main_window.QMessageBox.question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    worker = window.library.ingest_files([str(tmp_path / "q")])
    qtbot.waitUntil(lambda: window.library.panel.overall.value() >= 1, timeout=60_000)
    window.close()
    assert asked and window.isVisible() and worker.isRunning()
    monkeypatch.setattr("app.ui.main_window.QMessageBox.question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    started = time.perf_counter()
    window.close()
    assert not window.isVisible() and not worker.isRunning()
    print(f"\nquit with a running ingest took {time.perf_counter() - started:.2f} s (cancelled after the current file)")
