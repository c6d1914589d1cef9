"""Summarize documents far longer than the context, by map-reduce.

The document is cut into a few parts of equal length, so every part of it is covered, not just
its first pages. Each part is first narrowed to its most central sentences (cheap, no model),
then the model writes one or two sentences per part; the part summaries, in document order,
are the summary.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Generator

from app.core.llm.local import Generation
from app.core.routing.confidence import calibrated
from app.core.tasks.common import generate, grounding, prompt_budget, require_text, timings
from app.core.tasks.result import TaskError, TaskResult

LENGTHS = {"short": (3, 48), "medium": (6, 64), "long": (10, 96)}  # parts, tokens per part summary
STYLES = ("paragraph", "bullets")
SYSTEM = "You summarize passages of a document. Write one or two plain sentences with the passage's main facts."
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset("the and for are was were with that this from have has not but you your they their its will can all any "
                  "which when what who into than then there these those been also such our out one two may more most".split())


def _parts(text: str, count: int) -> list[str]:
    """Equal slices of the text, cut at sentence ends."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    size = math.ceil(len(sentences) / count) if sentences else 1
    return [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]


def _budget(engine, max_tokens: int) -> int:
    return min(700, prompt_budget(engine, max_tokens, SYSTEM))


def plan(engine, text: str, length: str) -> list[str]:
    """The parts summarize() maps over: one when the text fits the prompt, else `count` slices."""
    count, max_tokens = LENGTHS[length]
    return _parts(text, count if engine.count_tokens(text) > _budget(engine, max_tokens) else 1)


def central_sentences(part: str, engine, budget: int) -> str:
    """The part's sentences that share most words with the rest of it, in their order, within budget."""
    sentences = [s.strip() for s in _SENTENCE.split(part) if s.strip()]
    words = [[w.lower() for w in _WORD.findall(s) if w.lower() not in _STOP] for s in sentences]
    freq = Counter(w for ws in words for w in set(ws))
    ranked = sorted(range(len(sentences)), key=lambda i: -sum(math.log1p(freq[w]) for w in set(words[i])) / (1 + len(words[i])) ** 0.3)
    chosen, used = set(), 0
    for i in ranked:
        cost = engine.count_tokens(sentences[i])
        if used + cost > budget:
            continue
        chosen.add(i)
        used += cost
    return " ".join(sentences[i] for i in sorted(chosen))


def summarize(services, text: str, length: str = "medium", style: str = "paragraph",
              cancel: threading.Event | None = None) -> Generator[str, None, TaskResult]:
    text = require_text(text, "the document")
    if length not in LENGTHS:
        raise TaskError(f"unknown length {length!r} (lengths: {', '.join(LENGTHS)})")
    if style not in STYLES:
        raise TaskError(f"unknown style {style!r} (styles: {', '.join(STYLES)})")
    engine = services.engine
    max_tokens = LENGTHS[length][1]
    budget = _budget(engine, max_tokens)
    parts = plan(engine, text, length)
    gens, pieces = [], []
    for n, part in enumerate(parts):
        if cancel is not None and cancel.is_set():
            break
        passage = central_sentences(part, engine, budget)
        gen = Generation()
        gens.append(gen)
        prefix = "- " if style == "bullets" else ("" if n == 0 else " ")
        yield prefix
        piece = yield from generate(engine, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": passage}], max_tokens, cancel, gen)
        pieces.append(piece)
        if style == "bullets":
            yield "\n"
    joiner = "\n" if style == "bullets" else " "
    summary = joiner.join(("- " if style == "bullets" else "") + p for p in pieces)
    probs = [g.mean_prob for g in gens if g.tokens_out]
    confidence = 0.5 * (sum(probs) / len(probs) if probs else 0.0) + 0.5 * grounding(summary, text)
    return calibrated(TaskResult(text=summary, confidence=round(confidence, 4), task="summarize", timings=timings(*gens)))
