"""The evaluation dataset: JSON Lines, one case per line, one shape per task.

    {"id", "task": "classify", "input", "labels": [...], "expected"}
    {"id", "task": "extract", "input", "schema": {JSON Schema} or a built-in name, "expected": {...}}
    {"id", "task": "ask", "question", "expected": ["any of these"], "expected_source": "file" or null, "expected_page": N or null}
    {"id", "task": "summarize", "file": "path relative to --docs", "expected_keywords": [...]}

Other keys are kept but ignored (a "lang" tag, notes). A bad line is one error naming the file,
the line and the reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from app.core.errors import HearthError

TASKS = ("classify", "extract", "ask", "summarize")


class DatasetError(HearthError):
    pass


class _Case(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    id: str


class ClassifyCase(_Case):
    task: Literal["classify"]
    input: str
    labels: list[str] = Field(min_length=2)
    expected: str


class ExtractCase(_Case):
    task: Literal["extract"]
    input: str
    schema_: dict | str = Field(alias="schema")
    expected: dict


class AskCase(_Case):
    task: Literal["ask"]
    question: str
    expected: list[str] = []
    expected_source: str | None = None
    expected_page: int | None = None


class SummarizeCase(_Case):
    task: Literal["summarize"]
    file: str
    expected_keywords: list[str] = Field(min_length=1)


Case = Annotated[ClassifyCase | ExtractCase | AskCase | SummarizeCase, Field(discriminator="task")]
_CASE = TypeAdapter(Case)


def load(paths: list[Path]) -> list[Case]:
    cases, seen = [], set()
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: cannot read the dataset ({exc})") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                case = _CASE.validate_python(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise DatasetError(f"{path}:{number}: {where}: {first['msg']}") from exc
            if case.id in seen:
                raise DatasetError(f"{path}:{number}: the id {case.id!r} is used twice")
            seen.add(case.id)
            cases.append(case)
    if not cases:
        raise DatasetError(f"no cases in {', '.join(map(str, paths))}")
    return cases
