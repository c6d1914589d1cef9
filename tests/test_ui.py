"""The main window over the real services, driven with pytest-qt."""

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from uihelpers import open_window

from app.core.ingest import ingest


@pytest.fixture
def window(qtbot, services):
    w = open_window(qtbot, services)
    yield w
    w.close()


def names(window) -> list[str]:
    model = window.library.proxy
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_asking_through_the_window_streams_text_and_shows_citations(qtbot, window, services, guide_pdf):
    ingest(services, [guide_pdf], "default")
    window.library.refresh()
    assert names(window) == ["keeper-manual.pdf"]
    chat = window.chat
    chat.question.setText("How often must the lamp be cleaned?")
    pieces = []
    with qtbot.waitSignal(chat.answered, timeout=120_000) as finished:
        worker = chat.ask()
        worker.yielded.connect(pieces.append)
        assert not chat.ask_button.isEnabled() and chat.stop_button.isEnabled()
        # The UI thread stays free while the model generates: the event loop keeps turning.
        qtbot.waitUntil(lambda: len(pieces) >= 1, timeout=120_000)
        assert worker.isRunning() or pieces
    result = finished.args[0]
    assert pieces, "text arrives through the stream before the answer is finished"
    assert "".join(pieces).strip() == result.text == chat.answer.toPlainText().strip()
    assert "Tuesday" in result.text
    assert len(chat.chips) == len(result.citations)
    assert "p. 2" in chat.chips[0].text()
    assert not chat.confidence.isHidden() and f"{result.confidence:.0%}" in chat.confidence.text()
    assert chat.route.text() == "On this computer"
    qtbot.waitUntil(lambda: chat.ask_button.isEnabled(), timeout=10_000)


def test_dropping_files_ingests_them_and_reports_failures(qtbot, window, guide_pdf, tmp_path, monkeypatch):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 nothing else")
    warnings = []
    monkeypatch.setattr("app.ui.library_view.QMessageBox.warning", lambda *a: warnings.append(a[2]))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(guide_pdf)), QUrl.fromLocalFile(str(bad))])
    pos = QPointF(window.rect().center())
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: len(names(window)) == 2, timeout=120_000)
    assert names(window) == ["broken.pdf", "keeper-manual.pdf"]
    status = {window.library.proxy.index(r, 0).data(): window.library.proxy.index(r, 1).data() for r in range(2)}
    assert status == {"broken.pdf": "Could not read", "keeper-manual.pdf": "Indexed"}
    problem = window.library.proxy.index(0, 6).data()
    assert problem and "pdf" in problem.lower()  # the error in words, in its own column
    qtbot.waitUntil(lambda: bool(warnings), timeout=10_000)
    assert "broken.pdf" in warnings[0]
    assert "1 indexed" in window.statusBar().currentMessage()


def test_stop_cancels_a_running_generation(qtbot, shared_engine):
    # The worker that runs every answer: a long generation stops at the next token after cancel.
    from app.core.llm.local import Generation
    from app.ui.workers import GeneratorWorker

    gen, pieces = Generation(), []
    prompt = [{"role": "user", "content": "Write a very long story about a lighthouse keeper."}]
    worker = GeneratorWorker(lambda cancel: shared_engine.stream(prompt, max_tokens=1000, cancel=cancel, result=gen))

    def on_piece(text):
        pieces.append(text)
        if len(pieces) == 2:
            worker.cancel()  # from the UI thread, as the Stop button does

    worker.yielded.connect(on_piece)
    finished = []
    worker.finished_with.connect(finished.append)
    with qtbot.waitSignal(worker.cancelled, timeout=120_000):
        worker.start()
    worker.wait()
    assert gen.cancelled and gen.tokens_out < 100 and finished == []


