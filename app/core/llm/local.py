"""The local model behind one owner thread.

A llama context is not thread-safe (llama-cpp-python#1529), so exactly one thread ever touches
the `Llama` object. Callers queue requests and iterate over tokens as they arrive; cancelling
takes effect between two tokens.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.core.errors import HearthError
from app.core.llm.cpu import installed_library
from app.core.llm.prefix_cache import PrefixCache
from app.core.models import ModelError
from app.core.models.gguf import GGUFError, read_info

_END = object()
# Quotes, braces and backslashes in enum strings crashed llama.cpp's grammar sampler (a segfault
# on an injected '{"hacked": true}'); a process crash is never acceptable, so such schemas are refused.
_GRAMMAR_UNSAFE = re.compile(r'["{}\\\[\]<>]|[\x00-\x1f]')


class UnsafeSchema(HearthError):
    pass


def grammar_safe(value: str) -> bool:
    return not _GRAMMAR_UNSAFE.search(value)


def _unsafe_values(schema) -> list[str]:
    """Enum and const strings anywhere in a schema that the grammar sampler cannot take."""
    if isinstance(schema, dict):
        own = [v for v in schema.get("enum", []) + [schema.get("const")] if isinstance(v, str) and not grammar_safe(v)]
        return own + [bad for v in schema.values() for bad in _unsafe_values(v)]
    if isinstance(schema, list):
        return [bad for v in schema for bad in _unsafe_values(v)]
    return []


def default_threads() -> int:
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


@dataclass
class Generation:
    """What a finished generation measured; filled in as tokens stream."""

    text: str = ""
    tokens_in: int = 0
    tokens_cached: int = 0  # prompt tokens whose evaluation was reused, not repeated
    tokens_out: int = 0
    ttft_s: float = 0.0
    total_s: float = 0.0
    logprobs: list[float] = field(default_factory=list)
    cancelled: bool = False

    @property
    def mean_prob(self) -> float:
        """Geometric-mean probability of the chosen tokens (0..1)."""
        return math.exp(sum(self.logprobs) / len(self.logprobs)) if self.logprobs else 0.0


@dataclass
class _Job:
    messages: list[dict]
    max_tokens: int
    out: queue.Queue
    cancel: threading.Event  # the caller's flag: only read here, never set
    result: Generation
    json_schema: dict | None = None  # constrain the output to this schema (grammar decoding)
    repeat_penalty: float = 1.0  # >1 keeps a small model out of loops in free text
    abandoned: threading.Event = field(default_factory=threading.Event)  # the consumer stopped iterating

    def stopped(self) -> bool:
        return self.cancel.is_set() or self.abandoned.is_set()


@dataclass
class _Call:
    fn: object
    out: queue.Queue


# For a GGUF without a chat template (a base model): plain labelled turns any model can continue.
_PLAIN_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] | capitalize }}: {{ m['content'] }}\n\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)


def _formatter(llm):
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos, bos = llm.token_eos(), llm.token_bos()
    return Jinja2ChatFormatter(
        template=llm.metadata.get("tokenizer.chat_template") or _PLAIN_TEMPLATE,
        eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
    )


def _chat_prompt(llm, messages: list[dict]) -> tuple[list[int], list[str]]:
    """The prompt tokens and stop strings the GGUF's chat template makes of these messages."""
    formatted = _formatter(llm)(messages=messages)
    tokens = llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
    stop = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else []
    return tokens, stop


def _last_logprobs(llm) -> np.ndarray:
    """Log-softmax of the logits after the last evaluated token."""
    logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),)).astype(np.float64)
    top = logits.max()
    return logits - (top + np.log(np.exp(logits - top).sum()))


