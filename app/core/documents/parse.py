"""Dispatch a file to the parser for its type."""

from __future__ import annotations

from pathlib import Path

from app.core.documents import delimited, html_page, json_records, pdf, text, word
from app.core.documents.model import Document, DocumentError, Unsupported

_PARSERS = {".pdf": pdf.parse} | {
    suffix: module.parse for module in (text, html_page, word, delimited, json_records) for suffix in module.SUFFIXES
}


def supported_suffixes() -> list[str]:
    return sorted(_PARSERS)


def parse(path: Path, password: str | None = None) -> Document:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise DocumentError("file not found (moved or deleted)") from exc
    except OSError as exc:
        raise DocumentError(f"cannot read file ({exc.strerror})") from exc
    parser = _PARSERS.get(path.suffix.lower())
    if parser is None:
        raise Unsupported(f"unsupported file type {path.suffix or '(none)'}")
    if size == 0:
        raise DocumentError("empty file (0 bytes)")
    return parser(path, password)
