"""PDF text by page through pypdf. pypdf raises far more than PdfReadError on broken files,
so every failure is caught here and turned into a one-line reason."""

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


def parse(path: Path, password: str | None = None) -> Document:
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            if not reader.decrypt(password or ""):
                if password:
                    raise NeedsPassword("wrong password")
                raise NeedsPassword("encrypted; a password is needed")
        doc = Document(path=path, kind="pdf", pages=len(reader.pages))
        for number, page in enumerate(reader.pages, start=1):
            page_text = page.extract_text() or ""
            if page_text.strip():
                doc.sections.append(Section(page_text, page=number))
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise NeedsPassword("encrypted; a password is needed") from exc
    except PdfReadError as exc:
        raise DocumentError(f"malformed PDF ({_first_line(exc)})") from exc
    except Exception as exc:  # noqa: BLE001 - pypdf raises plain Exceptions on broken files
        raise DocumentError(f"unreadable PDF ({_first_line(exc)})") from exc
    if not doc.sections:
        raise DocumentError("no extractable text (scanned or empty PDF)")
    return doc
