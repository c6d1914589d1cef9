"""Question → the best-matching chunks, with their similarity scores; and inside those chunks,
the few sentences that best answer the question."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from app.core.store.vectors import Hit

_WORD = re.compile(r"\w+", re.UNICODE)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_END = re.compile(r"[.!?:;]$")
_STOP = frozenset(
    "a an and are as at be by can did do does for from had has have how i if in into is it its me my of on or our "
    "should so than that the their them then there these they this to up us was we were what when where which who "
    "why will with would you your".split()
)


def retrieve(services, query: str, collection: str, k: int) -> list[Hit]:
    [vector] = services.embedder.embed([query])
    return services.library.query(collection, vector, k)


def terms(text: str) -> set[str]:
    """Content words, lower-cased, with a plural 's' dropped so 'days' meets 'day'."""
    words = (m.group().lower() for m in _WORD.finditer(text))
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _STOP and len(w) > 1}


def sentences(text: str) -> list[str]:
    """The sentences of a chunk. Lines wrapped inside a paragraph (as in PDFs) are joined; headings
    (a '#' line, or a short line without end punctuation) and fragments under 5 words are skipped."""
    out, paragraph = [], []
    lines = [line.strip() for line in text.splitlines()] + [""]
    for line, following in zip(lines, lines[1:] + [""]):
        heading = line.startswith("#") or (line and not _END.search(line) and len(line.split()) < 10
                                           and (not following or following[:1].isupper()))
        if line and not heading:
            paragraph.append(line)
        if not line or heading or _END.search(line):
            for piece in _SPLIT.split(" ".join(paragraph)):
                piece = " ".join(piece.lstrip("*-> ").split())
                if len(piece.split()) >= 5:
                    out.append(piece)
            paragraph = []
    return out


@dataclass(frozen=True)
class Evidence:
    sentence: str
    hit: Hit  # the chunk it came from
    similarity: float  # cosine of sentence and question embeddings
    overlap: float  # share of the question's content words found in the sentence
    score: float  # what ranks evidence: similarity + overlap, lifted a little by the chunk's score


SIM_WEIGHT, OVERLAP_WEIGHT, CHUNK_WEIGHT = 1.0, 0.3, 0.2


def select_sentences(services, question: str, hits: list[Hit], keep: int = 3) -> list[Evidence]:
    """Split the retrieved chunks into sentences and keep the `keep` best for the question."""
    seen: set[str] = set()
    candidates: list[tuple[str, Hit]] = []
    for hit in hits:  # best chunk first, so an overlap-duplicated sentence keeps its best chunk
        for sentence in sentences(hit.text):
            if sentence not in seen:
                seen.add(sentence)
                candidates.append((sentence, hit))
    # A chunk may start mid-sentence; drop such a fragment when another chunk holds the whole sentence.
    candidates = [(s, h) for s, h in candidates if not any(s != other and s in other for other in seen)]
    if not candidates:
        return []
    vectors = np.asarray(services.embedder.embed([question] + [s for s, _ in candidates]))
    similarity = vectors[1:] @ vectors[0]
    wanted = terms(question)
    evidence = []
    for (sentence, hit), sim in zip(candidates, similarity):
        overlap = len(wanted & terms(sentence)) / len(wanted) if wanted else 0.0
        score = SIM_WEIGHT * float(sim) + OVERLAP_WEIGHT * overlap + CHUNK_WEIGHT * hit.score
        evidence.append(Evidence(sentence, hit, float(sim), overlap, score))
    evidence.sort(key=lambda e: e.score, reverse=True)
    return evidence[:keep]
