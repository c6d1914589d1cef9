"""Question → the best-matching chunks, with their similarity scores."""

from __future__ import annotations

from app.core.store.vectors import Hit


def retrieve(services, query: str, collection: str, k: int) -> list[Hit]:
    [vector] = services.embedder.embed([query])
    return services.library.query(collection, vector, k)
