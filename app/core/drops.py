"""What to do with things handed to Hearth: files dropped on a window, the tray popup, or given to
a second launch (`hearth FILE…`). One sorting for every front end: documents to ingest (or run a
task on), GGUF models to offer for import, and the rest listed with the reason, so nothing is
silently lost and one bad file never stops the others."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.documents.model import DocumentError
from app.core.documents.parse import stat_supported

MODEL_SUFFIX = ".gguf"
MISSING = "not found (moved or deleted?)"
NOT_LOCAL = "not a file on this computer; download it first, then drop the file"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass
class Drop:
    documents: list[Path] = field(default_factory=list)  # files and folders the library reads
    models: list[Path] = field(default_factory=list)  # .gguf files, offered for import
    refused: list[tuple[str, str]] = field(default_factory=list)  # (what was given, why it is not used)
    missing: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per item that goes nowhere, naming it and the reason."""
        return [f"{name}: {reason}" for name, reason in self.refused] + [f"{name}: {MISSING}" for name in self.missing]

    def files(self) -> list[Path]:
        """The documents with folders walked, for the tasks, which take files one by one."""
        from app.core.ingest import expand

        return expand(self.documents)


def sort_dropped(items: Iterable[str | Path], cwd: Path | None = None) -> Drop:
    """Sort paths (or the addresses of non-local URLs, as strings). Relative paths are taken from
    `cwd` (a second launch's working folder), else from this process's."""
    drop, seen = Drop(), set()
    for item in (str(i) for i in items):
        if _URL.match(item):
            drop.refused.append((item, NOT_LOCAL))
            continue
        path = Path(item).expanduser()
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        if not item or path in seen:  # the same file given twice (once relative, say) is taken once
            continue
        seen.add(path)
        if not path.exists():
            drop.missing.append(str(path))
        elif path.is_dir():
            drop.documents.append(path)
        elif path.suffix.lower() == MODEL_SUFFIX:
            drop.models.append(path)
        else:
            try:
                stat_supported(path)
            except DocumentError as exc:  # an unsupported type, a generated file, unreadable
                drop.refused.append((str(path), str(exc)))
            else:
                drop.documents.append(path)
    return drop
