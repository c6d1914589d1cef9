"""Dispatch a file to the parser for its type."""

from __future__ import annotations

import os
from pathlib import Path

from app.core.documents import delimited, generated, html_page, json_records, pdf, text, word
from app.core.documents.model import Document, DocumentError, Unsupported

GONE = "file not found (moved or deleted)"
_PARSERS = {".pdf": pdf.parse} | {
    suffix: module.parse for module in (text, html_page, word, delimited, json_records) for suffix in module.SUFFIXES
}


def supported_suffixes() -> list[str]:
    return sorted(_PARSERS)


def stat_supported(path: Path) -> os.stat_result:
    """The file's stat, or the reason it cannot be read: an unsupported type, a generated file, or gone."""
    if path.suffix.lower() not in _PARSERS:
        raise Unsupported(f"unsupported file type {path.suffix or '(none)'}")
    generated.check_name(path)
    try:
        return path.stat()
    except FileNotFoundError as exc:
        raise DocumentError(GONE) from exc
    except OSError as exc:
        raise DocumentError(f"cannot read file ({exc.strerror})") from exc


def parse(path: Path, password: str | None = None) -> Document:
    if stat_supported(path).st_size == 0:
        raise DocumentError("empty file (0 bytes)")
    return _PARSERS[path.suffix.lower()](path, password)
