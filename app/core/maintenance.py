"""Keeping collections in step with the disk: repair, folder sync and folder watching."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from app.core.documents import supported_suffixes
from app.core.ingest import IngestReport, ProgressFn, expand, ingest

log = logging.getLogger(__name__)


def repair(services, progress: ProgressFn | None = None) -> dict[str, IngestReport]:
    """Rebuild every collection's index from the catalog and the source files."""
    reports = {}
    for collection in services.library.collections():
        records = services.library.reset_vectors(collection.name)
        reports[collection.name] = ingest(services, [Path(r.path) for r in records], collection.name, progress=progress)
    return reports


def sync_folder(services, collection: str, folder: Path, progress: ProgressFn | None = None) -> IngestReport:
    """Bring a followed folder's collection up to date: new and changed files in, deleted ones out."""
    present = {str(p.resolve()) for p in expand([folder])}
    root = str(folder.resolve())
    for record in services.library.documents(collection):
        if record.path.startswith(root + "/") and record.path not in present:
            services.library.remove_document(collection, record.path)
    return ingest(services, [Path(p) for p in sorted(present)], collection, progress=progress)


def watch(services, stop: threading.Event, on_change: Callable[[str, IngestReport | str], None] | None = None) -> None:
    """Follow every collection that has a folder until `stop` is set; catch up first."""
    from watchfiles import Change, watch as watch_changes

    followed = {Path(c.folder): c.name for c in services.library.collections() if c.folder}
    folders = [f for f in followed if f.is_dir()]
    if not folders:
        return
    caught_up = False
    # The watcher yields an empty set once it is running: catching up only then means a file
    # that arrives during the catch-up is seen by the watcher too, never missed between the two.
    for changes in watch_changes(*folders, stop_event=stop, debounce=800, step=100, rust_timeout=500, yield_on_timeout=True):
        if not caught_up:
            for folder in folders:
                report = sync_folder(services, followed[folder], folder)
                if on_change:
                    on_change(followed[folder], report)
            caught_up = True
        for folder, name in followed.items():
            touched = {Path(p) for _, p in changes if Path(p).is_relative_to(folder)}
            gone = {Path(p) for kind, p in changes if kind == Change.deleted and Path(p).is_relative_to(folder)}
            for path in gone:
                removed = not path.exists() and services.library.remove_document(name, str(path.resolve()))
                if removed and on_change:
                    on_change(name, f"removed {path}")
            fresh = [p for p in sorted(touched - gone) if p.is_file() and p.suffix.lower() in supported_suffixes()]
            if fresh:
                report = ingest(services, fresh, name)
                if on_change:
                    on_change(name, report)
