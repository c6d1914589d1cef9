"""HTML as readable text that keeps the page's structure. Every piece of text keeps the source line
it starts on.

- No tags, script, style or navigation (menus, sidebars, footers, permalink marks): on a site of
  generated pages those repeat on every page and would be found before the content.
- Each block element on its own line; a code block (<pre>) stays one unit with its indentation.
- A table row is one line, spelled out against the table's header row ("Directive: %a; Meaning:
  Weekday as locale's abbreviated name."), as CSV rows are, so any chunk of rows describes itself.
- A definition term (<dt>, such as a function's signature) is kept with the first block of its
  definition, so a chunk never holds a signature without what it means.

A long page that is nearly all links (a generated index, a whole-site table of contents) is
skipped with that reason: it answers nothing, and its thousands of names would be found by
keyword search before the pages they point to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from app.core.documents.encoding import read_text
from app.core.documents.layout import Unit, one_line, pack
from app.core.documents.model import Document, DocumentError, Unsupported

SUFFIXES = frozenset({".html", ".htm", ".xhtml"})

_HIDDEN = {"script", "style", "noscript", "template", "svg", "math", "nav"}
_HIDDEN_ROLES = {"navigation", "search"}
_HIDDEN_CLASSES = {"headerlink", "sphinxsidebar", "related", "footer", "mobile-nav"}
_HEADINGS = {"title", "h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = _HEADINGS | {
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "ol", "option", "p",
    "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
}
_CELLS = {"td", "th"}
LINK_PAGE_CHARS, LINK_PAGE_SHARE = 5_000, 0.8  # a page at least this long, with this share of its text in links


@dataclass
class _Table:
    header: list[str] | None = None
    row: list[str] | None = None  # cells of the row being read
    row_line: int = 0
    all_heads: bool = True  # every cell of the row so far is a <th>
    in_head: bool = False  # inside <thead>
    cell: list[str] | None = None  # text pieces of the cell being read
    rows: list[Unit] = field(default_factory=list)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: list[Unit] = []
        self._pieces: list[str] = []
        self._line: int | None = None  # source line where the pending text starts
        self._skip: list = []  # [tag, depth] of the hidden element being skipped
        self._pre = False
        self._heading = False
        self._term = False  # the pending text is a <dt>
        self._tables: list[_Table] = []
        self._in_link = 0
        self.text_chars = self.link_chars = 0

    # -- tags ------------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs) -> None:
        if self._skip:
            self._skip[1] += tag == self._skip[0]
            return
        attributes = dict(attrs)
        if tag in _HIDDEN or attributes.get("role") in _HIDDEN_ROLES or _HIDDEN_CLASSES & set((attributes.get("class") or "").split()):
            self._skip = [tag, 1]
            return
        self._in_link += tag == "a"
        table = self._tables[-1] if self._tables else None
        if tag == "table":
            self._flush()
            self._tables.append(_Table())
        elif table is not None and tag in ("tr", "thead"):
            self._end_row(table)
            table.in_head = tag == "thead" or table.in_head
            if tag == "tr":
                table.row, table.row_line, table.all_heads = [], self.getpos()[0], True
        elif table is not None and tag in _CELLS:
            self._end_cell(table)
            if table.row is None:
                table.row, table.row_line, table.all_heads = [], self.getpos()[0], True
            table.cell, table.all_heads = [], table.all_heads and tag == "th"
        elif table is not None and table.cell is not None:
            if tag in _BLOCKS:
                table.cell.append(" ")
        elif tag in _BLOCKS:
            self._flush()
            self._heading, self._term = tag in _HEADINGS, tag == "dt"
            self._pre = tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[0]:
                self._skip[1] -= 1
                if not self._skip[1]:
                    self._skip = []
            return
        self._in_link -= tag == "a" and self._in_link > 0
        table = self._tables[-1] if self._tables else None
        if tag == "table" and table is not None:
            self._end_row(table)
            self._tables.pop()
            self.units.extend(table.rows)
        elif table is not None and tag in _CELLS | {"tr", "thead"}:
            self._end_cell(table)
            if tag != "td" and tag != "th":
                self._end_row(table)
            if tag == "thead":
                table.in_head = False
        elif table is not None and table.cell is not None:
            if tag in _BLOCKS:
                table.cell.append(" ")
        elif tag in _BLOCKS:
            self._flush()
            self._heading = self._pre = False

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        visible = len(data.strip())
        self.text_chars += visible
        self.link_chars += visible if self._in_link else 0
        table = self._tables[-1] if self._tables else None
        if table is not None:
            if table.cell is not None:
                table.cell.append(data)
            return
        if self._line is None:
            if not data.strip():
                return
            head = data[: len(data) - len(data.lstrip())]
            self._line = self.getpos()[0] + head.count("\n")
            if self._pre:  # a code block keeps its first line's indentation, not the blank lines before it
                data = data[head.rfind("\n") + 1 :]
        self._pieces.append(data)

    def close(self) -> None:
        super().close()
        while self._tables:
            self.handle_endtag("table")
        self._flush()

    # -- units -----------------------------------------------------------------------------------
    def _flush(self) -> None:
        text = "".join(self._pieces)
        if self._pre:
            lines = tuple(line.rstrip() for line in text.rstrip().split("\n"))
            if any(lines):
                self.units.append(Unit(self._line, lines))
        elif one_line(text):
            self.units.append(Unit(self._line, (one_line(text),), self._heading, keep_with_next=self._term or self._heading))
        self._pieces, self._line, self._term = [], None, False

    def _end_cell(self, table: _Table) -> None:
        if table.cell is not None and table.row is not None:
            table.row.append(one_line("".join(table.cell)))
        table.cell = None

    def _end_row(self, table: _Table) -> None:
        self._end_cell(table)
        cells, table.row = table.row, None
        if not cells or not any(cells):
            return
        if table.header is None and (table.in_head or table.all_heads):
            table.header = cells
            text = " | ".join(c for c in cells if c)
        elif table.header and len(table.header) == len(cells):
            text = "; ".join(f"{h}: {c}" if h else c for h, c in zip(table.header, cells) if c)
        else:
            text = " | ".join(c for c in cells if c)
        table.rows.append(Unit(table.row_line, (text,), keep_with_next=table.header is cells))


def parse(path: Path, password: str | None = None) -> Document:  # noqa: ARG001 - one signature for all parsers
    extractor = _TextExtractor()
    try:
        extractor.feed(read_text(path))
        extractor.close()
    except AssertionError as exc:  # how html.parser rejects a broken <! declaration
        raise DocumentError("malformed HTML (a broken <! declaration)") from exc
    if extractor.text_chars >= LINK_PAGE_CHARS and extractor.link_chars >= LINK_PAGE_SHARE * extractor.text_chars:
        share = extractor.link_chars / extractor.text_chars
        raise Unsupported(f"skipped: a page of links ({share:.0%} of its text), such as an index or a table of contents, not prose")
    doc = Document(path=path, kind="html", sections=pack(extractor.units))
    if not doc.sections:
        raise DocumentError("no readable text in the page")
    return doc
