"""JSON and JSON Lines as whole records, each rendered as compact text ("name: Ada; tags: [x, y]")
at the line where it starts. A top-level array gives one record per element, an object one per
key, JSON Lines one per line; a record too big for a section is split into its members."""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.core.documents.encoding import read_text
from app.core.documents.layout import SECTION_CHARS, Unit, one_line, pack
from app.core.documents.model import Document, DocumentError

LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})
SUFFIXES = LINES_SUFFIXES | {".json"}

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def parse(path: Path, password: str | None = None) -> Document:  # noqa: ARG001 - one signature for all parsers
    content = read_text(path)
    lines = path.suffix.lower() in LINES_SUFFIXES
    try:
        units = list(_json_lines(content) if lines else _json_document(content))
    except json.JSONDecodeError as exc:
        raise _invalid(exc, exc.lineno) from exc
    except RecursionError as exc:
        raise DocumentError("JSON nested too deeply to read") from exc
    doc = Document(path=path, kind=path.suffix.lower().lstrip("."), sections=pack(units))
    if not doc.sections:
        raise DocumentError("no records in file")
    return doc


def _json_lines(content: str) -> Iterator[Unit]:
    for number, line in enumerate(content.split("\n"), start=1):
        if line.strip():
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise _invalid(exc, number) from exc
            yield Unit(number, (_record("", value),))


def _invalid(exc: json.JSONDecodeError, line: int) -> DocumentError:
    return DocumentError(f"invalid JSON at line {line}, column {exc.colno}: {exc.msg}")


def _json_document(content: str) -> Iterator[Unit]:
    root = json.loads(content)  # validates the whole text first, so the scan below meets no errors
    first = _SPACE.match(content).end()
    newlines = [m.start() for m in re.finditer("\n", content)]
    if isinstance(root, (dict, list)):
        yield from _members_as_units(content, first, "", newlines)
    else:
        yield Unit(_line_at(newlines, first), (_record("", root),))


def _line_at(newlines: list[int], offset: int) -> int:
    return bisect_left(newlines, offset) + 1  # newlines before the offset, plus one


def _members_as_units(content: str, at: int, path: str, newlines: list[int]) -> Iterator[Unit]:
    for key, start, value_at, end, value in _members(content, at):
        member = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
        if isinstance(value, (dict, list)) and value and end - value_at > SECTION_CHARS:
            yield from _members_as_units(content, value_at, member, newlines)
        else:
            # Elements of a top-level array need no label; everything else says where it sits.
            label = "" if not path and isinstance(key, int) else member
            yield Unit(_line_at(newlines, start), (_record(label, value),))


def _members(content: str, at: int) -> Iterator[tuple[str | int, int, int, int, Any]]:
    """(key or index, member start, value start, value end, value) for the array or object at `at`."""
    is_object = content[at] == "{"
    i = _SPACE.match(content, at + 1).end()
    index = 0
    while content[i] not in "]}":
        start = i
        key: str | int = index
        if is_object:
            key, i = _DECODER.raw_decode(content, i)
            i = _SPACE.match(content, _SPACE.match(content, i).end() + 1).end()  # past the colon
        value, end = _DECODER.raw_decode(content, i)
        yield key, start, i, end, value
        i = _SPACE.match(content, end).end()
        if content[i] == ",":
            i = _SPACE.match(content, i + 1).end()
        index += 1


def _record(label: str, value: Any) -> str:
    """One line of text, whatever line breaks the keys and strings hold."""
    body = _fields(value) if isinstance(value, dict) else _compact(value)
    return one_line(f"{label}: {body}" if label else body)


def _fields(obj: dict) -> str:
    return "; ".join(f"{key}: {_compact(value)}" for key, value in obj.items())


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + _fields(value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(item) for item in value) + "]"
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers, true, false, null
