"""Chat: the caller's own conversation, answered by the local model.

This is the plain model of the local API (`hearth serve`): another program brings its messages,
and the newest turns that fit the context are kept (the system messages always). The token
probability of the reply is its measured confidence, so the router may escalate it like any task.
"""

from __future__ import annotations

import threading
from collections.abc import Generator

from app.core.llm.local import Generation
from app.core.routing.confidence import calibrated
from app.core.tasks.common import fit_tokens, generate, timings
from app.core.tasks.result import TaskError, TaskResult

ROLES = ("system", "user", "assistant")
DEFAULT_MAX_TOKENS = 512
MESSAGE_OVERHEAD = 6  # the chat template's tokens around each message's content
REPEAT_PENALTY = 1.15  # as for every free-text task: keeps a small model out of loops


def check_messages(messages: list[dict]) -> list[dict]:
    """Messages as {"role", "content": str}; the last one must be the user's."""
    if not messages:
        raise TaskError("the conversation has no messages")
    for n, m in enumerate(messages, start=1):
        if m.get("role") not in ROLES:
            raise TaskError(f"message {n} has role {m.get('role')!r}; the roles are {', '.join(ROLES)}")
        if not isinstance(m.get("content"), str):
            raise TaskError(f"message {n} has no text content")
    if messages[-1]["role"] != "user" or not messages[-1]["content"].strip():
        raise TaskError("the last message must be the user's, with some text")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def fit_messages(engine, messages: list[dict], budget: int) -> tuple[list[dict], bool]:
    """The system messages and the newest other turns within `budget` tokens; True when any was cut."""
    system = [m for m in messages if m["role"] == "system"]
    turns = [m for m in messages if m["role"] != "system"]
    used = sum(engine.count_tokens(m["content"]) + MESSAGE_OVERHEAD for m in system)
    kept: list[dict] = []
    for m in reversed(turns):
        cost = engine.count_tokens(m["content"]) + MESSAGE_OVERHEAD
        if used + cost > budget:
            break
        kept.insert(0, m)
        used += cost
    if kept:
        return system + kept, len(kept) < len(turns)
    # Not even the last message fits beside the system messages: keep its start.
    room = budget - used - MESSAGE_OVERHEAD
    if room < 16:
        raise TaskError(f"the system messages take {used} tokens; the context of {engine.n_ctx} leaves no room for the question")
    text, _ = fit_tokens(engine, turns[-1]["content"], room)
    return system + [{"role": "user", "content": text}], True


def max_tokens_for(engine, requested: int | None) -> int:
    """The reply's token limit: the caller's, within half the context."""
    return min(requested or DEFAULT_MAX_TOKENS, engine.n_ctx // 2)


def chat(services, messages: list[dict], max_tokens: int | None = None,
         cancel: threading.Event | None = None) -> Generator[str, None, TaskResult]:
    engine = services.engine
    messages = check_messages(messages)
    max_tokens = max_tokens_for(engine, max_tokens)
    fitted, cut = fit_messages(engine, messages, engine.n_ctx - max_tokens - 16)
    gen = Generation()
    text = yield from generate(engine, fitted, max_tokens, cancel, gen, REPEAT_PENALTY)
    confidence = gen.mean_prob * (0.8 if cut else 1.0)  # an answer without the whole conversation is less sure
    return calibrated(TaskResult(text=text, confidence=round(confidence, 4), task="chat", timings=timings(gen)))