class LocalEngine:
    def __init__(self, model_path: Path, n_ctx: int = 2048, n_threads: int = 0, n_batch: int = 512, n_gpu_layers: int = -1,
                 cache_bytes: int = 256 << 20) -> None:
        """n_threads 0 means every core we may use; n_gpu_layers -1 offloads all layers when
        llama.cpp was built with a GPU backend, and is ignored otherwise."""
        try:
            read_info(model_path)  # llama.cpp hides why a load failed; our header check does not
        except (GGUFError, OSError) as exc:
            raise ModelError(f"model file {model_path} is unusable: {exc}; fetch or import it again") from exc
        library = installed_library()  # a library this CPU cannot run would kill the process, not raise
        if library.problems:
            raise ModelError(library.problems[0])
        self.model_path = model_path
        self._params = dict(n_ctx=n_ctx, n_threads=n_threads or default_threads(), n_batch=n_batch, n_gpu_layers=n_gpu_layers)
        self._cache = PrefixCache(cache_bytes)  # repeated questions over the same evidence reuse the evaluated prefix
        self._jobs: queue.Queue[_Job | _Call | None] = queue.Queue()
        self._ready = threading.Event()
        self._load_error: BaseException | None = None
        self._llm = None
        self._thread = threading.Thread(target=self._own, name="llama-owner", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._load_error is not None:
            raise self._load_error

    @property
    def n_ctx(self) -> int:
        return int(self._params["n_ctx"])

    @property
    def n_gpu_layers(self) -> int:
        return int(self._params["n_gpu_layers"])

    # -- owner thread --------------------------------------------------------------------
    def _own(self) -> None:
        try:
            from llama_cpp import Llama

            self._llm = Llama(model_path=str(self.model_path), verbose=False, **self._params)
        except Exception as exc:  # noqa: BLE001 - any load failure becomes one actionable line
            self._load_error = ModelError(f"llama.cpp could not load {self.model_path} ({exc}); fetch or import it again")
        finally:
            self._ready.set()
        if self._load_error is not None:
            return
        while (job := self._jobs.get()) is not None:
            try:
                if isinstance(job, _Call):
                    job.out.put(job.fn(self._llm))
                else:
                    self._generate(job)
            except Exception as exc:  # noqa: BLE001 - the caller re-raises it on its own thread
                job.out.put(exc)
            finally:
                job.out.put(_END)
        self._llm.close()

    def _generate(self, job: _Job) -> None:
        from llama_cpp import LogitsProcessorList

        result = job.result
        if job.stopped():  # cancelled while it waited in the queue
            result.cancelled = True
            return
        started = time.perf_counter()

        def record(_ids, logits):
            # Decoding is greedy, so the chosen token is the argmax: its log-probability is
            # max - logsumexp, with no need for logits_all (which would slow every token).
            top = float(np.max(logits))
            result.logprobs.append(top - (top + float(np.log(np.sum(np.exp(logits - top))))))
            return logits

        grammar = None
        if job.json_schema is not None:
            from llama_cpp import LlamaGrammar

            grammar = LlamaGrammar.from_json_schema(json.dumps(job.json_schema), verbose=False)
        # The chat template always comes from the GGUF itself, never a guessed built-in one.
        prompt, stop = _chat_prompt(self._llm, job.messages)
        result.tokens_cached = self._cache.restore(self._llm, prompt)
        stream = self._llm.create_completion(
            prompt, max_tokens=job.max_tokens, temperature=0.0, stream=True, stop=stop,
            logits_processor=LogitsProcessorList([record]), grammar=grammar, repeat_penalty=job.repeat_penalty,
        )
        try:
            for chunk in stream:
                if job.stopped():
                    result.cancelled = True
                    break
                text = chunk["choices"][0]["text"]
                if text:
                    if not result.text:
                        result.ttft_s = time.perf_counter() - started
                    result.text += text
                    job.out.put(text)
        finally:
            stream.close()
        result.tokens_out = len(result.logprobs)
        result.tokens_in = len(prompt)
        self._cache.save(self._llm)
        result.total_s = time.perf_counter() - started

    # -- any thread ----------------------------------------------------------------------
    def _call(self, fn):
        """Run fn(llm) on the owner thread and return its result."""
        call = _Call(fn, queue.Queue())
        self._jobs.put(call)
        value = call.out.get()
        call.out.get()  # the _END marker
        if isinstance(value, BaseException):
            raise value
        return value

    def render(self, messages: list[dict]) -> str:
        """The prompt text the GGUF's chat template makes of these messages."""
        return self._call(lambda llm: _formatter(llm)(messages=messages).prompt)

    def score_choices(self, messages: list[dict], choices: list[str]) -> list[float]:
        """Log-probability of each choice as the start of the assistant's reply.

        The prompt is evaluated once; each choice is then scored token by token from the
        model's own distribution, which is what a classifier's probabilities must come from.
        """
        if not choices:
            return []

        def score(llm) -> list[float]:
            prompt, _stop = _chat_prompt(llm, messages)
            if len(prompt) + max(len(llm.tokenize(c.encode(), add_bos=False)) for c in choices) >= self.n_ctx:
                raise ValueError(f"the prompt ({len(prompt)} tokens) does not fit the context of {self.n_ctx}")
            llm.reset()
            llm.eval(prompt)
            base, start = _last_logprobs(llm), llm.n_tokens
            totals = []
            for choice in choices:
                tokens = llm.tokenize(choice.encode("utf-8"), add_bos=False, special=False)
                logprobs, total = base, 0.0
                for i, token in enumerate(tokens):
                    total += float(logprobs[token])
                    if i + 1 < len(tokens):
                        llm.eval([token])
                        logprobs = _last_logprobs(llm)
                totals.append(total)
                llm.n_tokens = start  # rewind: eval() drops the choice's cache entries next time
            # Leave the last prompt token unevaluated: the live logits are a scored choice's, and a
            # generation on the same prompt must not sample from them as if they were the prompt's.
            llm.n_tokens = start - 1
            return totals

        return self._call(score)

    def count_tokens(self, text: str) -> int:
        """Tokenizing only reads the vocabulary, which is safe beside a running generation."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[dict], max_tokens: int = 256, cancel: threading.Event | None = None,
               result: Generation | None = None, json_schema: dict | None = None, repeat_penalty: float = 1.0) -> Iterator[str]:
        """Yield text pieces as the model produces them. Closing the iterator cancels the job."""
        if json_schema is not None and (bad := _unsafe_values(json_schema)):
            raise UnsafeSchema(f"the schema allows the value {bad[0][:40]!r}; quotes, braces and backslashes in enum values are not supported")
        job = _Job(messages, max_tokens, queue.Queue(), cancel or threading.Event(), result or Generation(), json_schema, repeat_penalty)
        if not self._thread.is_alive():
            raise RuntimeError("the local model has been shut down")
        self._jobs.put(job)
        try:
            while (item := job.out.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            job.abandoned.set()  # a consumer that stops early frees the owner thread at the next token

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=30)
