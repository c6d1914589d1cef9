"""The embedded Chroma store. Only the ingest owner writes; telemetry is always off, and
Chroma's default embedding function (which would download a model) is never used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from app.core.chunking import Chunk

CHROMA_SETTINGS = ChromaSettings(anonymized_telemetry=False, allow_reset=False)


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


def _clean(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if v is not None}  # Chroma rejects None values


class VectorStore:
    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(path=str(path), settings=CHROMA_SETTINGS)

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
        col = self._collection(key)
        col.delete(where={"path": path})
        if not chunks:
            return
        col.add(
            ids=[f"{doc_id}:{c.index}" for c in chunks],
            embeddings=embeddings,
            documents=[c.text for c in chunks],
            metadatas=[
                _clean({"path": path, "file": Path(path).name, "page": c.page, "line_start": c.line_start, "line_end": c.line_end,
                        "char_start": c.char_start, "char_end": c.char_end, "chunk": c.index})
                for c in chunks
            ],
        )

    def delete_document(self, key: str, path: str) -> None:
        self._collection(key).delete(where={"path": path})

    def count(self, key: str) -> int:
        return self._collection(key).count()

    def query(self, key: str, embedding: list[float], k: int) -> list[Hit]:
        col = self._collection(key)
        if col.count() == 0:
            return []
        res = col.query(query_embeddings=[embedding], n_results=min(k, col.count()), include=["documents", "metadatas", "distances"])
        hits = []
        for text, meta, dist in zip(res["documents"][0], res["metadatas"][0], res["distances"][0]):
            hits.append(Hit(text=text, score=1.0 - float(dist), file=str(meta["file"]), path=str(meta["path"]), page=meta.get("page"),
                            line_start=meta.get("line_start"), line_end=meta.get("line_end"),
                            char_start=int(meta["char_start"]), char_end=int(meta["char_end"])))
        return hits
