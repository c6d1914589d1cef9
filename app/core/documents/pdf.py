"""PDF text by page through pypdf. pypdf raises far more than PdfReadError on broken files
(DependencyError, DeprecationError, bare ValueErrors), so every failure is caught here and
turned into a one-line reason. This runs inside the parser child process (app.core.isolation)."""

from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from app.core.documents.model import Document, DocumentError, NeedsPassword, Section

# pypdf logs a warning per odd object; some real files emit thousands.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _open(path: Path, password: str | None) -> PdfReader:
    reader = PdfReader(path, strict=False)
    if reader.is_encrypted and not reader.decrypt(password or ""):
        raise NeedsPassword("wrong password" if password else "encrypted; a password is needed")
    return reader


def parse(path: Path, password: str | None = None) -> Document:
    try:
        reader = _open(path, password)
        doc = Document(path=path, kind="pdf", pages=len(reader.pages))
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise NeedsPassword("encrypted; a password is needed") from exc
    except PdfReadError as exc:
        raise DocumentError(f"malformed PDF ({_first_line(exc)})") from exc
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        raise DocumentError(f"unreadable PDF ({_first_line(exc)})") from exc
    failures: list[str] = []
    for number in range(1, doc.pages + 1):
        try:  # one broken page must not cost the rest of the document
            text = reader.pages[number - 1].extract_text() or ""
        except Exception as exc:  # noqa: BLE001
            failures.append(f"page {number}: {_first_line(exc)}")
            continue
        if text.strip():
            doc.sections.append(Section(text, page=number))
    if not doc.sections:
        if failures:
            raise DocumentError(f"no page could be read ({failures[0]})")
        raise DocumentError("no extractable text (scanned or empty PDF)")
    doc.warnings = failures
    return doc
