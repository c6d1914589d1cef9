"""The task panel through its widgets, with the real model: extraction over many files into a
table (tooltips, click to the source, CSV and JSON matching the table), a long summary's map-reduce
progress, classification with label probabilities, and transform; each result with confidence and route."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from uihelpers import open_window

EVAL = Path(__file__).parent / "data" / "eval"


@pytest.fixture
def window(qtbot, services):
    w = open_window(qtbot, services)
    w.show_view(2)
    yield w
    w.close()


def run_task(qtbot, tasks, tab: str):
    tasks.task_tabs.setCurrentIndex([tasks.task_tabs.tabText(i) for i in range(tasks.task_tabs.count())].index(tab))
    with qtbot.waitSignal(tasks.finished, timeout=600_000) as done:
        tasks.run_button.click()
    return done.args[0]


def test_extraction_over_many_files_fills_the_table_and_exports_what_it_shows(qtbot, window, tmp_path, monkeypatch):
    cases = [json.loads(line) for line in (EVAL / "extract.jsonl").read_text().splitlines() if '"schema": "invoice"' in line]
    folder = tmp_path / "invoices"
    folder.mkdir()
    files = []
    for case in cases[:10]:
        path = folder / f"{case['id']}.txt"
        path.write_text(case["input"], encoding="utf-8")
        files.append(path)
    tasks = window.tasks
    monkeypatch.setattr("app.ui.tasks_view.QFileDialog.getOpenFileNames", lambda *a, **k: ([str(f) for f in files], ""))
    [b for b in tasks.findChildren(type(tasks.run_button)) if b.text() == "Choose files…"][0].click()
    assert tasks.files.count() == 10
    tasks.schema.setCurrentText("invoice")
    results = run_task(qtbot, tasks, "Extract")
    model = tasks.extraction
    assert len(results) == 10 and model.rowCount() == 10
    headers = model.headers()
    assert headers[0] == "File" and headers[-2:] == ["Confidence", "Route"]
    assert set(headers[1:-2]) == {"invoice_number", "date", "vendor", "total", "currency"}
    assert [model.index(r, 0).data() for r in range(10)] == [f.name for f in files]  # one row per file, in order
    filled = sum(bool(model.index(r, c).data()) for r in range(10) for c in range(1, len(headers) - 2))
    assert filled >= 25, "most fields found"
    assert all(model.index(r, len(headers) - 1).data() == "on this computer" for r in range(10))
    table = tasks.table
    for width in (1400, window.minimumSizeHint().width()):  # room to spare, then too little: it scrolls sideways
        window.resize(width, window.height())
        qtbot.wait(50)
        assert all(table.columnWidth(c) >= table.sizeHintForColumn(c) for c in range(len(headers))), "no column squeezed below its text"
        assert table.horizontalHeader().length() >= table.viewport().width(), "no gap at the right"
    # A found value's tooltip quotes its evidence; clicking it opens the source viewer there.
    col = headers.index("invoice_number")
    row = next(r for r in range(10) if model.index(r, col).data())
    tip = model.index(row, col).data(Qt.ItemDataRole.ToolTipRole)
    assert f"[{model.index(row, col).data()}" in tip and "line" in tip
    viewer = tasks.viewer
    with qtbot.waitSignal(viewer.loaded, timeout=60_000):
        tasks.table.clicked.emit(model.index(row, col))
    marked = viewer.highlighted_lines()
    source_lines = files[row].read_text().split("\n")
    assert marked and model.index(row, col).data() in source_lines[marked[0] - 1]
    # CSV and JSON hold exactly what the table shows.
    target = tmp_path / "out.csv"
    monkeypatch.setattr("app.ui.tasks_view.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    tasks.csv_button.click()
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == headers
    assert rows[1:] == [[model.index(r, c).data() for c in range(len(headers))] for r in range(10)]
    target_json = tmp_path / "out.json"
    monkeypatch.setattr("app.ui.tasks_view.QFileDialog.getSaveFileName", lambda *a, **k: (str(target_json), ""))
    tasks.json_button.click()
    records = json.loads(target_json.read_text())
    assert [r["file"] for r in records] == [f.name for f in files]
    assert all(r["data"] == model.rows[n].data for n, r in enumerate(records))
    # The cells the local run is unsure of are tinted, by the rule escalation asks the cloud by.
    from app.core.tasks.extract import SURE

    fields = headers[1:-2]
    tinted = {(r, f) for r in range(10) for f in fields if model.index(r, headers.index(f)).data(Qt.ItemDataRole.BackgroundRole)}
    assert tinted == {(r, f) for r, (_, result) in enumerate(results) for f in fields if result.field_confidence[f] < SURE}
    assert 0 < len(tinted) < 10 * len(fields), "some cells tinted, not all: the tint tells them apart"
    assert all(records[r]["field_confidence"] == result.field_confidence for r, (_, result) in enumerate(results))


def test_a_long_summary_shows_its_map_reduce_parts(qtbot, window, tmp_path):
    doc = sorted((EVAL / "docs" / "summaries").iterdir())[0]
    long_text = "\n\n".join([doc.read_text(encoding="utf-8")] * 3)
    path = tmp_path / "long.txt"
    path.write_text(long_text, encoding="utf-8")
    tasks = window.tasks
    tasks.add_files([str(path)])
    tasks.length.setCurrentText("short")
    seen = []
    tasks.progress_text.connect(lambda text: text.startswith("Summarizing") and seen.append(text))
    [(label, result)] = run_task(qtbot, tasks, "Summarize")
    assert label == "long.txt" and result.task == "summarize" and result.text
    assert seen and seen[-1].startswith("Summarizing long.txt: part 3 of 3"), seen
    assert [s.split("part ")[1].split(" of")[0] for s in seen] == ["1", "2", "3"]
    shown = tasks.output.toPlainText()
    assert result.text.split()[0] in shown and f"confidence {result.confidence:.0%} · on this computer" in shown


def test_classify_shows_the_label_and_every_probability_and_transform_its_text(qtbot, window):
    tasks = window.tasks
    tasks.pasted.setPlainText("I was charged twice for my subscription this month, please refund one payment.")
    tasks.labels.setText("billing, technical, account")
    [(label, result)] = run_task(qtbot, tasks, "Classify")
    assert label == "pasted text" and result.label in ("billing", "technical", "account")
    assert set(result.scores) == {"billing", "technical", "account"} and abs(sum(result.scores.values()) - 1) < 0.01
    shown = tasks.output.toPlainText()
    for name, p in result.scores.items():
        assert name in shown and f"{p:.0%}" in shown
    assert f"confidence {result.confidence:.0%}" in shown and "on this computer" in shown
    tasks.preset.setCurrentText("bullets")
    [(label, result)] = run_task(qtbot, tasks, "Transform")
    assert result.task == "transform" and result.text.strip()
    assert f"confidence {result.confidence:.0%}" in tasks.output.toPlainText()


def test_examples_set_aside_for_zero_shot_are_said_so(qtbot, window):
    tasks = window.tasks
    tasks.pasted.setPlainText("What a fantastic, friendly place!")
    tasks.labels.setText("positive, negative, neutral")
    tasks.examples.setText(str(Path(__file__).parent / "data" / "sentiment_topic_examples.jsonl"))
    [(_, result)] = run_task(qtbot, tasks, "Classify")
    assert result.route == "local:zero-shot"
    assert "examples set aside: zero-shot was clearly better on them" in tasks.output.toPlainText()


def test_label_descriptions_typed_in_the_form_steer_zero_shot_and_bad_lines_are_refused(qtbot, window, monkeypatch):
    tasks = window.tasks
    tasks.pasted.setPlainText("The parcel arrived on Tuesday.")
    tasks.labels.setText("positive, negative, neutral")
    [(_, plain)] = run_task(qtbot, tasks, "Classify")
    tasks.descriptions.setPlainText("positive: a parcel or delivery arrived\n\npositive: the order came")
    [(_, described)] = run_task(qtbot, tasks, "Classify")
    assert described.label == "positive" and described.scores["positive"] > plain.scores["positive"]
    warnings = []
    monkeypatch.setattr("app.ui.tasks_view.QMessageBox.warning", lambda *a: warnings.append(a[2]))
    for text in ("positive", "urgent: needs an answer today"):
        tasks.descriptions.setPlainText(text)
        assert tasks.start() is None and tasks.run_button.isEnabled()
    assert "'positive' has no label and description" in warnings[0] and "urgent" in warnings[1]
