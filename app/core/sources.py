"""A file's whole text as ingestion parses it, with the anchor (page or line) of every part,
so a span found in the text (say an extracted value's evidence) maps back to its place."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from app.core.documents import Document

SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Anchor:
    page: int | None
    line: int | None


@dataclass
class SourceText:
    path: Path
    text: str
    _starts: list[int]
    _sections: list  # the Document's sections, in order

    @classmethod
    def of(cls, doc: Document) -> SourceText:
        starts, parts, at = [], [], 0
        for section in doc.sections:
            starts.append(at)
            parts.append(section.text)
            at += len(section.text) + len(SEPARATOR)
        return cls(Path(doc.path), SEPARATOR.join(parts), starts, list(doc.sections))

    def anchor(self, offset: int) -> Anchor:
        """The page, or the 1-based line, of a character offset into `text`."""
        if not self._sections:
            return Anchor(None, None)
        i = max(0, bisect.bisect_right(self._starts, offset) - 1)
        section = self._sections[i]
        line = None
        if section.line_start is not None:
            line = section.line_start + section.text.count("\n", 0, max(0, offset - self._starts[i]))
        return Anchor(section.page, line)


def read(parser, path: Path) -> SourceText:
    """Parse with the given ParserProcess (a DocumentError names the reason)."""
    return SourceText.of(parser.parse(Path(path)))


def viewable_text(path: Path) -> tuple[str, bool]:
    """What the source viewer shows for a non-PDF file: the file itself when its citations carry
    file line numbers (text, code, CSV, JSON), else its parsed text (Word, HTML), and which it is."""
    from app.core.documents import delimited, json_records, text
    from app.core.documents.encoding import read_text
    from app.core.isolation import read_texts

    path = Path(path)
    if path.suffix.lower() in text.SUFFIXES | delimited.SUFFIXES | json_records.SUFFIXES:
        return read_text(path), True
    return read_texts([path]), False
