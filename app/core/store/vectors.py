"""The chunks and their vectors in Chroma: embedded in the data folder, or on a Chroma server
(any chromadb client will do). Only the ingest owner writes; telemetry is always off, and
Chroma's default embedding function (which would download a model) is never used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from app.core.chunking import Chunk

def chroma_settings() -> ChromaSettings:
    """A new settings object for each client: chromadb writes the client's host, port or path into it."""
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


CHROMA_SETTINGS = chroma_settings()  # what every client gets a copy of (the doctor reads telemetry from it)


@dataclass(frozen=True)
class Hit:
    text: str
    score: float  # cosine similarity, 1 is identical
    file: str
    path: str
    page: int | None
    line_start: int | None
    line_end: int | None
    char_start: int
    char_end: int
    id: str = ""  # the chunk's id in the store
    keyword: float | None = None  # its BM25 score, when it came from the keyword search


def _clean(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if v is not None}  # Chroma rejects None values


class VectorStore:
    def __init__(self, path: Path | None = None, client=None) -> None:
        """The embedded store at `path`, or the store behind `client` (a server's HttpClient)."""
        if client is None:
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings())
        self._client = client
        self.max_batch = self._client.get_max_batch_size()  # Chroma rejects a larger add (5461 on SQLite here)

    def _collection(self, key: str):
        return self._client.get_or_create_collection(f"hearth_{key}", embedding_function=None, metadata={"hnsw:space": "cosine"})

    def drop(self, key: str) -> None:
        if f"hearth_{key}" in {c.name for c in self._client.list_collections()}:
            self._client.delete_collection(f"hearth_{key}")

    def chunk_counts(self, key: str) -> dict[str, int]:
        """Chunks per source path: what consistency checks compare with the catalog."""
        counts: dict[str, int] = {}
        for meta in self._collection(key).get(include=["metadatas"])["metadatas"]:
            counts[meta["path"]] = counts.get(meta["path"], 0) + 1
        return counts

    def replace_document(self, key: str, path: str, chunks: list[Chunk], embeddings: list[list[float]], doc_id: str) -> None:
        """All of a document's chunks, in as many writes as the store's batch limit needs. Not atomic
        by itself: the library's pending marker covers a crash between two batches. Chunk ids follow
        from `doc_id` (which the library derives from the path and the content), so writing the same
        document twice stores the same chunks once."""
        col = self._collection(key)
        col.delete(where={"path": path})
        batch = self.max_batch
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            col.add(
                ids=[f"{doc_id}:{c.index}" for c in part],
                embeddings=embeddings[start : start + batch],
                documents=[c.text for c in part],
                metadatas=[
                    _clean({"path": path, "file": Path(path).name, "page": c.page, "line_start": c.line_start, "line_end": c.line_end,
                            "char_start": c.char_start, "char_end": c.char_end, "chunk": c.index})
                    for c in part
                ],
            )

    def delete_document(self, key: str, path: str) -> None:
        self._collection(key).delete(where={"path": path})

    def count(self, key: str) -> int:
        return self._collection(key).count()

    def texts(self, key: str) -> tuple[list[str], list[str]]:
        """Every chunk's id and text, read a batch at a time (what the keyword index is built from)."""
        col, ids, texts = self._collection(key), [], []
        while True:
            page = col.get(include=["documents"], limit=self.max_batch, offset=len(ids))
            ids.extend(page["ids"])
            texts.extend(page["documents"])
            if len(page["ids"]) < self.max_batch:
                return ids, texts

    def query(self, key: str, embedding: list[float], k: int, hidden: frozenset[str] = frozenset()) -> list[Hit]:
        """The `k` nearest chunks, none from the `hidden` paths (documents still being written)."""
        col = self._collection(key)
        count = col.count()
        if count == 0:
            return []
        where = {"path": {"$nin": sorted(hidden)}} if hidden else None  # Chroma rejects an empty $nin
        res = col.query(query_embeddings=[embedding], n_results=min(k, count), where=where, include=["documents", "metadatas", "distances"])
        return [_hit(i, text, meta, 1.0 - float(dist))
                for i, text, meta, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])]

    def hits(self, key: str, ids: list[str], embedding: list[float]) -> list[Hit]:
        """The chunks with these ids, in this order, scored by cosine similarity to `embedding`."""
        if not ids:
            return []
        res = self._collection(key).get(ids=ids, include=["documents", "metadatas", "embeddings"])
        found = {i: _hit(i, text, meta, float(np.dot(vector, embedding)))  # stored vectors are L2-normalized
                 for i, text, meta, vector in zip(res["ids"], res["documents"], res["metadatas"], res["embeddings"])}
        return [found[i] for i in ids if i in found]


def _hit(chunk_id: str, text: str, meta: dict, score: float) -> Hit:
    return Hit(text=text, score=score, file=str(meta["file"]), path=str(meta["path"]), page=meta.get("page"),
               line_start=meta.get("line_start"), line_end=meta.get("line_end"),
               char_start=int(meta["char_start"]), char_end=int(meta["char_end"]), id=chunk_id)
