"""Plain text, Markdown, reStructuredText, logs and source code, as line-numbered sections that
break at natural boundaries: paragraphs and headings in prose, top-level blocks in code, entries
in logs (an entry keeps its indented continuation lines, such as a stack trace)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from app.core.documents import generated
from app.core.documents.encoding import read_text
from app.core.documents.layout import Unit, pack
from app.core.documents.model import Document, DocumentError

MARKDOWN = frozenset({".md", ".markdown"})
PROSE = MARKDOWN | {".txt", ".text", ".rst"}
LOGS = frozenset({".log"})
CODE = frozenset({
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".c", ".h", ".cpp", ".hpp", ".cc", ".hh",
    ".cxx", ".go", ".rs", ".rb", ".php", ".cs", ".swift", ".kt", ".kts", ".scala", ".lua", ".pl", ".r", ".dart",
    ".sh", ".bash", ".zsh", ".ps1", ".sql", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".properties",
    ".xml", ".css", ".scss", ".less", ".vue", ".svelte", ".tex",
})
SUFFIXES = PROSE | LOGS | CODE

_HEADING = re.compile(r"#{1,6}(\s|$)")
_FENCE = ("```", "~~~")


def parse(path: Path, password: str | None = None) -> Document:  # noqa: ARG001 - one signature for all parsers
    content = read_text(path)
    if path.suffix.lower() in CODE:
        generated.check_code(content)
    lines = content.split("\n")
    doc = Document(path=path, kind=path.suffix.lower().lstrip("."))
    doc.sections = pack(_units(lines, path.suffix.lower()))
    if not doc.sections:
        raise DocumentError("no text in file")
    return doc


def _units(lines: list[str], suffix: str) -> Iterator[Unit]:
    starts = list(_starts(lines, suffix)) + [(len(lines), False)]
    for (start, heading), (end, _) in zip(starts, starts[1:]):
        yield Unit(start + 1, tuple(lines[start:end]), heading)


def _starts(lines: list[str], suffix: str) -> Iterator[tuple[int, bool]]:
    """(index, is a heading) of each line that begins a unit."""
    in_fence = False
    for i, line in enumerate(lines):
        has_text = bool(line.strip())
        after_blank = i == 0 or not lines[i - 1].strip()
        top_level = has_text and line[0] not in " \t"
        heading = False
        if suffix in MARKDOWN:
            in_fence ^= line.lstrip().startswith(_FENCE)
            heading = not in_fence and bool(_HEADING.match(line))
        if suffix in LOGS:
            begins = top_level
        elif suffix in CODE:
            begins = top_level and after_blank
        else:
            begins = has_text and after_blank
        if i == 0 or begins or heading:
            yield i, heading
