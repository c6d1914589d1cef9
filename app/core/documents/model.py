from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Section:
    """A run of text with its anchor: a PDF page, or a line span of a text file."""

    text: str
    page: int | None = None  # 1-based
    line_start: int | None = None  # 1-based, inclusive
    line_end: int | None = None


@dataclass
class Document:
    path: Path
    kind: str
    sections: list[Section] = field(default_factory=list)
    pages: int = 0
    warnings: list[str] = field(default_factory=list)  # parts that could not be read (say, one bad page)



class DocumentError(Exception):
    """A file that cannot be read; str() is a one-line reason naming no internals."""

    status = "error"


class NeedsPassword(DocumentError):
    status = "needs password"


class Unsupported(DocumentError):
    status = "skipped"
