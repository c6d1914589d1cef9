"""Chat: conversations on the left (kept across restarts), the question box, the answer streaming
in with a Stop, its confidence and route as badges, and its citations as chips that open the
source viewer at the quoted place."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.activity import Activity
from app.core.conversations import Conversations, Message, source_groups, title_from, where
from app.core.tasks.result import Citation
from app.ui.consent import ConsentBroker
from app.ui.flow_layout import FlowLayout
from app.ui.library_view import button, fill_with_panes
from app.ui.source_viewer import Place, SourceViewer
from app.ui.workers import GeneratorWorker, Jobs

ALL = "All collections"
ID_ROLE = Qt.ItemDataRole.UserRole


def confidence_badge(label: QLabel, confidence: float, abstained: bool = False) -> None:
    color = "#2e7d32" if confidence >= 0.7 else "#b26a00" if confidence >= 0.4 else "#c62828"
    words = "high" if confidence >= 0.7 else "medium" if confidence >= 0.4 else "low"
    label.setText(f"Confidence {confidence:.0%} ({words})")
    label.setStyleSheet(f"QLabel {{ background: {color}; color: white; border-radius: 8px; padding: 2px 8px; }}")
    label.setToolTip("How often a refusal was right on the labelled questions it was fitted on: the documents really did not answer them"
                     if abstained else "Calibrated on labelled questions: how often answers with this score were right")
    label.show()


LOCAL_BADGE = "#546e7a"  # blue-grey: white text on it reads on either theme, and it stands off a dark window


def route_badge(label: QLabel, result) -> None:
    escalation = result.escalation or {}
    if result.route == "cloud":
        text, color = f"Sent to the cloud, redacted · ledger #{escalation.get('ledger_id')}", "#6a1b9a"
    elif escalation.get("status") in ("declined", "failed"):
        text, color = f"On this computer (cloud {escalation['status']})", LOCAL_BADGE
    else:
        text, color = "On this computer", LOCAL_BADGE
    label.setText(text)
    label.setToolTip(escalation.get("detail") or "Nothing left this computer for this answer")
    label.setStyleSheet(f"QLabel {{ background: {color}; color: white; border-radius: 8px; padding: 2px 8px; }}")
    label.show()


# A sheet's own border replaces the style's frame, so one is drawn: without it a chip was plain text
# that did not look clickable. Palette roles keep it right on either theme.
CHIP_STYLE = ("QPushButton { border: 1px solid palette(mid); border-radius: 10px; padding: 3px 10px;"
              " background: palette(button); }"
              " QPushButton:hover, QPushButton:focus { border-color: palette(highlight); }")


# What each heading of the chips means, said on hover (the headings: app.core.conversations.source_groups).
HEADING_TIPS = {"Searched:": "The passages looked at: none of them answers the question",
                "Quoted from:": "The passage the answer quotes: click it to open it there",
                "Also found:": "Other passages the search found; the answer does not quote them",
                "Sources:": "The passages the cloud model wrote the answer from: click one to open it there"}


def citation_label(n: int, c: Citation) -> str:
    return f"[{n}] {c.file}, {where(c)}"


class ChatView(QWidget):
    answered = Signal(object)  # TaskResult
    status = Signal(str)

    def __init__(self, services, jobs: Jobs, consent: ConsentBroker, library_view, parent=None) -> None:
        super().__init__(parent)
        self.services, self.jobs, self.consent, self.library_view = services, jobs, consent, library_view
        self.store = Conversations()
        self.activity = Activity()
        self._links: dict[str, Citation] = {}  # transcript link -> the citation it opens
        self._closed = False
        self._transcript_count = 0  # how many of the conversation's messages the transcript shows
        self.conversation: int | None = None
        self.ask_worker: GeneratorWorker | None = None
        self.chips: list[QPushButton] = []
        self.headings: list[QLabel] = []  # one before each group of chips
        self.last_result = None
        self.viewer = SourceViewer(jobs)
        self._build()
        self.refresh_conversations()

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        side = QWidget()
        side_box = QVBoxLayout(side)
        side_box.addWidget(QLabel("<b>Conversations</b>"))
        self.conversations = QStandardItemModel(self)
        self.conversation_list = QListView()
        self.conversation_list.setModel(self.conversations)
        self.conversation_list.setAccessibleName("Conversations")
        self.conversation_list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.conversation_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conversation_list.clicked.connect(lambda index: self.open_conversation(index.data(ID_ROLE)))
        side_box.addWidget(self.conversation_list, 1)
        row = QHBoxLayout()
        self.new_button = button("New", "Start a new conversation (Ctrl+N)", self.new_conversation, "New conversation")
        self.rename_button = button("Rename…", "Rename this conversation (F2)", self.rename_conversation, "Rename conversation")
        self.delete_button = button("Delete", "Delete this conversation", self.delete_conversation, "Delete conversation")
        for b in (self.new_button, self.rename_button, self.delete_button):
            row.addWidget(b)
        side_box.addLayout(row)
        self.export_button = button("Export as Markdown…", "Save this conversation with its citations (Ctrl+E)",
                                    self.export_conversation, "Export conversation as Markdown")
        side_box.addWidget(self.export_button)

        main = QWidget()
        box = QVBoxLayout(main)
        scope = QHBoxLayout()
        scope.addWidget(QLabel("Ask in:"))
        self.scope = QComboBox()
        self.scope.setAccessibleName("Collection to ask in")
        self.scope.setMinimumWidth(200)
        scope.addWidget(self.scope)
        scope.addStretch(1)
        box.addLayout(scope)
        self.transcript = QTextBrowser()
        self.transcript.setAccessibleName("Earlier questions and answers")
        self.transcript.setOpenLinks(False)
        self.transcript.anchorClicked.connect(self._open_link)
        self.transcript.setPlaceholderText("Ask a question about your documents. Answers quote them and say where each quote is from.")
        box.addWidget(self.transcript, 3)
        self.asked = QLabel("")
        self.asked.setWordWrap(True)
        self.asked.setAccessibleName("The question being answered")
        box.addWidget(self.asked)
        self.answer = QTextBrowser()
        self.answer.setObjectName("answer")
        self.answer.setAccessibleName("Answer")
        self.answer.setPlaceholderText("The answer appears here as it is written, with its sources below.")
        box.addWidget(self.answer, 2)
        badges = QHBoxLayout()
        self.confidence = QLabel("")
        self.confidence.setAccessibleName("Confidence of the answer")
        self.route = QLabel("")
        self.route.setAccessibleName("Where the answer was made")
        for badge in (self.confidence, self.route):
            badge.hide()
            badges.addWidget(badge)
        badges.addStretch(1)
        box.addLayout(badges)
        chips = QWidget()
        chips.setAccessibleName("Sources of the answer")
        self.chip_row = FlowLayout(chips)  # chips wrap onto a second row rather than scroll out of sight
        self.chip_row.setContentsMargins(0, 0, 0, 0)
        box.addWidget(chips)
        ask_row = QHBoxLayout()
        self.question = QLineEdit()
        self.question.setObjectName("question")
        self.question.setAccessibleName("Question")
        self.question.setPlaceholderText("Ask a question about your documents… (Enter)")
        self.question.returnPressed.connect(self.ask)
        self.ask_button = button("Ask", "Ask (Enter)", self.ask, "Ask the question")
        self.stop_button = button("Stop", "Stop the answer (Esc)", self.stop, "Stop the answer")
        self.stop_button.setEnabled(False)
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(self.ask_button)
        ask_row.addWidget(self.stop_button)
        box.addLayout(ask_row)

        fill_with_panes(self, side, main, [250, 850])
        self.setTabOrder(self.question, self.ask_button)
        self.setTabOrder(self.ask_button, self.stop_button)

    # -- collections and conversations ------------------------------------------------------
    def refresh_collections(self) -> None:
        if not self.library_view.ready():
            return
        current = self.scope.currentData()
        self.scope.blockSignals(True)
        self.scope.clear()
        self.scope.addItem(ALL, None)
        for c in self.library_view.lib.collections():
            self.scope.addItem(f"{c.name} ({c.documents})", c.name)
        index = self.scope.findData(current)
        self.scope.setCurrentIndex(index if index >= 0 else 0)
        self.scope.blockSignals(False)

    def set_scope(self, collection: str | None) -> None:
        self.scope.setCurrentIndex(max(0, self.scope.findData(collection)))

    def refresh_conversations(self) -> None:
        self.conversations.clear()
        for conv in self.store.list():
            item = QStandardItem(conv.title)
            item.setData(conv.id, ID_ROLE)
            item.setToolTip(f"{conv.messages // 2} questions · {conv.collection or ALL.lower()}")
            self.conversations.appendRow(item)
            if conv.id == self.conversation:
                self.conversation_list.setCurrentIndex(item.index())

    def new_conversation(self) -> None:
        self.conversation = None
        self.transcript.clear()
        self._transcript_count = 0
        self._clear_answer()
        self.conversation_list.clearSelection()
        self.question.setFocus()

    def open_conversation(self, cid: int) -> None:
        self.conversation = cid
        self._clear_answer()
        self._render_transcript()
        self.refresh_conversations()

    def _render_transcript(self, count: int | None = None) -> None:
        """The conversation's messages (its first `count`) as HTML, with citation links."""
        parts, self._links = [], {}
        messages = (self.store.messages(self.conversation) if self.conversation else [])[:count]
        self._transcript_count = len(messages)
        for m in messages:
            text = html.escape(m.text).replace("\n", "<br>")
            if m.role == "user":
                parts.append(f"<p><b>You:</b> {text}</p>")
                continue
            meta = []
            if m.confidence is not None:
                meta.append(f"confidence {m.confidence:.0%}")
            meta.append("cloud, ledger #%s" % m.ledger_id if m.route == "cloud" else "on this computer")
            sources = " · ".join(heading + " " + " ".join(f'<a href="cite:{id(c)}">{html.escape(citation_label(n, c))}</a>' for n, c in cited)
                                 for heading, cited in source_groups(m.citations, m.abstained, m.route))
            self._links.update({f"cite:{id(c)}": c for c in m.citations})
            parts.append(f"<p><b>Hearth:</b> {text}<br><small>{' · '.join(meta)}</small><br><small>{sources}</small></p>")
        self.transcript.setHtml("".join(parts))
        self.transcript.verticalScrollBar().setValue(self.transcript.verticalScrollBar().maximum())

    def changeEvent(self, event: QEvent) -> None:
        # The transcript's links took the palette's link colour when its HTML was parsed: a new
        # theme needs it parsed again (dark blue on dark otherwise), without the exchange shown below it.
        if event.type() == QEvent.Type.PaletteChange and self.conversation is not None and not self._closed:
            self._render_transcript(self._transcript_count)
        super().changeEvent(event)

    def _open_link(self, url: QUrl) -> None:
        citation = self._links.get(url.toString())
        if citation is not None:
            self.open_citation(citation)

    def rename_conversation(self) -> None:
        cid = self.conversation
        if cid is None:
            return
        title, ok = QInputDialog.getText(self, "Rename conversation", "New title:", text=self.store.get(cid).title)
        if ok and title.strip():
            self.store.rename(cid, title)
            self.refresh_conversations()

    def delete_conversation(self) -> None:
        cid = self.conversation
        if cid is None:
            return
        answer = QMessageBox.question(self, "Delete conversation", f"Delete “{self.store.get(cid).title}” and its answers?")
        if answer == QMessageBox.StandardButton.Yes:
            self.store.delete(cid)
            self.new_conversation()
            self.refresh_conversations()

    def export_conversation(self) -> Path | None:
        cid = self.conversation
        if cid is None:
            self.status.emit("Pick a conversation to export first")
            return None
        suggested = str(Path.home() / f"{self.store.get(cid).title[:40].strip() or 'conversation'}.md")
        target, _ = QFileDialog.getSaveFileName(self, "Export conversation", suggested, "Markdown (*.md)")
        if not target:
            return None
        try:
            Path(target).write_text(self.store.to_markdown(cid), encoding="utf-8")
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"Could not write {target}: {exc.strerror or exc}")
            return None
        self.status.emit(f"Exported to {target}")
        return Path(target)

    # -- asking --------------------------------------------------------------------------
    def _set_asking(self, asking: bool) -> None:
        self.ask_button.setEnabled(not asking)
        self.stop_button.setEnabled(asking)

    def _clear_answer(self) -> None:
        self.asked.clear()
        self.answer.clear()
        self.confidence.hide()
        self.route.hide()
        for widget in self.headings + self.chips:
            self.chip_row.removeWidget(widget)
            widget.deleteLater()
        self.headings, self.chips = [], []

    def ask(self) -> GeneratorWorker | None:
        question = self.question.text().strip()
        if not question or self.ask_worker is not None:
            return None
        collection = self.scope.currentData()
        if self.conversation is None:
            self.conversation = self.store.create(title_from(question), collection).id
        else:
            self._render_transcript()
        self.store.add(self.conversation, Message("user", question))
        self.refresh_conversations()
        self._clear_answer()
        self.asked.setText(f"<b>You:</b> {html.escape(question)}")
        self.question.clear()
        self._set_asking(True)
        self.status.emit("Thinking…" if self.services.loaded("engine") else "Thinking… (the model is still loading)")

        def job(cancel):
            from app.core.routing.router import run  # imported on first use: retrieval's imports take seconds
            from app.core.scope import best_collection

            name = collection or best_collection(self.services, question)
            inputs = {"question": question, "collection": name}
            return (yield from run(self.services, "ask", inputs, consent=self.consent.for_job(cancel), cancel=cancel))

        worker = GeneratorWorker(job)
        worker.yielded.connect(self._on_text)
        worker.finished_with.connect(self._on_answer)
        worker.cancelled.connect(self._on_stopped)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._ask_done)
        self.ask_worker = worker
        return self.jobs.start(worker)

    def stop(self) -> None:
        if self.ask_worker is not None:
            self.ask_worker.cancel()

    def _ask_done(self) -> None:
        self.ask_worker = None
        self._set_asking(False)

    def _on_text(self, text: str) -> None:
        cursor = self.answer.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)
        self.answer.setTextCursor(cursor)

    def _on_stopped(self) -> None:
        if self._closed:  # stopped by quitting: the history is already closed
            return
        partial = self.answer.toPlainText().strip()
        self.store.add(self.conversation, Message("assistant", f"{partial}\n\n(stopped)".strip()))
        self.status.emit("Stopped.")

    def _on_error(self, message: str) -> None:
        self.answer.setPlainText(f"Could not answer: {message}")
        self.status.emit(f"Error: {message}")

    def _on_answer(self, result) -> None:
        if self._closed:
            return
        self.last_result = result
        if result.route == "cloud":
            self.answer.setPlainText(result.text)  # the local draft streamed first; the cloud's answer replaces it
        confidence_badge(self.confidence, result.confidence, result.abstained)
        route_badge(self.route, result)
        for heading, cited in source_groups(result.citations, result.abstained, result.route):
            label = QLabel(heading)  # what the chips after it are
            label.setToolTip(HEADING_TIPS[heading])
            self.chip_row.addWidget(label)
            self.headings.append(label)
            for n, c in cited:
                chip = QPushButton(citation_label(n, c))
                chip.setToolTip(f"\u201c{c.quote}\u201d\n{c.path}\nsimilarity {c.score:.2f} · click to open at this place")
                chip.setAccessibleName(f"Open source {n} ({heading.rstrip(':').lower()}): {c.file}, {where(c)}")
                chip.setStyleSheet(CHIP_STYLE)
                chip.clicked.connect(lambda _checked=False, c=c: self.open_citation(c))
                self.chip_row.addWidget(chip)
                self.chips.append(chip)
        self.store.add_answer(self.conversation, result)
        self.activity.record(result)
        self.refresh_conversations()
        escalation = result.escalation or {}
        note = f"; cloud {escalation['status']}: {escalation['detail']}" if escalation.get("status") in ("declined", "failed") else ""
        self.status.emit(f"Answered in {result.timings.get('total_s', 0):.1f}s{note}")
        self.answered.emit(result)

    def open_citation(self, citation: Citation) -> GeneratorWorker:
        return self.viewer.open_place(Place.of(citation))

    def close_store(self) -> None:
        self._closed = True
        self.viewer.close()
        self.store.close()
        self.activity.close()
