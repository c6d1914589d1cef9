"""Chat through the window: citations open the source viewer at the quoted words (every PDF
citation of the public eval set, counted), text citations mark their lines, conversations
survive a restart and are renamed, exported and deleted, and the UI thread stays free."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QMessageBox
from uihelpers import Heartbeat, open_window

from app.core import pdf_locate
from app.core.ingest import ingest

EVAL = Path(__file__).parent / "data" / "eval"
DOCS = sorted(p for p in (EVAL / "docs").iterdir() if p.is_file())


def folded(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def ask_through_widgets(qtbot, chat, question: str):
    chat.question.setText(question)
    with qtbot.waitSignal(chat.answered, timeout=120_000) as done:
        qtbot.keyClick(chat.question, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: chat.ask_button.isEnabled(), timeout=10_000)
    return done.args[0]


@pytest.fixture
def window(qtbot, services):
    ingest(services, DOCS, "eval")
    w = open_window(qtbot, services)
    w.show_view(1)
    w.chat.refresh_collections()
    w.chat.set_scope("eval")
    yield w
    w.close()


def test_every_pdf_citation_of_the_eval_set_opens_highlighted_on_its_page(qtbot, window):
    cases = [json.loads(line) for line in (EVAL / "ask.jsonl").read_text().splitlines() if line.strip()]
    handbook = [c for c in cases if c["expected_source"] == "team-handbook.pdf"]
    chat, viewer = window.chat, window.chat.viewer
    checked, total = 0, 0
    for case in handbook:
        result = ask_through_widgets(qtbot, chat, case["question"])
        for chip, citation in zip(chat.chips, result.citations, strict=True):
            if not citation.path.endswith(".pdf"):
                continue
            total += 1
            with qtbot.waitSignal(viewer.loaded, timeout=60_000):
                chip.click()
            assert viewer.isVisible() and viewer.page == citation.page, (case["id"], citation.page, viewer.page)
            rects = viewer.highlight_rects()
            assert rects, f"{case['id']}: nothing highlighted for {citation.quote!r}"
            # What PDFium itself finds inside the marked rectangles is the quoted text.
            covered = folded(pdf_locate.text_in(Path(citation.path), viewer.page, rects))
            quote = folded(citation.quote.rstrip("…"))
            assert quote in covered, (case["id"], citation.quote, covered)
            # And the rectangles lie on the page as drawn (inside the rendered image).
            for rect in rects:
                pixel = viewer.page_view.pixel_rect(rect)
                assert viewer.page_view.rect().adjusted(-3, -3, 3, 3).contains(pixel.toRect())
            checked += 1
    print(f"\nPDF citations highlighted on the quoted words: {checked} of {total} ({len(handbook)} handbook questions)")
    assert total > 0 and checked == total


def test_a_refusal_shows_what_it_searched_not_sources(qtbot, window):
    chat = window.chat
    answered = ask_through_widgets(qtbot, chat, "How many paid vacation days do full-time staff get?")
    # the answer quotes its first citation; the others were only found (a lease is no source of leave days)
    assert not answered.abstained and len(answered.citations) > 1
    quoted, also = chat.headings
    assert (quoted.text(), also.text()) == ("Quoted from:", "Also found:")
    qtbot.waitUntil(lambda: quoted.isVisible() and also.isVisible(), timeout=2_000)  # a widget added to a shown layout shows queued
    assert "does not quote" in also.toolTip()
    row = chat.chip_row.indexOf
    assert row(quoted) < row(chat.chips[0]) < row(also) < min(row(chip) for chip in chat.chips[1:])
    assert answered.citations[0].quote in answered.text
    assert "answers with this score were right" in chat.confidence.toolTip()
    refused = ask_through_widgets(qtbot, chat, "What is the office Wi-Fi password?")
    assert refused.abstained and chat.chips
    assert "a refusal was right" in chat.confidence.toolTip()  # it said "answers with this score" of a refusal
    [searched] = chat.headings
    assert searched.text() == "Searched:" and "none of them answers" in searched.toolTip()
    qtbot.waitUntil(searched.isVisible, timeout=2_000)
    assert row(searched) < row(chat.chips[0]) and len(chat.chips) == len(refused.citations)
    chat._render_transcript()  # both turns as history: each says what its links are
    history = chat.transcript.toPlainText()
    assert history.index("Quoted from: [1]") < history.index("Also found: [2]") < history.index("The documents don't say") \
        < history.index("Searched: [1]")
    assert "Sources:" not in history


def _wholly_shown(chip) -> bool:
    return chip.isVisible() and chip.visibleRegion().boundingRect() == chip.rect()


def test_citation_chips_wrap_onto_rows_and_stay_in_sight_at_any_width(qtbot, window):
    chat = window.chat
    result = ask_through_widgets(qtbot, chat, "What is the office Wi-Fi password?")
    assert len(chat.chips) >= 4, result.citations
    narrowest = window.minimumSizeHint().width()
    for width in (1180, narrowest):  # the README's screenshot size, then as narrow as the window goes
        window.resize(width, 760)
        qtbot.waitUntil(lambda: window.width() == width, timeout=5_000)
        qtbot.waitUntil(lambda: all(_wholly_shown(chip) for chip in chat.chips), timeout=5_000)
        # wholly inside the view, and the row did not push the question box out of the window
        assert all(chat.rect().contains(QRect(chip.mapTo(chat, QPoint(0, 0)), chip.size())) for chip in chat.chips)
        assert chat.question.visibleRegion().boundingRect() == chat.question.rect()
    rows = {chip.y() for chip in chat.chips}
    assert len(rows) > 1, f"at {narrowest} px four chips need more than one row"


def test_a_text_citation_marks_the_cited_lines_and_scrolls_to_them(qtbot, window):
    chat, viewer = window.chat, window.chat.viewer
    result = ask_through_widgets(qtbot, chat, "How much is the monthly rent for the apartment?")
    first = next(n for n, c in enumerate(result.citations) if c.path.endswith("apartment-lease.md"))
    citation = result.citations[first]
    assert citation.line_start, "a Markdown citation carries its lines"
    with qtbot.waitSignal(viewer.loaded, timeout=60_000):
        chat.chips[first].click()
    assert viewer.highlighted_lines() == list(range(citation.line_start, citation.line_end + 1))
    lines = Path(citation.path).read_text().split("\n")
    marked = " ".join(lines[n - 1] for n in viewer.highlighted_lines())
    assert folded(citation.quote.rstrip("…"))[:40] in folded(marked)
    assert viewer.text.textCursor().blockNumber() == citation.line_start - 1  # scrolled there
    assert viewer.text.cursorRect().top() >= 0 and viewer.text.cursorRect().bottom() <= viewer.text.viewport().height()


def test_conversations_survive_a_restart_and_are_renamed_exported_and_deleted(qtbot, services, window, tmp_path, monkeypatch):
    chat = window.chat
    first = ask_through_widgets(qtbot, chat, "How much is the home-office allowance?")
    ask_through_widgets(qtbot, chat, "Which day must employees be in the office?")
    assert chat.conversations.rowCount() == 1
    window.close()

    again = open_window(qtbot, services)
    chat = again.chat
    assert chat.conversations.rowCount() == 1
    assert chat.conversations.item(0).text() == "How much is the home-office allowance?"
    chat.conversation_list.clicked.emit(chat.conversations.index(0, 0))
    shown = chat.transcript.toPlainText()
    assert "How much is the home-office allowance?" in shown and "Which day must employees be in the office?" in shown
    assert first.text.splitlines()[0] in shown and "team-handbook.pdf, p. 3" in shown
    # An old answer's citation still opens the viewer from the transcript.
    link = next(iter(chat._links))
    with qtbot.waitSignal(chat.viewer.loaded, timeout=60_000):
        chat.transcript.anchorClicked.emit(type(chat.transcript.source())(link))
    monkeypatch.setattr("app.ui.chat_view.QInputDialog.getText", lambda *a, **k: ("Office rules", True))
    chat.rename_button.click()
    assert chat.conversations.item(0).text() == "Office rules"
    target = tmp_path / "office.md"
    monkeypatch.setattr("app.ui.chat_view.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    chat.export_button.click()
    text = target.read_text()
    assert text.startswith("# Office rules\n") and "**You:** Which day must employees be in the office?" in text
    assert "team-handbook.pdf, p. 3: \u201c" in text
    monkeypatch.setattr("app.ui.chat_view.QMessageBox.question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    chat.delete_button.click()
    assert chat.conversations.rowCount() == 0 and chat.transcript.toPlainText() == ""
    again.close()


def test_all_collections_asks_the_collection_that_has_the_answer(qtbot, services, window, guide_pdf):
    ingest(services, [guide_pdf], "manuals")
    chat = window.chat
    chat.refresh_collections()
    chat.set_scope(None)
    assert chat.scope.currentText() == "All collections"
    result = ask_through_widgets(qtbot, chat, "How often must the lamp be cleaned?")
    assert "Tuesday" in result.text and result.citations[0].file == "keeper-manual.pdf"


def test_the_ui_thread_stays_free_during_a_long_generation(qtbot, shared_engine):
    # The path every answer takes: a worker streams tokens, the UI thread inserts them.
    from PySide6.QtWidgets import QTextBrowser

    from app.core.llm.local import Generation
    from app.ui.workers import GeneratorWorker

    view = QTextBrowser()
    qtbot.addWidget(view)
    gen = Generation()
    prompt = [{"role": "user", "content": "Write a long story about a lighthouse keeper and a storm."}]
    worker = GeneratorWorker(lambda cancel: shared_engine.stream(prompt, max_tokens=300, cancel=cancel, result=gen))
    worker.yielded.connect(view.insertPlainText)
    with Heartbeat() as beat, qtbot.waitSignal(worker.finished_with, timeout=300_000):
        worker.start()
    worker.wait()
    print(f"\nworst UI gap during a {gen.tokens_out}-token generation: {beat.worst * 1000:.0f} ms over {beat.ticks} ticks")
    assert gen.tokens_out > 50 and view.toPlainText().strip()
    assert beat.worst < 5.0  # generous: proves only that the UI thread never waited on the model


def test_stop_ends_an_answer_and_keeps_what_was_said(qtbot, window):
    chat = window.chat
    chat.question.setText("What is the daily meal allowance when travelling?")
    pieces = []
    worker = chat.ask()
    worker.yielded.connect(lambda piece: (pieces.append(piece), chat.stop_button.click()))
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: chat.ask_button.isEnabled(), timeout=10_000)
    assert pieces and not chat.stop_button.isEnabled()
    messages = chat.store.messages(chat.conversation)
    assert messages[-1].role == "assistant" and messages[-1].text.endswith("(stopped)")


def _link_colours(browser) -> set[str]:
    colours, block = set(), browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            if it.fragment().charFormat().isAnchor():
                colours.add(it.fragment().charFormat().foreground().color().name())
            it += 1
        block = block.next()
    return colours


def test_a_theme_switch_recolours_the_citation_chips_and_the_transcript_links(qtbot, window):
    chat = window.chat
    ask_through_widgets(qtbot, chat, "How much is the home-office allowance?")
    ask_through_widgets(qtbot, chat, "How many paid vacation days do full-time staff get?")
    assert chat.chips and _link_colours(chat.transcript)
    for theme, text, link in (("light", "#1d1d1f", "#1a56c4"), ("dark", "#e8e8e8", "#8ab4f8"), ("light", "#1d1d1f", "#1a56c4")):
        window.settings_view.theme.setCurrentText(theme)
        qtbot.wait(50)
        # chips carry a style sheet of their own; before the fix they kept the old theme's text colour
        assert {c.palette().color(c.foregroundRole()).name() for c in chat.chips} == {text}
        # and each is drawn as a chip, outlined against the window, not as bare text
        window_colour = chat.palette().color(QPalette.ColorRole.Window)
        for chip in chat.chips:
            image = chip.grab().toImage()
            edge = image.pixelColor(image.width() // 2, image.height() - 1)
            assert abs(edge.lightness() - window_colour.lightness()) >= 15, (theme, edge.name(), window_colour.name())
        assert _link_colours(chat.transcript) == {link}
        # drawn again, the transcript still holds only the exchanges above the one shown below it
        assert "home-office" in chat.transcript.toPlainText() and "vacation" not in chat.transcript.toPlainText()
    window.settings_view.theme.setCurrentText("system")
