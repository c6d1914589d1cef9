"""The document catalog kept on the Chroma server beside the vectors, so every client of a team
store sees one library: the same documents, statuses, hashes and errors.

It has the embedded catalog's interface, stored in three Chroma collections: one record per
collection, one per document (its id derived from the collection and the path, so two clients
that store the same file address the same record) and one per write in progress, a lease.

Chroma has no transactions, but adding an id that exists is a no-op, so the first `add` of a
lease wins and every client that reads it back agrees on the holder. A lease ends when its holder
releases it, when it expires, or, for a holder on this same machine, when its process is gone.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid

from app.core.store.catalog import Collection, DocumentRecord

COLLECTIONS, DOCUMENTS, LEASES = "hearth-collections", "hearth-documents", "hearth-leases"
COLLECTIONS_FRESH_S = 2.0  # how long the list of collections is reused: a rename elsewhere shows this much later
LEASE_SECONDS = 120.0  # longer than any one document's write; a holder that died on another machine costs this long
_NO_VECTOR = [[1.0]]  # Chroma keeps a vector with every record; these records need none
_TEXT = ("sha256", "error")  # None is stored as "" (Chroma refuses None) and read back as None
_NUMBER = ("size", "mtime")  # None is stored as -1
_OPEN: set[str] = set()  # the owners of this process's open catalogs: a lease of any other one here is dead


def document_id(key: str, path: str) -> str:
    """The catalog id of a document: the same for every client that stores this path."""
    return f"{key}-{hashlib.sha256(path.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


class SharedCatalog:
    def __init__(self, client) -> None:
        make = lambda name: client.get_or_create_collection(name, embedding_function=None)  # noqa: E731
        self._collections, self._documents, self._leases = make(COLLECTIONS), make(DOCUMENTS), make(LEASES)
        self._page = client.get_max_batch_size()
        self._rows: tuple[float, dict[str, dict]] = (float("-inf"), {})
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        _OPEN.add(self.owner)

    # -- collections -------------------------------------------------------------------------
    def _collection_rows(self) -> dict[str, dict]:
        """The collections by key, read again when older than COLLECTIONS_FRESH_S (every document
        operation needs them, and they change rarely)."""
        read_at, rows = self._rows
        if time.monotonic() - read_at > COLLECTIONS_FRESH_S:
            rows = dict(zip(*_all(self._collections, self._page)))
            self._rows = (time.monotonic(), rows)
        return rows

    def _changed(self) -> None:
        self._rows = (float("-inf"), {})  # this client's own change is seen at once

    def collections(self) -> list[Collection]:
        indexed: dict[str, int] = {}
        for meta in _all(self._documents, self._page, {"status": "indexed"})[1]:
            indexed[meta["collection"]] = indexed.get(meta["collection"], 0) + 1
        found = [_collection(k, m, indexed.get(k, 0)) for k, m in self._collection_rows().items()]
        return sorted(found, key=lambda c: c.name)

    def collection(self, name: str) -> Collection | None:
        """One collection, its documents counted alone (every store operation asks for one)."""
        key, meta = next(((k, m) for k, m in self._collection_rows().items() if m["name"] == name), (None, None))
        if key is None:
            return None
        where = {"$and": [{"collection": key}, {"status": "indexed"}]}
        return _collection(key, meta, len(_all(self._documents, self._page, where, include=[])[0]))

    def _key(self, name: str) -> str | None:
        return next((k for k, m in self._collection_rows().items() if m["name"] == name), None)

    def create_collection(self, name: str, folder: str | None = None) -> Collection:
        # Derived from the name, so two clients creating it at once make one collection; a key taken
        # by a collection since renamed gives way to a random one.
        key = "s" + hashlib.sha256(name.encode()).hexdigest()[:15]
        taken = self._collections.get(ids=[key])["metadatas"]
        if taken and taken[0]["name"] != name:
            key = "s" + uuid.uuid4().hex[:15]
        self._collections.add(ids=[key], embeddings=_NO_VECTOR, metadatas=[{"name": name, "folder": folder or "", "created_at": time.time()}])
        self._changed()
        return self.collection(name)  # type: ignore[return-value]

    def _update_collection(self, name: str, fields: dict) -> None:
        key = self._key(name)
        if key is not None:
            self._collections.update(ids=[key], metadatas=[fields])
            self._changed()

    def set_folder(self, name: str, folder: str | None) -> None:
        self._update_collection(name, {"folder": folder or ""})

    def rename_collection(self, old: str, new: str) -> None:
        self._update_collection(old, {"name": new})  # documents name the collection by key, so they follow

    def delete_collection(self, name: str) -> None:
        key = self._key(name)
        if key is not None:
            self._documents.delete(where={"collection": key})
            self._collections.delete(ids=[key])
            self._changed()

    # -- documents ---------------------------------------------------------------------------
    def get(self, collection: str, path: str) -> DocumentRecord | None:
        key = self._key(collection)
        if key is None:
            return None
        metas = self._documents.get(ids=[document_id(key, path)])["metadatas"]
        return _record(metas[0], collection) if metas else None

    def put(self, record: DocumentRecord) -> None:
        key = self._key(record.collection)
        if key is None:
            raise KeyError(f"no collection named {record.collection!r} in the shared catalog")
        meta = {**record.__dict__, "collection": key}
        for name in _TEXT:
            meta[name] = meta[name] or ""
        for name in _NUMBER:
            meta[name] = -1 if meta[name] is None else meta[name]
        self._documents.upsert(ids=[document_id(key, record.path)], embeddings=_NO_VECTOR, metadatas=[meta])

    def delete(self, collection: str, path: str) -> None:
        key = self._key(collection)
        if key is not None:
            self._documents.delete(ids=[document_id(key, path)])

    def with_status(self, status: str) -> list[DocumentRecord]:
        return self._records({"status": status})

    def documents(self, collection: str | None = None) -> list[DocumentRecord]:
        if collection is None:
            return self._records(None)
        key = self._key(collection)
        return [] if key is None else self._records({"collection": key})

    def _records(self, where: dict | None) -> list[DocumentRecord]:
        names = {k: m["name"] for k, m in self._collection_rows().items()}
        found = [_record(m, names[m["collection"]]) for m in _all(self._documents, self._page, where)[1] if m["collection"] in names]
        return sorted(found, key=lambda r: (r.name, r.path))

    # -- leases ------------------------------------------------------------------------------
    def try_claim(self, key: str, path: str) -> bool:
        """True when this client now holds the right to write the document; False while a live
        holder has it. An expired or dead holder's lease is taken over."""
        lease = document_id(key, path)
        for _ in range(2):
            self._leases.add(ids=[lease], embeddings=_NO_VECTOR, metadatas=[{"owner": self.owner, "until": time.time() + LEASE_SECONDS}])
            metas = self._leases.get(ids=[lease])["metadatas"]
            if not metas:
                continue  # released between the add and the read: try again
            if metas[0]["owner"] == self.owner:
                return True
            if _alive(metas[0]):
                return False
            self._leases.delete(ids=[lease])
        return False

    def release(self, key: str, path: str) -> None:
        self._leases.delete(ids=[document_id(key, path)], where={"owner": self.owner})  # only this client's own

    def close(self) -> None:
        _OPEN.discard(self.owner)  # the HTTP client itself holds nothing that needs closing


