"""Word .docx through python-docx: body paragraphs and table rows in reading order.

A .docx has no pages or lines until Word lays it out, so its anchor is the block number: body
paragraphs and table rows counted from 1 in reading order (empty paragraphs included) stand in
for line_start/line_end, and "lines 12-15" means blocks 12 to 15.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from lxml.etree import XMLSyntaxError

from app.core.documents.layout import Unit, one_line, pack
from app.core.documents.model import Document, DocumentError

SUFFIXES = frozenset({".docx"})

# Encrypted .docx files and old binary .doc files are OLE containers, not zip packages.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def parse(path: Path, password: str | None = None) -> Document:  # noqa: ARG001 - one signature for all parsers
    with path.open("rb") as f:
        if f.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
            raise DocumentError("encrypted or old-format Word file (not a .docx package)")
    try:
        units = list(_units(docx.Document(str(path))))
    except (PackageNotFoundError, zipfile.BadZipFile) as exc:
        raise DocumentError("corrupt .docx (not a valid zip package)") from exc
    except KeyError as exc:
        raise DocumentError("corrupt .docx (a required part is missing)") from exc
    except XMLSyntaxError as exc:
        raise DocumentError(f"corrupt .docx (malformed XML: {exc.msg})") from exc
    except Exception as exc:  # noqa: BLE001 - python-docx fails on odd packages in many other ways
        raise DocumentError(f"unreadable .docx ({type(exc).__name__})") from exc
    doc = Document(path=path, kind="docx", sections=pack(units))
    if not doc.sections:
        raise DocumentError("no text in document")
    return doc


def _units(document) -> Iterator[Unit]:
    block = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                block += 1
                # Merged cells come back once per grid column, as the same object.
                cells = [one_line(cell.text) for cell in dict.fromkeys(row.cells)]
                yield Unit(block, (" | ".join(cell for cell in cells if cell),))
        else:
            block += 1
            style = getattr(item.style, "name", None) or ""
            yield Unit(block, (one_line(item.text),), heading=style.startswith(("Heading", "Title")))
