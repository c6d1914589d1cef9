"""The OpenAI wire format: requests in, completions, stream chunks, embeddings and errors out.

Fields Hearth does not use (temperature, tools, …) are accepted and ignored: decoding is always
greedy, as everywhere in Hearth. Hearth's own request and response data travel in a `hearth`
extension field, which OpenAI clients pass through (`extra_body=`, `model_extra`).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import asdict

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from app.core.conversations import source_groups, where
from app.core.tasks.result import TaskResult


class ApiError(Exception):
    """An error the client gets as an OpenAI-style body with this status."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.code}}


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict] | None = None

    def text(self, n: int) -> str:
        """The text of the message; parts other than text are refused, not silently dropped."""
        if isinstance(self.content, str) or self.content is None:
            return self.content or ""
        if kinds := sorted({p.get("type", "?") for p in self.content} - {"text"}):
            raise ApiError(400, f"message {n} has {', '.join(kinds)} content; Hearth's local model reads text only", code="unsupported_content")
        return "".join(str(p.get("text", "")) for p in self.content)


class HearthOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collection: str | None = None  # answer from this collection's documents, with citations


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stream_options: dict | None = None
    hearth: HearthOptions = HearthOptions()

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    input: str | list[str]
    encoding_format: str = "float"
    dimensions: int | None = None


def model_card(name: str) -> dict:
    return {"id": name, "object": "model", "created": 0, "owned_by": "hearth"}


def sources_text(result: TaskResult) -> str:
    """The citations as the end of the answer's text, for clients that show only the text, headed
    as the window heads them (conversations.source_groups): what the answer quotes, what else was
    found, what a refusal searched."""
    groups = source_groups(result.citations, result.abstained, result.route)
    return "".join(f"\n\n{heading}\n" + "\n".join(f"[{n}] {c.file}, {where(c)}: \u201c{c.quote}\u201d" for n, c in cited)
                   for heading, cited in groups)


def extension(result: TaskResult) -> dict:
    """What Hearth measured about the answer: confidence, route, citations and any escalation."""
    return {"task": result.task, "route": result.route, "confidence": result.confidence, "raw_confidence": result.raw_confidence,
            "citations": [asdict(c) for c in result.citations], "escalation": result.escalation, "timings": result.timings}


def usage(result: TaskResult) -> dict:
    cloud = result.escalation if result.escalation and result.escalation.get("status") == "sent" else None
    prompt = cloud["tokens_in"] if cloud else result.timings.get("tokens_in", 0)
    completion = cloud["tokens_out"] if cloud else result.timings.get("tokens_out", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class Completion:
    """One chat completion's identity, shared by its body or by all of its stream chunks."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def body(self, text: str, finish: str, result: TaskResult) -> dict:
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
                "usage": usage(result), "hearth": extension(result)}

    def chunk(self, delta: dict | None, finish: str | None = None, **extra) -> str:
        """A stream chunk; delta None makes the choice-less chunk that carries usage."""
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        data = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model, "choices": choices, **extra}
        return event(data)


def event(data: dict | str) -> str:
    """One server-sent event, as OpenAI streams them."""
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def embedding_body(model: str, vectors: list[list[float]], encoding: str, tokens: int) -> dict:
    def encode(v: list[float]):
        return base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode("ascii") if encoding == "base64" else v

    data = [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(vectors)]
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
