"""Ask: retrieve evidence, answer from it with the local model, cite where it came from."""

from __future__ import annotations

import re
import threading
from collections.abc import Generator

from app.core.llm.local import Generation
from app.core.retrieval import retrieve
from app.core.store.vectors import Hit
from app.core.tasks.result import Citation, TaskError, TaskResult

NOT_FOUND = "The documents don't say."
SYSTEM = (
    "You answer questions using only the numbered context passages. "
    f"Answer in one or two short sentences. If the context does not contain the answer, reply exactly: {NOT_FOUND}"
)
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")
_STOP = frozenset("a an and are as at be by did do does for from how in is it of on or the to was were what when where which who why with".split())


def _terms(text: str) -> set[str]:
    return {w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in _STOP and len(w) > 1}


def best_quote(hit: Hit, question: str, limit: int = 240) -> str:
    """The sentence of the chunk that shares the most terms with the question."""
    wanted = _terms(question)
    sentences = [s.strip() for s in _SENTENCE.split(hit.text) if s.strip()] or [hit.text]
    best = max(sentences, key=lambda s: len(wanted & _terms(s)))
    best = " ".join(best.split())
    return best if len(best) <= limit else best[: limit - 1].rstrip() + "…"


def _confidence(hits: list[Hit], gen: Generation) -> float:
    # Provisional blend of retrieval strength and token probability; issue #4 calibrates it.
    retrieval = min(1.0, max(0.0, (hits[0].score - 0.2) / 0.5)) if hits else 0.0
    return round(0.5 * retrieval + 0.5 * gen.mean_prob, 4)


def _prompt(question: str, hits: list[Hit], engine, max_tokens: int) -> list[dict]:
    """Fit as many passages as the context allows, best first, measured with the model's tokenizer."""
    budget = engine.n_ctx - max_tokens - engine.count_tokens(SYSTEM + question) - 64
    passages = []
    for n, hit in enumerate(hits, start=1):
        passage = f"[{n}] {' '.join(hit.text.split())}"
        cost = engine.count_tokens(passage)
        if cost > budget:
            break
        budget -= cost
        passages.append(passage)
    context = "\n\n".join(passages)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"}]


def ask(services, question: str, collection: str, cancel: threading.Event | None = None) -> Generator[str, None, TaskResult]:
    """Stream the answer's text; the generator's return value is the full result."""
    question = question.strip()
    if not question:
        raise TaskError("the question is empty")
    hits = retrieve(services, question, collection, services.settings.retrieval.top_k)
    if not hits:
        raise TaskError(f"collection {collection!r} has no documents; ingest some first with `hearth ingest FILE`")
    engine = services.engine
    max_tokens = services.settings.max_answer_tokens
    gen = Generation()
    yield from engine.stream(_prompt(question, hits, engine, max_tokens), max_tokens=max_tokens, cancel=cancel, result=gen)
    citations = [Citation(h.file, h.path, h.page, h.line_start, h.line_end, best_quote(h, question), round(h.score, 4)) for h in hits]
    timings = {"ttft_s": round(gen.ttft_s, 3), "total_s": round(gen.total_s, 3), "tokens_in": gen.tokens_in, "tokens_out": gen.tokens_out}
    return TaskResult(text=gen.text.strip(), confidence=_confidence(hits, gen), citations=citations, timings=timings)
