"""PDF text by page through pypdf. pypdf raises far more than PdfReadError on broken files
(DependencyError, DeprecationError, bare ValueErrors), so every failure is caught here and
turned into a one-line reason. This runs inside the parser child process (app.core.isolation).

Running heads and feet (a title and page number printed on every page) are dropped: quoted as
evidence they answer nothing, and they would make every page look alike to retrieval.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from app.core.documents.model import Document, DocumentError, NeedsPassword, Section

# pypdf logs a warning per odd object; some real files emit thousands.
logging.getLogger("pypdf").setLevel(logging.ERROR)

EDGE_LINES = 2  # lines at the top and at the bottom of a page where a running head or foot may sit
RUNNING_SHARE = 0.2  # a line there, numbers aside, on at least this share of the pages is running
RUNNING_WORDS = 12  # and short: a head is a title and a number, not a sentence of the body
_DIGITS = re.compile(r"\d+")
_LEADER = re.compile(r"(?: ?\.){4,}")  # a table of contents' dot leaders


def _shape(line: str) -> str:
    """A line with its numbers blanked: "gnuplot 5.4 51" and "gnuplot 5.4 52" are one running head."""
    return " ".join(_DIGITS.sub("#", line).lower().split())


def _edges(lines: list[str]) -> list[tuple[int, tuple[str, str]]]:
    """(index, (band, shape)) of the lines where a running head or foot may be; none on a page too
    short to have a body between them."""
    if len(lines) <= 2 * EDGE_LINES:
        return []
    top = [(i, "top") for i in range(EDGE_LINES)]
    bottom = [(i, "bottom") for i in range(max(EDGE_LINES, len(lines) - EDGE_LINES), len(lines))]
    return [(i, (band, _shape(lines[i]))) for i, band in top + bottom]


def drop_running_lines(pages: list[str]) -> list[str]:
    """The pages without the head and foot lines that repeat (numbers aside) on many pages."""
    split = [text.split("\n") for text in pages]
    seen = Counter(edge for lines in split for edge in {e for _, e in _edges(lines)})
    running = {edge for edge, n in seen.items()
               if edge[1] and len(edge[1].split()) <= RUNNING_WORDS and n >= max(3, RUNNING_SHARE * len(pages))}
    out = []
    for lines in split:
        drop = {i for i, edge in _edges(lines) if edge in running}
        out.append(_LEADER.sub(" …", "\n".join(line for i, line in enumerate(lines) if i not in drop)))
    return out


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
    texts: list[str] = []
    for number in range(1, doc.pages + 1):
        try:  # one broken page must not cost the rest of the document
            texts.append(reader.pages[number - 1].extract_text() or "")
        except Exception as exc:  # noqa: BLE001
            failures.append(f"page {number}: {_first_line(exc)}")
            texts.append("")
    for number, text in enumerate(drop_running_lines(texts), start=1):
        if text.strip():
            doc.sections.append(Section(text, page=number))
    if not doc.sections:
        if failures:
            raise DocumentError(f"no page could be read ({failures[0]})")
        raise DocumentError("no extractable text (scanned or empty PDF)")
    doc.warnings = failures
    return doc
