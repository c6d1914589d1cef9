"""The catalog and the vectors, kept consistent with each other.

Every write runs on one writer thread (Chroma is thread-safe, but the catalog-then-vectors
sequence must not interleave between two ingests). A document is marked `pending` before its
chunks are written and `indexed` after; recovery at open removes the chunks of any document a
crash left pending, and marks it `interrupted` so the next ingest redoes it; queries never see
the chunks of a pending document. The keyword index of a collection is derived from both and
rebuilt whenever the catalog changed (see keywords).

The store is embedded in the data folder (a SQLite catalog beside it), or a team's Chroma server
that holds the catalog too (see shared_catalog): there, a writer first claims the document's
lease, so two clients storing one file take turns, and the second finds it already stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from app.core import paths
from app.core.chunking import Chunk
from app.core.errors import HearthError
from app.core.lock import DataLock
from app.core.store import DEFAULT_COLLECTION
from app.core.store.catalog import Catalog, Collection, DocumentRecord
from app.core.store.keywords import KeywordIndex, stamp
from app.core.store.vectors import Hit, VectorStore

log = logging.getLogger(__name__)

INTERRUPTED = "ingest was interrupted; it will be re-ingested"
_NAME = re.compile(r"^[^\x00-\x1f/\\]{1,64}$")
_CLAIM_POLL_S = 0.25  # how often a writer looks again at a document another client is writing


class CollectionError(HearthError):
    pass


class Library:
    def __init__(self, server_url: str = "") -> None:
        """The embedded store, or with `server_url` the team store on that Chroma server."""
        self._lock = DataLock(paths.data_dir())  # the keyword indexes stay local either way
        self._lock.acquire()
        self.server_url = server_url
        try:
            if server_url:
                from app.core.store import server
                from app.core.store.shared_catalog import SharedCatalog

                self._guard = lambda: server.guarded(server_url)
                client = server.connect(server_url)
                with self._guard():
                    self.catalog = SharedCatalog(client)
                    self.vectors = VectorStore(client=client)
            else:
                self._guard = nullcontext
                self.catalog = Catalog(paths.catalog_db())
                self.vectors = VectorStore(paths.store_dir())
        except BaseException:
            self._lock.release()
            raise
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._keywords: dict[str, KeywordIndex] = {}  # by collection key; only the writer thread changes it
        self.recovered = self._write(self._recover)

    def _write(self, fn, *args):
        with self._guard():
            return self._writer.submit(fn, *args).result()

    def _recover(self) -> list[str]:
        recovered = []
        for record in self.catalog.with_status("pending"):
            collection = self.catalog.collection(record.collection)
            if collection is not None:
                if not self.catalog.try_claim(collection.key, record.path):
                    continue  # another client of the shared store is writing it right now
                self.vectors.delete_document(collection.key, record.path)
            record.status, record.error, record.chunks = "interrupted", INTERRUPTED, 0
            self.catalog.put(record)
            if collection is not None:
                self.catalog.release(collection.key, record.path)
            recovered.append(record.path)
        return recovered

    # -- collections -------------------------------------------------------------------------
    def collections(self) -> list[Collection]:
        with self._guard():
            return self.catalog.collections()

    def collection(self, name: str, create: bool = False) -> Collection:
        with self._guard():
            found = self.catalog.collection(name)
        if found is None and (create or name == DEFAULT_COLLECTION):
            _check_name(name)
            found = self._write(self.catalog.create_collection, name)
        if found is None:
            known = ", ".join(c.name for c in self.collections()) or "none"
            raise CollectionError(f"no collection named {name!r} (collections: {known})")
        return found

    def create_collection(self, name: str, folder: str | None = None) -> Collection:
        _check_name(name)
        if self.catalog.collection(name) is not None:
            raise CollectionError(f"a collection named {name!r} already exists")
        return self._write(self.catalog.create_collection, name, folder)

    def rename_collection(self, old: str, new: str) -> None:
        self.collection(old)
        _check_name(new)
        if self.catalog.collection(new) is not None:
            raise CollectionError(f"a collection named {new!r} already exists")
        self._write(self.catalog.rename_collection, old, new)

    def delete_collection(self, name: str) -> None:
        key = self.collection(name).key
        self._write(lambda: (self.vectors.drop(key), self.catalog.delete_collection(name), self._keywords.pop(key, None),
                             shutil.rmtree(self._keyword_folder(key), ignore_errors=True)))

    def follow_folder(self, name: str, folder: Path | None) -> None:
        self.collection(name, create=True)
        self._write(self.catalog.set_folder, name, str(folder.resolve()) if folder else None)

    # -- documents ---------------------------------------------------------------------------
    def documents(self, collection: str | None = None) -> list[DocumentRecord]:
        with self._guard():
            return self.catalog.documents(collection)

    def document(self, collection: str, path: str) -> DocumentRecord | None:
        with self._guard():
            return self.catalog.get(collection, path)

    def record(self, record: DocumentRecord) -> None:
        """Store a document's outcome that has no chunks (an error, a skip)."""
        self.collection(record.collection, create=True)
        self._write(self.catalog.put, record)

    def store_document(self, record: DocumentRecord, chunks: list[Chunk], embeddings: list[list[float]], doc_id: str) -> None:
        key = self.collection(record.collection, create=True).key

        def write() -> None:
            while not self.catalog.try_claim(key, record.path):  # another client is writing this document
                time.sleep(_CLAIM_POLL_S)
            try:
                stored = self.catalog.get(record.collection, record.path)
                if stored and (stored.status, stored.sha256, stored.chunks) == (record.status, record.sha256, record.chunks):
                    return  # another client stored these very bytes while this one waited
                final_status, record.status = record.status, "pending"
                self.catalog.put(record)
                try:
                    self.vectors.replace_document(key, record.path, chunks, embeddings, _chunk_prefix(record.path, doc_id))
                except Exception:
                    # Take back whatever part was written; if even that fails (a full disk, a server
                    # gone), the pending marker stays, hides the part, and recovery or the next ingest
                    # of the file cleans up.
                    try:
                        self.vectors.delete_document(key, record.path)
                        self.catalog.delete(record.collection, record.path)
                    except Exception:  # noqa: BLE001 - the first failure is the one to report
                        log.warning("could not take back the partial write of %s; it stays pending", record.path)
                    raise
                record.status, record.updated_at = final_status, time.time()
                self.catalog.put(record)
            finally:
                try:
                    self.catalog.release(key, record.path)
                except Exception:  # noqa: BLE001 - a lease that cannot be released expires
                    log.warning("could not release the write lease of %s", record.path)

        self._write(write)

    def remove_document(self, collection: str, path: str) -> bool:
        key = self.collection(collection).key
        if self.catalog.get(collection, path) is None:
            return False
        self._write(lambda: (self.vectors.delete_document(key, path), self.catalog.delete(collection, path)))
        return True

    def reset_vectors(self, collection: str) -> list[DocumentRecord]:
        """Drop a collection's vectors and mark its documents for re-ingest (repair)."""
        key = self.collection(collection).key
        records = self.catalog.documents(collection)

        def write() -> None:
            self.vectors.drop(key)
            for record in records:
                record.status, record.chunks = "interrupted", 0
                self.catalog.put(record)

        self._write(write)
        return records

    # -- reading -----------------------------------------------------------------------------
    def _hidden(self, collection: str) -> frozenset[str]:
        """The paths of the collection's documents being written: none of their chunks is shown."""
        return frozenset(r.path for r in self.catalog.with_status("pending") if r.collection == collection)

    def query(self, collection: str, embedding: list[float], k: int) -> list[Hit]:
        key = self.collection(collection).key
        with self._guard():
            return self.vectors.query(key, embedding, k, self._hidden(collection))

    def keyword_index(self, collection: str) -> KeywordIndex:
        """The collection's keyword index as of the catalog now: the one in memory or on disk if it
        was built from this state, else rebuilt (on the writer thread, so no write interleaves)."""
        key = self.collection(collection).key
        current = stamp(self.documents(collection))
        index = self._keywords.get(key)
        if index is not None and index.stamp == current:
            return index

        def rebuild() -> KeywordIndex:
            now = stamp(self.catalog.documents(collection))
            found = KeywordIndex.load(self._keyword_folder(key), now)
            if found is None:
                found = KeywordIndex.build(*self.vectors.texts(key), now)
                found.save(self._keyword_folder(key))
            self._keywords[key] = found
            return found

        return self._write(rebuild)

    def keyword_query(self, collection: str, text: str, embedding: list[float], k: int) -> list[Hit]:
        """The `k` chunks that best match the words of `text` (BM25), each scored by cosine similarity to `embedding`."""
        found = dict(self.keyword_index(collection).search(text, k))
        with self._guard():
            hits = self.vectors.hits(self.collection(collection).key, list(found), embedding)
            hidden = self._hidden(collection)
        return [dataclasses.replace(h, keyword=found[h.id]) for h in hits if h.path not in hidden]

    def _keyword_folder(self, key: str) -> Path:
        return paths.data_dir() / "keywords" / key

    def chunk_count(self, collection: str) -> int:
        key = self.collection(collection).key
        with self._guard():
            return self.vectors.count(key)

    def check_consistency(self) -> list[str]:
        """Differences between the catalog and the vectors; empty when they agree."""
        problems = []
        for collection in self.collections():
            with self._guard():
                stored = self.vectors.chunk_counts(collection.key)
            expected = {d.path: d.chunks for d in self.documents(collection.name) if d.status == "indexed" and d.chunks}
            for path in stored.keys() | expected.keys():
                if stored.get(path, 0) != expected.get(path, 0):
                    problems.append(f"{collection.name}: {path} has {stored.get(path, 0)} chunks stored, catalog says {expected.get(path, 0)}")
        return problems

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self.catalog.close()
        self._lock.release()


def _chunk_prefix(path: str, doc_id: str) -> str:
    """Chunk ids from the path and the content: one file's chunks never collide with another's of
    the same bytes, and storing the same file twice writes the same ids."""
    return f"{hashlib.sha256(path.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}-{doc_id}"


def _check_name(name: str) -> None:
    if not _NAME.match(name) or name != name.strip():
        raise CollectionError(f"{name!r} is not a valid collection name (1-64 characters, no slashes or control characters)")
