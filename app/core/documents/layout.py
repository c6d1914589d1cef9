"""Packing units of text (paragraphs, table rows, JSON records) into line-numbered sections.

The invariant every section keeps: its text line k comes from source line `line_start + k`, because
chunking derives a chunk's line span from the section's first line plus the newlines before it.
A unit that spans several source lines but renders as one line (a CSV row with a quoted line
break, a pretty-printed JSON record) is followed by blank lines to keep the count; units that
share a source line (a minified JSON array) share a text line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from app.core.documents.model import Section

# About one default chunk (200 tokens): small enough that natural boundaries become chunk boundaries.
SECTION_CHARS = 800
_SAME_LINE = " | "


@dataclass(frozen=True)
class Unit:
    """Text that should not be split: lines[i] is source line `line + i` (1-based)."""

    line: int
    lines: tuple[str, ...]
    heading: bool = False  # always starts a new section
    keep_with_next: bool = False  # never ends a section (a table's header row, a <dt> before its <dd>)

    @property
    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)


def one_line(text: str) -> str:
    return " ".join(text.split())


def pack(units: Iterable[Unit], budget: int = SECTION_CHARS) -> list[Section]:
    """Consecutive units (in source order) grouped into sections of about `budget` characters."""
    sections: list[Section] = []
    rows: list[str] = []
    first = size = 0
    glued = False  # the previous unit asked to stay with this one
    for unit in (piece for unit in units for piece in _pieces(unit, budget)):
        if rows and (unit.heading or (size + unit.size > budget and not glued)):
            sections.extend(_section(rows, first))
            rows, size = [], 0
        glued = unit.keep_with_next
        if not rows:
            first = unit.line
        gap = unit.line - (first + len(rows))
        if gap < 0:  # starts on the current last line
            rows[-1] += _SAME_LINE + unit.lines[0]
            rows.extend(unit.lines[1:])
        else:
            rows.extend([""] * gap + list(unit.lines))
        size += unit.size + gap
    sections.extend(_section(rows, first))
    return sections


def _pieces(unit: Unit, budget: int) -> Iterator[Unit]:
    """An oversized multi-line unit cut at line boundaries; a single long line stays whole."""
    start = size = 0
    for i, line in enumerate(unit.lines):
        if i > start and size + len(line) + 1 > budget:
            yield Unit(unit.line + start, unit.lines[start:i], unit.heading and start == 0)
            start, size = i, 0
        size += len(line) + 1
    yield Unit(unit.line + start, unit.lines[start:], unit.heading and start == 0, unit.keep_with_next)


def _section(rows: list[str], first: int) -> list[Section]:
    """The rows as a section, blank lines trimmed from both ends; none when nothing is left."""
    text_rows = [i for i, row in enumerate(rows) if row.strip()]
    if not text_rows:
        return []
    top, bottom = text_rows[0], text_rows[-1]
    return [Section("\n".join(rows[top : bottom + 1]), line_start=first + top, line_end=first + bottom)]
