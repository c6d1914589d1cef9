"""Plain text and Markdown, split into blocks that keep their line numbers."""

from __future__ import annotations

from pathlib import Path

from app.core.documents.model import Document, DocumentError, Section

_BLOCK_LINES = 40


def parse(path: Path, password: str | None = None) -> Document:  # noqa: ARG001 - one signature for all parsers
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise DocumentError("binary content in a text file")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not valid UTF-8 text (byte {exc.start})") from exc
    lines = content.splitlines()
    doc = Document(path=path, kind=path.suffix.lower().lstrip("."))
    for start in range(0, len(lines), _BLOCK_LINES):
        block = lines[start : start + _BLOCK_LINES]
        if any(line.strip() for line in block):
            doc.sections.append(Section("\n".join(block), line_start=start + 1, line_end=start + len(block)))
    if not doc.sections:
        raise DocumentError("no text in file")
    return doc
