"""Ingestion: files → sections → chunks → vectors, recorded in the catalog.

Every file ends with a status and, when it failed, a one-line reason; one bad file never stops
the batch. An unchanged file (same content hash) costs a hash check and nothing more, and so does
an unchanged file that failed before: its failure is reported again without parsing it again,
unless the caller asks to retry failures. Parsing runs in the parser child process one file
ahead, so it overlaps with embedding, and a file's chunks are embedded and stored in slices so a
huge file never holds all its vectors in memory at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.core.chunking import chunk_document
from app.core.documents import Document, DocumentError, stat_supported, supported_suffixes
from app.core.documents.parse import GONE
from app.core.hashing import sha256_file
from app.core.store.catalog import DocumentRecord
from app.core.store.server import StoreUnavailable
from app.core.streams import drain

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    path: str
    status: str  # indexed | unchanged | error | needs password | skipped
    error: str | None = None
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    known: bool = False  # a failure recorded for this same content earlier, not tried again


# Outcomes that are not failures: a skip is a decision with its reason (say, a generated file).
_FINE = ("indexed", "unchanged", "skipped")
# Failures that the same bytes would only repeat; "interrupted" is not one (it is redone).
_REPEATABLE = ("error", "skipped", "needs password")


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def failed(self) -> bool:
        return any(f.status not in _FINE for f in self.files)

    def as_json(self) -> dict:
        return {
            "files": [asdict(f) for f in self.files],
            "indexed": self.count("indexed"),
            "unchanged": self.count("unchanged"),
            "skipped": self.count("skipped"),
            "errors": sum(1 for f in self.files if f.status not in _FINE),
            "known_failures": sum(1 for f in self.files if f.known),
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


@dataclass
class _Job:
    """One file on its way through: checked, then parsed in the child, then embedded."""

    path: Path
    record: DocumentRecord
    outcome: FileOutcome
    started: float
    parsing: bool = False


def _start(services, path: Path, collection: str, password: str | None, retry_failed: bool) -> _Job:
    key = str(path.resolve())
    job = _Job(path, DocumentRecord(collection, key, path.name, None, None, None, "error", None, 0, 0, 0.0, 0.0),
               FileOutcome(str(path), "error"), time.perf_counter())
    try:
        stat = stat_supported(path)
        job.record.size, job.record.mtime = stat.st_size, stat.st_mtime
        job.record.sha256 = sha256_file(path)
        previous = services.library.document(collection, key)
        if previous and previous.sha256 == job.record.sha256 and previous.status == "indexed":
            job.outcome.status, job.outcome.pages, job.outcome.chunks = "unchanged", previous.pages, previous.chunks
            return job
        if previous and previous.sha256 == job.record.sha256 and previous.status in _REPEATABLE and not retry_failed \
                and not (previous.status == "needs password" and password):
            job.outcome.status, job.outcome.error, job.outcome.known = previous.status, previous.error, True
            return job
        services.parser.submit(path, password)
        job.parsing = True
    except DocumentError as exc:
        job.outcome.status, job.outcome.error = exc.status, str(exc)
    except FileNotFoundError:  # deleted between its stat and its hash
        job.outcome.error = GONE
    except StoreUnavailable as exc:  # the catalog lives on a server that went away
        job.outcome.error = str(exc)
    except OSError as exc:
        job.outcome.error = f"cannot read file ({exc.strerror or exc})"
    return job


def _collect(services, job: _Job) -> Document | DocumentError | None:
    """The parse result for a job (frees the parser for the next file)."""
    if not job.parsing:
        return None
    try:
        return services.parser.result()
    except DocumentError as exc:
        return exc


def _finish(services, job: _Job, parsed: Document | DocumentError | None) -> FileOutcome:
    outcome, record = job.outcome, job.record
    if parsed is not None:
        try:
            if isinstance(parsed, DocumentError):
                raise parsed
            doc = parsed
            rs = services.settings.retrieval
            chunks = chunk_document(doc, services.embedder.tokenizer, rs.chunk_tokens, rs.chunk_overlap)
            vectors = services.embedder.embed([c.text for c in chunks])
            record.status, record.pages, record.chunks = "indexed", doc.pages, len(chunks)
            record.error = "; ".join(doc.warnings)[:500] or None
            services.library.store_document(record, chunks, vectors, doc_id=record.sha256[:16])
            outcome.status, outcome.pages, outcome.chunks, outcome.error = "indexed", doc.pages, len(chunks), record.error
        except DocumentError as exc:
            outcome.status, outcome.error = exc.status, str(exc)
        except OSError as exc:
            outcome.status, outcome.error = "error", f"could not store it ({exc.strerror or exc})"
        except Exception as exc:  # noqa: BLE001 - one file's failure must not end the batch
            log.exception("ingest failed for %s", job.path)
            outcome.status, outcome.error = "error", f"could not store it ({type(exc).__name__}: {str(exc)[:200]})"
    outcome.seconds = round(time.perf_counter() - job.started, 3)
    if outcome.status not in ("unchanged", "indexed") and not outcome.known:
        record.status, record.error, record.pages, record.chunks = outcome.status, outcome.error, 0, 0
        record.seconds, record.updated_at = outcome.seconds, time.time()
        try:
            services.library.record(record)
        except Exception:  # noqa: BLE001 - e.g. a full disk; the outcome still reports it
            log.exception("could not record the outcome for %s", job.path)
    return outcome


def ingest_iter(services, inputs: Iterable[Path], collection: str, password: str | None = None,
                retry_failed: bool = False) -> Generator[Progress, None, IngestReport]:
    """Ingest, yielding a Progress as each file starts and ends; returns the report.
    One batch at a time per process: the parser child takes one file at a time. `retry_failed`
    parses again the files whose earlier failure is recorded for their current content."""
    with services.ingest_lock:
        started = time.perf_counter()
        services.library.collection(collection, create=True)
        files = expand(inputs)
        report = IngestReport()
        job = _start(services, files[0], collection, password, retry_failed) if files else None
        try:
            for n, path in enumerate(files):
                yield Progress(n, len(files), str(path), None, None)
                assert job is not None
                current, parsed = job, _collect(services, job)
                # The next file parses in the child while this one is embedded here.
                job = _start(services, files[n + 1], collection, password, retry_failed) if n + 1 < len(files) else None
                outcome = _finish(services, current, parsed)
                report.files.append(outcome)
                elapsed = time.perf_counter() - started
                yield Progress(n + 1, len(files), str(path), outcome, elapsed / (n + 1) * (len(files) - n - 1))
        finally:
            if job is not None and job.parsing:  # abandoned mid-batch: drop the parse in flight
                services.parser.close()
        if report.count("indexed"):  # rebuilt now, so the first question after an ingest does not wait for it
            try:
                services.library.keyword_index(collection)
            except StoreUnavailable:
                log.warning("keyword index not rebuilt: the store server went away; the first question rebuilds it")
        report.seconds = time.perf_counter() - started
        return report


def ingest(services, inputs: Iterable[Path], collection: str, password: str | None = None,
           progress: ProgressFn | None = None, retry_failed: bool = False) -> IngestReport:
    return drain(ingest_iter(services, inputs, collection, password, retry_failed), progress)
