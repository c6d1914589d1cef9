"""The user's labels and their descriptions, as the CLI (`--labels a,b`, `--describe LABEL=TEXT`)
and the window (a comma-separated line; one "label: text" per line) take them: several
descriptions for one label are kept in order (classify averages them)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.tasks.result import TaskError

# The first "=" or ":" ends the label: a description may hold either ("billing: fees = charges").
_ENTRY = re.compile(r"^\s*(?P<label>[^=:\s][^=:]*?)\s*[=:]\s*(?P<text>\S.*?)\s*$")


def parse_labels(text: str) -> list[str]:
    """Comma-separated labels, trimmed, blanks dropped (classify checks that two distinct remain)."""
    return [label.strip() for label in text.split(",") if label.strip()]


def parse_descriptions(entries: Iterable[str]) -> dict[str, list[str]]:
    """Blank entries are skipped; one without a label or a text is an error that quotes it."""
    out: dict[str, list[str]] = {}
    for entry in entries:
        if not entry.strip():
            continue
        m = _ENTRY.match(entry)
        if not m:
            raise TaskError(f"{entry.strip()!r} has no label and description")
        out.setdefault(m["label"], []).append(m["text"])
    return out
