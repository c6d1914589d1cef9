"""HTML as readable text: no tags, no script or style, entities decoded, each block element on its
own line, table cells joined with " | ". Every piece of text keeps the source line it starts on."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from app.core.documents.encoding import read_text
from app.core.documents.layout import Unit, one_line, pack
from app.core.documents.model import Document, DocumentError

SUFFIXES = frozenset({".html", ".htm", ".xhtml"})

_HIDDEN = {"script", "style", "noscript", "template", "svg", "math"}
_HEADINGS = {"title", "h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = _HEADINGS | {
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "nav", "ol", "option", "p",
    "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
}
_CELLS = {"td", "th"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: list[Unit] = []
        self._pieces: list[str] = []
        self._line: int | None = None  # source line where the pending text starts
        self._hidden = 0
        self._pre = 0
        self._heading = False
        self._new_cell = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self._flush()
            self._heading = tag in _HEADINGS
            if tag == "pre":
                self._pre += 1
        elif tag in _CELLS:
            self._new_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self._flush()
            self._heading = False
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        line = self.getpos()[0]
        # Inside <pre> every source line is a line of text; elsewhere whitespace runs together.
        for n, piece in enumerate(data.split("\n") if self._pre else [data]):
            if n:
                self._flush()
            if piece.strip():
                if self._line is None:
                    self._line = line + n + piece[: len(piece) - len(piece.lstrip())].count("\n")
                elif self._new_cell:
                    self._pieces.append(" | ")
                self._new_cell = False
            if self._line is not None:
                self._pieces.append(piece)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = one_line("".join(self._pieces))
        if text:
            self.units.append(Unit(self._line, (text,), self._heading))
        self._pieces, self._line, self._new_cell = [], None, False


def parse(path: Path, password: str | None = None) -> Document:  # noqa: ARG001 - one signature for all parsers
    extractor = _TextExtractor()
    try:
        extractor.feed(read_text(path))
        extractor.close()
    except AssertionError as exc:  # how html.parser rejects a broken <! declaration
        raise DocumentError("malformed HTML (a broken <! declaration)") from exc
    doc = Document(path=path, kind="html", sections=pack(extractor.units))
    if not doc.sections:
        raise DocumentError("no readable text in the page")
    return doc
