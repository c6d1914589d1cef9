"""Asking "all collections": the question goes to the collection whose best chunk matches it
most closely, since one answer quotes one piece of evidence."""

from __future__ import annotations

from app.core.retrieval import retrieve
from app.core.tasks.result import TaskError


def best_collection(services, question: str) -> str:
    best, name = None, None
    for collection in services.library.collections():
        hits = retrieve(services, question, collection.name, 1) if collection.documents else []
        if hits and (best is None or hits[0].score > best):
            best, name = hits[0].score, collection.name
    if name is None:
        raise TaskError("no collection has documents yet; add some in the Library first")
    return name
