"""Ingestion: files → sections → chunks → vectors, recorded in the catalog.

Every file ends with a status and, when it failed, a one-line reason; one bad file never stops
the batch. An unchanged file (same content hash) costs a hash check and nothing more.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.core.chunking import chunk_document
from app.core.documents import DocumentError, parse, supported_suffixes
from app.core.store.catalog import DocumentRecord
from app.core.streams import drain


@dataclass
class FileOutcome:
    path: str
    status: str  # indexed | unchanged | error | needs password | skipped
    error: str | None = None
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def failed(self) -> bool:
        return any(f.status not in ("indexed", "unchanged") for f in self.files)

    def as_json(self) -> dict:
        return {
            "files": [asdict(f) for f in self.files],
            "indexed": self.count("indexed"),
            "unchanged": self.count("unchanged"),
            "errors": sum(1 for f in self.files if f.status not in ("indexed", "unchanged")),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    file: str
    outcome: FileOutcome | None  # None when the file is starting
    eta_s: float | None


ProgressFn = Callable[[Progress], None]


def expand(inputs: Iterable[Path]) -> list[Path]:
    """Files as given, folders walked recursively for the types we read."""
    suffixes = set(supported_suffixes())
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in suffixes)
        else:
            files.append(path)
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def ingest_file(services, path: Path, collection: str, password: str | None = None) -> FileOutcome:
    started = time.perf_counter()
    key = str(path.resolve())
    outcome = FileOutcome(path=str(path), status="error")
    sha = size = mtime = None
    try:
        stat = path.stat()
        size, mtime = stat.st_size, stat.st_mtime
        sha = _sha256(path)
        previous = services.catalog.get(collection, key)
        if previous and previous.sha256 == sha and previous.status == "indexed":
            outcome.status, outcome.pages, outcome.chunks = "unchanged", previous.pages, previous.chunks
            return outcome
        doc = parse(path, password)
        rs = services.settings.retrieval
        chunks = chunk_document(doc, services.embedder.tokenizer, rs.chunk_tokens, rs.chunk_overlap)
        vectors = services.embedder.embed([c.text for c in chunks])
        services.store.replace_document(collection, key, chunks, vectors, doc_id=sha[:16])
        outcome.status, outcome.pages, outcome.chunks = "indexed", doc.pages, len(chunks)
    except DocumentError as exc:
        outcome.status, outcome.error = exc.status, str(exc)
    except OSError as exc:
        outcome.error = f"cannot read file ({exc.strerror or exc})"
    finally:
        outcome.seconds = round(time.perf_counter() - started, 3)
    if outcome.status != "unchanged":
        services.catalog.put(DocumentRecord(collection, key, path.name, sha, size, mtime, outcome.status, outcome.error,
                                            outcome.pages, outcome.chunks, outcome.seconds, time.time()))
    return outcome


def ingest_iter(services, inputs: Iterable[Path], collection: str, password: str | None = None) -> Generator[Progress, None, IngestReport]:
    """Ingest, yielding a Progress as each file starts and ends; returns the report."""
    started = time.perf_counter()
    files = expand(inputs)
    report = IngestReport()
    for n, path in enumerate(files):
        yield Progress(n, len(files), str(path), None, None)
        outcome = ingest_file(services, path, collection, password)
        report.files.append(outcome)
        elapsed = time.perf_counter() - started
        yield Progress(n + 1, len(files), str(path), outcome, elapsed / (n + 1) * (len(files) - n - 1))
    report.seconds = time.perf_counter() - started
    return report


def ingest(services, inputs: Iterable[Path], collection: str, password: str | None = None,
           progress: ProgressFn | None = None) -> IngestReport:
    return drain(ingest_iter(services, inputs, collection, password), progress)