def test_a_qt_warning_fails_the_test(pytester):
    pytester.makeini("[pytest]\nqt_api = pyside6\nqt_log_level_fail = WARNING\n")
    pytester.makepyfile(
        """
        from PySide6.QtCore import qWarning
        def test_warns(qtbot):
            qWarning("something is off")
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Failure: Qt messages with level WARNING or above emitted*"])


def test_a_followed_folder_shows_up_in_the_list(qtbot, window, tmp_path):
    folder = tmp_path / "followed"
    folder.mkdir()
    (folder / "memo.txt").write_text("The quarterly meeting moved to Thursday.")
    window.library.follow_folder(folder)
    qtbot.waitUntil(lambda: names(window) == ["memo.txt"], timeout=60_000)
    assert str(folder) in window.library.folder_label.text()


@pytest.mark.parametrize("send", [True, False], ids=["send", "keep-local"])
def test_ask_me_shows_the_redacted_payload_and_sends_only_on_send(qtbot, shared_embedder, shared_engine, stub_server, guide_pdf, send):
    from cloud_server import Canned

    from app.core.ledger import Ledger
    from app.core.services import Services
    from app.core.settings import CloudSettings, Settings

    stub = stub_server(Canned(pieces=("The lamp is cleaned every Tuesday, says ", "[EMAIL_1]", ".")))
    settings = Settings(cloud=CloudSettings(base_url=stub.base_url, model="stand-in", policy="ask", threshold=1.0, timeout_s=5))
    services = Services(settings, shared={"embedder": shared_embedder, "engine": shared_engine})
    ingest(services, [guide_pdf], "default")
    window = open_window(qtbot, services)
    window.chat.question.setText("How often must the lamp be cleaned? Ask keeper.one@lighthouse.example if unsure.")
    with qtbot.waitSignal(window.chat.answered, timeout=120_000) as finished:
        window.chat.ask()
        qtbot.waitUntil(lambda: window.consent.dialog is not None and window.consent.dialog.isVisible(), timeout=120_000)
        dialog = window.consent.dialog
        shown = " ".join(view.toPlainText() for view in dialog.findChildren(QPlainTextEdit))
        assert "[EMAIL_1]" in shown and "keeper.one@lighthouse.example" in shown  # the diff shows both sides
        payload = dialog.payload_view.toHtml()
        assert "keeper.one@lighthouse.example" not in payload and "background-color:" in payload.split("[EMAIL_1]")[0][-200:]
        assert dialog.keep_button.isDefault() and not dialog.send_button.isDefault()
        assert dialog.tokens > 0 and "tokens" in dialog.findChild(type(window.model_state)).text()
        (dialog.send_button if send else dialog.keep_button).click()
    result = finished.args[0]
    if send:
        [request] = stub.received
        assert "keeper.one@lighthouse.example" not in request.body.decode() and "[EMAIL_1]" in request.body.decode()
        assert result.route == "cloud" and "keeper.one@lighthouse.example" in window.chat.answer.toPlainText()
        assert [r.outcome for r in Ledger().rows()] == ["sent"]
        assert window.chat.route.text().startswith("Sent to the cloud") and f"#{result.escalation['ledger_id']}" in window.chat.route.text()
    else:
        assert stub.received == [] and result.route == "local" and result.escalation["status"] == "declined"
        assert "declined" in window.statusBar().currentMessage()
    window.close()
    services.close()


def test_the_status_bar_says_what_the_page_shown_last_reported(qtbot, window):
    from app.ui.main_window import GREETING

    bar = window.statusBar()
    window.show_view(2)
    window.tasks.status.emit("Done: 4 results")
    assert bar.currentMessage() == "Done: 4 results"
    window.show_view(0)
    assert bar.currentMessage() == GREETING  # it stayed on every page: the Library said "Done: 4 results"
    window.show_view(1)
    window.library.status.emit("1 indexed, 0 unchanged, 0 failed")
    assert bar.currentMessage() == "1 indexed, 0 unchanged, 0 failed"  # background work is heard from any page
    window.show_view(2)
    assert bar.currentMessage() == "Done: 4 results"
    window.show_view(0)
    assert bar.currentMessage() == "1 indexed, 0 unchanged, 0 failed"
    window.stack.setCurrentWidget(window.first_run)
    assert bar.currentMessage() == GREETING
