"""Pieces every task shares: fitting text into the context, and running one generation."""

from __future__ import annotations

import re
import threading
from collections.abc import Generator

from app.core.llm.local import Generation, grammar_safe  # noqa: F401 - re-exported for tasks
from app.core.tasks.result import TaskError

_WORD = re.compile(r"\w+", re.UNICODE)
def require_text(text: str, what: str = "the input") -> str:
    text = (text or "").strip()
    if not text:
        raise TaskError(f"{what} is empty; give some text or a file with text in it")
    return text


def fit_tokens(engine, text: str, budget: int) -> tuple[str, bool]:
    """Cut text to at most `budget` model tokens, measured with the model's own tokenizer."""
    if engine.count_tokens(text) <= budget:
        return text, False
    low, high = 0, len(text)
    while low < high:  # binary search on characters: tokenizing is cheap, guessing is not safe
        mid = (low + high + 1) // 2
        if engine.count_tokens(text[:mid]) <= budget:
            low = mid
        else:
            high = mid - 1
    return text[:low], True


def prompt_budget(engine, max_tokens: int, *fixed: str, margin: int = 48) -> int:
    """Tokens left for variable input once the fixed prompt parts and the answer are counted."""
    return engine.n_ctx - max_tokens - sum(engine.count_tokens(p) for p in fixed) - margin


def generate(engine, messages: list[dict], max_tokens: int, cancel: threading.Event | None, gen: Generation,
             repeat_penalty: float = 1.15) -> Generator[str, None, str]:
    """Stream one free-text generation into `gen`; return its text."""
    yield from engine.stream(messages, max_tokens=max_tokens, cancel=cancel, result=gen, repeat_penalty=repeat_penalty)
    return gen.text.strip()


def timings(*gens: Generation) -> dict:
    first = next((g for g in gens if g.tokens_out), None)
    return {
        "ttft_s": round(first.ttft_s if first else 0.0, 3),
        "total_s": round(sum(g.total_s for g in gens), 3),
        "tokens_in": sum(g.tokens_in for g in gens),
        "tokens_out": sum(g.tokens_out for g in gens),
    }


def grounding(output: str, source: str) -> float:
    """Share of the output's content words that occur in the source: low means invented."""
    words = {w.lower() for w in _WORD.findall(output) if len(w) > 3}
    if not words:
        return 0.0
    present = {w.lower() for w in _WORD.findall(source)}
    return len(words & present) / len(words)
