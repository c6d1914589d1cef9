"""Screenshots of each main view, light and dark, with real content: a test artefact to look at.
They are written to the test's folder, and also to HEARTH_SCREENSHOTS (say docs/screenshots) when
that is set:  QT_QPA_PLATFORM=xcb HEARTH_SCREENSHOTS=docs/screenshots scripts/test-session.sh tests/test_ui_screenshots.py"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from uihelpers import open_window, set_cloud

from app.core.activity import Activity
from app.core.ingest import ingest
from app.core.ledger import Ledger, LedgerEntry
from app.core.tasks.result import TaskResult

EVAL = Path(__file__).parent / "data" / "eval"
VIEWS = ("library", "chat", "tasks", "privacy", "settings")


def test_screenshots_of_every_view_in_light_and_dark(qtbot, services, tmp_path):
    docs = sorted(p for p in (EVAL / "docs").iterdir() if p.is_file())
    ingest(services, docs, "default")
    ingest(services, docs[:2], "Household")
    Ledger().record(LedgerEntry(provider="api.example.com", model="big-model", task="summarize", outcome="sent",
                                payload=json.dumps({"messages": [{"role": "user", "content": "Summarize: ... [NAME_1] ..."}]}),
                                tokens_in=812, tokens_out=96, cost_estimate=0.0018))
    activity = Activity()
    for n in range(5):
        activity.record(TaskResult(text="", confidence=0.8, timings={"tokens_in": 600, "tokens_out": 80}), at=None)
    activity.record(TaskResult(text="", confidence=0.3, route="cloud"))  # the ledger's sent request, in the chart too
    activity.close()
    # the provider the ledger's request went to, as configured (the policy stays "never": nothing is sent)
    set_cloud(services, base_url="https://api.example.com/v1", model="big-model", price_per_1k=0.002)
    window = open_window(qtbot, services)
    window.resize(1180, 760)
    window.library.refresh()
    chat = window.chat
    window.show_view(1)
    chat.refresh_collections()
    chat.set_scope("default")
    chat.question.setText("How many paid vacation days do full-time staff get?")
    with qtbot.waitSignal(chat.answered, timeout=120_000):
        qtbot.keyClick(chat.question, Qt.Key.Key_Return)
    qtbot.waitUntil(chat.ask_button.isEnabled, timeout=10_000)
    chat.question.setText("What is the office Wi-Fi password?")  # no document says: an honest refusal
    with qtbot.waitSignal(chat.answered, timeout=120_000):
        qtbot.keyClick(chat.question, Qt.Key.Key_Return)
    tasks = window.tasks
    cases = [json.loads(line) for line in (EVAL / "extract.jsonl").read_text().splitlines() if '"schema": "invoice"' in line][:4]
    for case in cases:
        (tmp_path / f"{case['id']}.txt").write_text(case["input"], encoding="utf-8")
        tasks.add_files([str(tmp_path / f"{case['id']}.txt")])
    tasks.task_tabs.setCurrentIndex(1)
    tasks.schema.setCurrentText("invoice")
    with qtbot.waitSignal(tasks.finished, timeout=600_000):
        tasks.run_button.click()
    window.show_view(2)
    qtbot.wait(100)
    table = tasks.table
    assert all(table.columnWidth(c) >= table.sizeHintForColumn(c) for c in range(tasks.extraction.columnCount())), \
        "no column squeezed below its text"
    assert table.horizontalHeader().length() >= table.viewport().width(), "the columns fill the pane, no gap at the right"
    window.privacy.refresh()
    with qtbot.waitSignal(chat.viewer.loaded, timeout=60_000):
        chat.chips[0].click()
    chat.viewer.resize(760, 760)
    shots = []
    for theme in ("light", "dark"):
        window.settings_view.theme.setCurrentText(theme)
        qtbot.wait(200)
        for n, name in enumerate(VIEWS):
            window.show_view(n)
            qtbot.wait(150)
            path = tmp_path / f"{name}-{theme}.png"
            assert window.grab().save(str(path))
            shots.append(path)
        path = tmp_path / f"source-viewer-{theme}.png"
        assert chat.viewer.grab().save(str(path))
        shots.append(path)
    window.stack.setCurrentWidget(window.first_run)
    qtbot.wait(100)
    path = tmp_path / "first-run-dark.png"
    assert window.grab().save(str(path))
    shots.append(path)
    window.settings_view.theme.setCurrentText("system")
    window.close()
    assert all(p.stat().st_size > 10_000 for p in shots)
    target = os.environ.get("HEARTH_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for p in shots:
            shutil.copyfile(p, Path(target) / p.name)
