"""The source viewer: where a citation (or an extracted value) came from. A PDF opens at the page,
rendered, with the quoted words marked; a text file with the cited lines marked and scrolled into
view. Pages are located and rendered on a worker; PDFium runs one call at a time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core import pdf_locate
from app.core.sources import viewable_text
from app.ui.theme import highlight_color
from app.ui.workers import GeneratorWorker, Jobs

SCALE = 1.5  # pixels per PDF point: sharp at normal zoom


@dataclass(frozen=True)
class Place:
    path: str
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    quote: str = ""

    @classmethod
    def of(cls, citation) -> Place:
        return cls(citation.path, citation.page, citation.line_start, citation.line_end, citation.quote)


class PageView(QWidget):
    """One rendered page with the highlight rectangles painted over it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.rects: list[pdf_locate.Rect] = []  # PDF points
        self.page_height = 0.0
        self.scale = SCALE
        self.setAccessibleName("Rendered page")

    def set_page(self, rendered: pdf_locate.Rendered, rects, page_height: float) -> None:
        image = QImage(rendered.rgbx, rendered.width, rendered.height, rendered.stride, QImage.Format.Format_RGBX8888)
        self.image = image.copy()  # own the pixels: the bytes object goes away
        self.rects, self.page_height, self.scale = list(rects), page_height, rendered.scale
        self.setFixedSize(rendered.width, rendered.height)
        self.update()

    def pixel_rect(self, rect: pdf_locate.Rect) -> QRectF:
        left, bottom, right, top = rect
        pad = 1.5
        return QRectF(left * self.scale - pad, (self.page_height - top) * self.scale - pad,
                      (right - left) * self.scale + 2 * pad, (top - bottom) * self.scale + 2 * pad)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.drawImage(0, 0, self.image)
        painter.setPen(Qt.PenStyle.NoPen)
        color = QColor("#ffc400")
        color.setAlpha(105)
        painter.setBrush(color)
        for rect in self.rects:
            painter.drawRect(self.pixel_rect(rect))
        painter.end()


