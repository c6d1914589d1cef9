"""Summarize documents far longer than the context, by map-reduce.

The document is cut into a few parts of equal length, so every part of it is covered, not just
its first pages. Each part is first narrowed to its most central sentences (cheap, no model),
then the model writes one or two sentences per part; the part summaries, in document order,
are the summary.

A small model invents figures (a meeting "at 2:05 PM in room 3B" from "10:00 in room 4B") and
stops mid-sentence at its token limit. So its words are passed on a sentence at a time, once
the sentence is complete: a sentence with a number its passage does not hold gives way to the
passage's sentence it shares most words with (the one it retold: its fact stays, with the right
figures), or is dropped when it shares none; so does a sentence about the prompt rather than
the document ("The passage provides a clear explanation...", "Here's a revised version of the
passage": the word is the prompt's, which the document lacks). The unfinished one the limit
cut gives way to the sentence it retold too, or ends in an ellipsis. What streams is the
summary. A part left with nothing is given its passage's most central sentences instead:
quoted, so faithful.
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
_FIGURE = re.compile(r"\d+")
_SENTENCE_OR_LINE = re.compile(r"(?<=[.!?])\s+|\n+")  # where a sentence ends: in the model's stream, or a passage's line
_PROMPT_WORD = re.compile(r"\bpassages?\b", re.IGNORECASE)  # what SYSTEM calls the text it is given
_ENDS = (".", "!", "?", "\u2026", '"', "\u201d", ")")
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


def invented_figures(sentence: str, source: str) -> list[str]:
    """The numbers in the sentence that the source does not hold (each run of digits on its own,
    so '14 March' may become 'March 14' but '10:00' may not become '2:05')."""
    held = set(_FIGURE.findall(source))
    return [f for f in _FIGURE.findall(sentence) if f not in held]


def about_the_prompt(sentence: str, passage: str) -> bool:
    """The sentence speaks of 'the passage', the prompt's word, which the passage itself lacks."""
    return bool(_PROMPT_WORD.search(sentence)) and not _PROMPT_WORD.search(passage)


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def retold(sentence: str, passage: str) -> str | None:
    """The passage's sentence (or line: a receipt has no sentences) that shares most content words
    with `sentence`; None when none shares one."""
    words = _content_words(_PROMPT_WORD.sub(" ", sentence))
    scored = [(len(words & _content_words(s)), s.strip()) for s in _SENTENCE_OR_LINE.split(passage) if s.strip()]
    best = max(scored, key=lambda pair: pair[0], default=(0, None))
    return best[1] if best[0] else None


def faithful_sentences(stream, passage: str, gen: Generation, max_tokens: int) -> Generator[str, None, str]:
    """Pass the model's text on a sentence at a time; a sentence with invented figures, or about
    the prompt, gives way to the passage's sentence it retold (quoted once). So does the one the
    token limit cut: what it says is often the part's main fact, and "...costs rose 12%, and we"
    reads as broken; when it retells none, it ends in an ellipsis, without half a word.
    Returns what was passed on."""
    kept: list[str] = []

    def keep(sentence: str):
        sentence = sentence.strip()
        if sentence and (invented_figures(sentence, passage) or about_the_prompt(sentence, passage)):
            sentence = retold(sentence, passage) or ""
        if sentence and sentence not in kept:
            yield (" " if kept else "") + sentence
            kept.append(sentence)

    buffer = ""
    for piece in stream:
        buffer += piece
        *complete, buffer = _SENTENCE_OR_LINE.split(buffer)
        for sentence in complete:
            yield from keep(sentence)
    tail = buffer.strip()
    if gen.tokens_out >= max_tokens and tail and not tail.endswith(_ENDS):  # the limit cut it
        tail = retold(tail, passage) or (tail.rsplit(None, 1)[0] if " " in tail else tail).rstrip(",;:-\u2013 ") + "\u2026"
    yield from keep(tail)
    return " ".join(kept)


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
        stream = generate(engine, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": passage}], max_tokens, cancel, gen)
        piece = yield from faithful_sentences(stream, passage, gen, max_tokens)
        if not piece and not (cancel is not None and cancel.is_set()):
            piece = " ".join((central_sentences(passage, engine, max_tokens) or _SENTENCE.split(passage)[0]).split())
            yield piece
        pieces.append(piece)
        if style == "bullets":
            yield "\n"
    joiner = "\n" if style == "bullets" else " "
    summary = joiner.join(("- " if style == "bullets" else "") + p for p in pieces)
    probs = [g.mean_prob for g in gens if g.tokens_out]
    confidence = 0.5 * (sum(probs) / len(probs) if probs else 0.0) + 0.5 * grounding(summary, text)
    return calibrated(TaskResult(text=summary, confidence=round(confidence, 4), task="summarize", timings=timings(*gens)))
