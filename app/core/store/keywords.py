"""Keyword search (BM25, through bm25s) over a collection's chunks, beside the dense vectors.

The embedder reads "os.O_RDONLY", "%Y" or "E1101" as a blur of sub-words; BM25 matches them
exactly. An index is built per collection from the chunk texts in the vector store and stamped
with the catalog state it was built from (each indexed document's path, hash and chunk count); an
index whose stamp differs from the catalog's is never used, only rebuilt, so it cannot drift from
the store. It is saved beside the store and loaded at the next start when still current.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# An identifier keeps its dots and dashes ("os.path.join", "utf-8") and a leading % (a format code);
# a quoted code of one to three characters ('r', 'l', 'rb') is a token with its quotes, since the
# bare letter is no word to match.
_TOKEN = re.compile(r"'[^'\s]{1,3}'|%?\w+(?:[.\-]\w+)*")
TOKENIZER = 2  # part of an index's stamp: an index built by another tokenizer is rebuilt
_PIECES = re.compile(r"[.\-]")
# What makes a token an identifier worth matching as written: a format code, a dot, dash or
# underscore, a digit, or a capital after the first letter (ENOENT, KeyError).
_IDENTIFIER = re.compile(r"^%|[._\-]|\d|.[A-Z]")
STOP_WORDS = frozenset(
    "a an and are as at be by can did do does for from had has have how i if in into is it its me my of on or our "
    "should so than that the their them then there these they this to up us was we were what when where which who "
    "why will with would you your".split()
)


def singular(word: str) -> str:
    """A plural 's' dropped, so 'days' meets 'day' (crude, and enough for matching)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def keyword_terms(text: str) -> list[str]:
    """Lower-cased words (a plural 's' dropped) and the pieces of compound names, plus each
    identifier exactly as written, so "O_RDONLY" or "%Y" matches that spelling above loose parts."""
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token.startswith("'"):
            terms.append(token)
            continue
        for piece in _PIECES.split(token.lower().lstrip("%")):
            parts = [piece] + (piece.split("_") if "_" in piece else [])
            terms.extend(singular(w) for w in parts if len(w) > 1 and w not in STOP_WORDS)
        if _IDENTIFIER.search(token):
            terms.append(token)
    return terms


def stamp(records) -> str:
    """What the index must match: each indexed document's path, content hash and chunk count."""
    state = sorted((r.path, r.sha256 or "", r.chunks) for r in records if r.status == "indexed" and r.chunks)
    return hashlib.sha256(json.dumps([TOKENIZER, state]).encode()).hexdigest()


class KeywordIndex:
    def __init__(self, retriever, ids: list[str], stamp: str) -> None:
        self._retriever, self.ids, self.stamp = retriever, ids, stamp

    @classmethod
    def build(cls, ids: list[str], texts: list[str], stamp: str) -> KeywordIndex:
        import bm25s

        retriever = bm25s.BM25()
        if ids:
            retriever.index([keyword_terms(t) for t in texts], show_progress=False)
        return cls(retriever, ids, stamp)

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a term; a term in no chunk has the highest."""
        vocab = getattr(self._retriever, "vocab_dict", None) or {}
        found = 0
        if term in vocab:  # the score matrix (CSC, one column per term) holds one entry per chunk with the term
            indptr = self._retriever.scores["indptr"]
            found = int(indptr[vocab[term] + 1] - indptr[vocab[term]])
        return math.log(1 + (len(self.ids) - found + 0.5) / (found + 0.5))

    def coverage(self, question: str, evidence: str) -> float:
        """The share of the question's terms found in the evidence, each weighted by its IDF: a
        question whose rare words (a product, a drug, a place) the evidence lacks is about something
        else, even when its common words all match."""
        asked = list(dict.fromkeys(keyword_terms(question)))
        if not asked:
            return 0.0
        have = set(keyword_terms(evidence))
        weights = {t: self.idf(t) for t in asked}
        return sum(w for t, w in weights.items() if t in have) / sum(weights.values())

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The ids of the best `k` chunks with their BM25 scores; only chunks sharing a term."""
        wanted = [t for t in dict.fromkeys(keyword_terms(query)) if t in getattr(self._retriever, "vocab_dict", {})]
        if not self.ids or not wanted:
            return []
        scores = self._retriever.get_scores(wanted)
        top = np.argsort(-scores)[:k]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        """Written to a new folder and swapped in, so a crash leaves the old index or none."""
        staging = folder.with_name(folder.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if self.ids:
            self._retriever.save(str(staging), show_progress=False)
        (staging / "hearth.json").write_text(json.dumps({"stamp": self.stamp, "ids": self.ids}), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)

    @classmethod
    def load(cls, folder: Path, stamp: str) -> KeywordIndex | None:
        """The saved index if it was built from this catalog state, else None."""
        try:
            meta = json.loads((folder / "hearth.json").read_text(encoding="utf-8"))
            if meta["stamp"] != stamp:
                return None
            import bm25s

            retriever = bm25s.BM25.load(str(folder)) if meta["ids"] else bm25s.BM25()
            return cls(retriever, meta["ids"], stamp)
        except (OSError, ValueError, KeyError) as exc:
            log.info("keyword index at %s not usable (%s); rebuilding", folder, exc)
            return None