class SourceViewer(QWidget):
    loaded = Signal()  # a place is shown (tests and the chat wait on it)

    def __init__(self, jobs: Jobs, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.jobs = jobs
        self.setWindowTitle("Source")
        self.setObjectName("source-viewer")
        self.resize(980, 900)
        self.place: Place | None = None
        self.page = 1
        self.pages = 0
        self.located: pdf_locate.Located | None = None
        self.line_based = True
        box = QVBoxLayout(self)
        self.header = QLabel("")
        self.header.setWordWrap(True)
        self.header.setAccessibleName("Which source and where")
        box.addWidget(self.header)
        nav = QHBoxLayout()
        self.prev_button = QPushButton("◀ Previous page")
        self.prev_button.setAccessibleName("Previous page")
        self.prev_button.setShortcut("PgUp")
        self.prev_button.clicked.connect(lambda: self.go_to_page(self.page - 1))
        self.next_button = QPushButton("Next page ▶")
        self.next_button.setAccessibleName("Next page")
        self.next_button.setShortcut("PgDown")
        self.next_button.clicked.connect(lambda: self.go_to_page(self.page + 1))
        self.page_label = QLabel("")
        nav.addWidget(self.prev_button)
        nav.addWidget(self.page_label)
        nav.addWidget(self.next_button)
        nav.addStretch(1)
        self.nav = QWidget()
        self.nav.setLayout(nav)
        box.addWidget(self.nav)
        self.page_view = PageView()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.page_view)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll.setAccessibleName("PDF page")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Source text")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(self.text)
        box.addWidget(self.stack, 1)

    # -- opening -------------------------------------------------------------------------
    def open_place(self, place: Place) -> GeneratorWorker:
        self.place = place
        name = Path(place.path).name
        self.setWindowTitle(f"{name} — Source")
        self.header.setText(f"<b>{name}</b> — opening…")
        if Path(place.path).suffix.lower() == ".pdf":
            width = max(200, self.scroll.viewport().width() - 12)  # fit the page to the viewer's width
            job = lambda _c: self._pdf_job(place.path, place.page or 1, place.quote, width)  # noqa: E731
            done = self._show_pdf
        else:
            job = lambda _c: viewable_text(Path(place.path))  # noqa: E731
            done = self._show_text
        worker = GeneratorWorker(job)
        worker.finished_with.connect(done)
        worker.errored.connect(lambda message: self.header.setText(f"<b>{name}</b>: {message}"))
        self.show()
        if QGuiApplication.platformName() != "offscreen":  # that plugin cannot raise windows, and says so
            self.raise_()
        return self.jobs.start(worker)

    @staticmethod
    def _pdf_job(path: str, page: int, quote: str, width: int):
        located = pdf_locate.locate(Path(path), page, quote)
        scale = min(SCALE, width / located.size[0])
        return located, pdf_locate.render(Path(path), located.page, scale)

    def _show_pdf(self, result) -> None:
        located, rendered = result
        self.located, self.page, self.pages = located, located.page, located.pages
        self.stack.setCurrentWidget(self.scroll)
        self.nav.show()
        self.page_view.set_page(rendered, located.rects, located.size[1])
        self._update_nav()
        name = Path(self.place.path).name
        if not located.rects:
            note = "the quoted words were not found on the page; showing the cited page"
        elif located.page != (self.place.page or 1):
            note = f"the quote was found on page {located.page}, not on the cited page {self.place.page}"
        elif not located.exact:
            note = "the closest matching words are marked"
        else:
            note = "the quoted words are marked"
        self.header.setText(f"<b>{name}</b>, page {located.page} of {located.pages}: {note}")
        if located.rects:
            first = self.page_view.pixel_rect(located.rects[0])
            self.scroll.ensureVisible(int(first.center().x()), int(first.center().y()), 50, 200)
        self.loaded.emit()

    def go_to_page(self, page: int) -> None:
        if not self.place or not 1 <= page <= self.pages:
            return
        scale = self.page_view.scale
        worker = GeneratorWorker(lambda _c: pdf_locate.render(Path(self.place.path), page, scale))

        def shown(rendered) -> None:
            self.page = page
            rects = self.located.rects if self.located and self.located.page == page else []
            self.page_view.set_page(rendered, rects, self.located.size[1] if self.located else 0)
            self._update_nav()
            self.loaded.emit()

        worker.finished_with.connect(shown)
        self.jobs.start(worker)

    def _update_nav(self) -> None:
        self.page_label.setText(f"Page {self.page} of {self.pages}")
        self.prev_button.setEnabled(self.page > 1)
        self.next_button.setEnabled(self.page < self.pages)

    def _show_text(self, result) -> None:
        text, line_based = result
        self.line_based = line_based
        self.stack.setCurrentWidget(self.text)
        self.nav.hide()
        self.text.setPlainText(text)
        place, name = self.place, Path(self.place.path).name
        first, last = self._cited_block_span(text, place, line_based)
        selections = []
        if first is not None:
            for block in range(first, last + 1):
                sel = QTextEdit.ExtraSelection()
                sel.cursor = QTextCursor(self.text.document().findBlockByNumber(block))
                sel.format = QTextCharFormat()
                sel.format.setBackground(highlight_color(150))
                sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
                selections.append(sel)
            self.text.setTextCursor(QTextCursor(self.text.document().findBlockByNumber(first)))
            self.text.centerCursor()
            where = f"line {first + 1}" if first == last else f"lines {first + 1}–{last + 1}"
            self.header.setText(f"<b>{name}</b>, {where} are marked")
        else:
            self.header.setText(f"<b>{name}</b>: the cited place was not found; showing the whole file")
        self.text.setExtraSelections(selections)
        self.loaded.emit()

    @staticmethod
    def _cited_block_span(text: str, place: Place, line_based: bool) -> tuple[int | None, int | None]:
        """0-based first and last block to mark: the cited lines, or where the quote is."""
        lines = text.count("\n") + 1
        if line_based and place.line_start:
            first = min(place.line_start, lines) - 1
            return first, min(place.line_end or place.line_start, lines) - 1
        quote = " ".join(place.quote.rstrip("…").split())[:80]
        at = text.find(quote) if quote else -1
        if at < 0:
            return None, None
        first = text.count("\n", 0, at)
        return first, first + quote.count("\n")

    def highlighted_lines(self) -> list[int]:
        """1-based numbers of the marked lines (what a reader sees marked)."""
        return [sel.cursor.blockNumber() + 1 for sel in self.text.extraSelections()]

    def highlight_rects(self) -> list[pdf_locate.Rect]:
        """The marked rectangles on the shown page, in PDF points."""
        return list(self.page_view.rects)
