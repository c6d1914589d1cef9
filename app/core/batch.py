"""Batch: records stream in (JSON Lines, or the files of a folder), each one goes through the
router like any single request, and one outcome comes out per record, in order: the task's
result with its confidence and route, or the reason that record failed. A bad record never
stops the others. Nobody is there to consent, so under the "ask" policy nothing is sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.core import sources
from app.core.documents import DocumentError
from app.core.errors import HearthError
from app.core.routing.router import run
from app.core.streams import drain
from app.core.tasks.result import TaskResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    ref: dict  # what names it in the output: {"line": n} (and "id" when given) or {"file": path}
    text: str | None
    error: str | None = None  # it could not even be read

    @property
    def name(self) -> str:
        return self.ref.get("file") or f"line {self.ref['line']}"


@dataclass(frozen=True)
class Outcome:
    record: Record
    result: TaskResult | None
    error: str | None

    def as_json(self) -> dict:
        return {**self.record.ref, **(self.result.as_json() if self.result else {"error": self.error})}


def jsonl_records(lines: Iterable[bytes]) -> Iterator[Record]:
    """One record per non-blank line: {"text": …} (an "id" is carried to the output) or a bare string.
    Lines are decoded one by one, so a line that is not UTF-8 is that line's error only."""
    for n, raw in enumerate(lines, start=1):
        ref: dict = {"line": n}
        try:
            line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield Record(ref, None, f"line {n}: not UTF-8 (byte {exc.start + 1})")
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Record(ref, None, f"line {n}: not JSON ({exc.msg} at column {exc.colno})")
            continue
        if isinstance(value, dict) and "id" in value:
            ref["id"] = value["id"]
        text = value.get("text") if isinstance(value, dict) else value
        if not isinstance(text, str):
            yield Record(ref, None, f'line {n}: no "text" string (give {{"text": "..."}} or a JSON string)')
            continue
        yield Record(ref, text)


def folder_files(folder: Path) -> list[Path]:
    """Every file under the folder, hidden ones (names starting with a dot) left out."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def file_records(parser, files: Iterable[Path]) -> Iterator[Record]:
    """One record per file, parsed as ingestion parses them (in the limited child process)."""
    for path in files:
        ref = {"file": str(path)}
        try:
            text = sources.read(parser, path).text
        except DocumentError as exc:
            yield Record(ref, None, f"{path}: {exc}")
            continue
        yield Record(ref, text)


def run_batch(services, task: str, records: Iterable[Record], inputs_for: Callable[[str], dict]) -> Iterator[Outcome]:
    """The outcome of each record in turn; `inputs_for(text)` makes the task's inputs."""
    for record in records:
        if record.error is not None:
            yield Outcome(record, None, record.error)
            continue
        try:
            result = drain(run(services, task, inputs_for(record.text), consent=None))
        except HearthError as exc:
            yield Outcome(record, None, f"{record.name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - whatever one record does, the others go on
            log.warning("batch %s: %s failed", task, record.name, exc_info=True)
            yield Outcome(record, None, f"{record.name}: {type(exc).__name__}: {exc}")
        else:
            yield Outcome(record, result, None)


def csv_columns(task: str, ref_keys: list[str], schema: dict | None = None) -> list[str]:
    """A flat table: what names the record, the task's own fields, then confidence, route and error."""
    own = {"classify": ["label", "scores"], "extract": [*(schema or {}).get("properties", {}), "valid"]}.get(task, ["text"])
    return [*ref_keys, *own, "confidence", "route", "error"]


def csv_row(outcome: Outcome) -> dict:
    data = outcome.as_json()
    row = {**(data.pop("data", None) or {}), **data}  # extract: one column per schema field
    return {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in row.items()}