def _all(col, page: int, where: dict | None = None, include: list[str] | None = None) -> tuple[list[str], list[dict]]:
    """Every id and metadata of a collection (that match `where`), read a page at a time."""
    ids: list[str] = []
    metas: list[dict] = []
    while True:
        got = col.get(where=where, include=["metadatas"] if include is None else include, limit=page, offset=len(ids))
        ids.extend(got["ids"])
        metas.extend(got["metadatas"] or [])
        if len(got["ids"]) < page:
            return ids, metas


def _collection(key: str, meta: dict, documents: int) -> Collection:
    return Collection(id=0, name=meta["name"], folder=meta["folder"] or None, created_at=meta["created_at"], documents=documents, key=key)


def _alive(lease: dict) -> bool:
    if lease["until"] < time.time():
        return False
    host, pid, _ = str(lease["owner"]).rsplit(":", 2)
    if host != socket.gethostname():
        return True  # another machine's process cannot be checked
    if int(pid) == os.getpid():
        return lease["owner"] in _OPEN
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def _record(meta: dict, collection: str) -> DocumentRecord:
    values = {name: meta.get(name) for name in DocumentRecord.__dataclass_fields__}
    values["collection"] = collection
    for name in _TEXT:
        values[name] = values[name] or None
    for name in _NUMBER:
        values[name] = None if values[name] == -1 else values[name]
    return DocumentRecord(**values)
