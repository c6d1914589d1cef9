"""CSV and TSV: whole rows per section, each row spelled out against the header
("name: Ada; role: engineer") so that any chunk of rows describes itself. The first non-empty
row is taken as the header; a row keeps the line number it starts on in the file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path

from app.core.documents.encoding import read_text
from app.core.documents.layout import Unit, one_line, pack
from app.core.documents.model import Document, DocumentError

SUFFIXES = frozenset({".csv", ".tsv"})

_SNIFF_CHARS = 64 * 1024
_DELIMITERS = ",;\t|"


def parse(path: Path, password: str | None = None) -> Document:  # noqa: ARG001 - one signature for all parsers
    content = read_text(path)
    doc = Document(path=path, kind=path.suffix.lower().lstrip("."))
    doc.sections = pack(_rows(content, _dialect(content, path.suffix.lower())))
    if not doc.sections:
        raise DocumentError("no data rows (only a header, or empty)")
    return doc


def _dialect(content: str, suffix: str) -> type[csv.Dialect]:
    if suffix == ".tsv":
        return csv.excel_tab
    sample = content[:_SNIFF_CHARS]
    if len(content) > _SNIFF_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample  # a cut row would mislead the sniffer
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:  # one column, or too irregular to tell: plain commas
        return csv.excel


def _rows(content: str, dialect: type[csv.Dialect]) -> Iterator[Unit]:
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    header: list[str] | None = None
    read = 0  # lines consumed so far; the next row starts on line read + 1
    try:
        for row in reader:
            line, read = read + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [one_line(name) for name in row]
                continue
            yield Unit(line, (_render(header, row),))
    except csv.Error as exc:
        raise DocumentError(f"malformed CSV at line {reader.line_num}: {exc}") from exc


def _render(header: list[str], row: list[str]) -> str:
    pairs = zip_longest(header, row, fillvalue="")
    return "; ".join(f"{name or f'column {n}'}: {one_line(value)}"
                     for n, (name, value) in enumerate(pairs, start=1) if value.strip())
