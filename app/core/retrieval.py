"""Question → the best-matching chunks (dense and keyword rankings fused), with their similarity
scores. Which span inside them answers the question is app/core/tasks/answer_span's job."""

from __future__ import annotations

import re

from app.core.store.keywords import STOP_WORDS, singular
from app.core.store.vectors import Hit

_WORD = re.compile(r"\w+", re.UNICODE)


# How deep each ranking is read; how much the best keyword match can add to a cosine similarity.
CANDIDATES, KEYWORD_WEIGHT = 20, 0.5


def retrieve(services, query: str, collection: str, k: int) -> list[Hit]:
    """The `k` best chunks of the embedder's ranking and the keyword (BM25) ranking together, so a
    chunk holding the question's exact identifier is found even when its vector is not among the
    nearest. Each hit's score stays its cosine similarity to the query."""
    [vector] = services.embedder.embed([query])
    dense = services.library.query(collection, vector, max(k, CANDIDATES))
    keyword = services.library.keyword_query(collection, query, vector, max(k, CANDIDATES))
    return fuse(dense, keyword)[:k]


def fuse(dense: list[Hit], keyword: list[Hit]) -> list[Hit]:
    """Ranked by cosine similarity plus KEYWORD_WEIGHT times the BM25 score relative to the best
    one. Scores, not ranks (reciprocal rank fusion), are combined: a passage that alone holds a rare
    identifier has a BM25 score far above its look-alikes, and rank fusion would throw that gap away
    and let passages that are merely good in both rankings win (Bruch et al. 2023, "An Analysis of
    Fusion Functions for Hybrid Retrieval", find a score combination as good or better)."""
    best = max((h.keyword for h in keyword if h.keyword), default=0.0)
    lift = {h.id: KEYWORD_WEIGHT * (h.keyword or 0.0) / best for h in keyword} if best else {}
    hits = {h.id: h for h in keyword} | {h.id: h for h in dense}
    return sorted(hits.values(), key=lambda h: h.score + lift.get(h.id, 0.0), reverse=True)


def terms(text: str) -> set[str]:
    """Content words, lower-cased, with a plural 's' dropped so 'days' meets 'day'."""
    words = (m.group().lower() for m in _WORD.finditer(text))
    return {singular(w) for w in words if w not in STOP_WORDS and len(w) > 1}
