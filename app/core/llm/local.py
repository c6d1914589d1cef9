"""The local model behind one owner thread.

A llama context is not thread-safe (llama-cpp-python#1529), so exactly one thread ever touches
the `Llama` object. Callers queue requests and iterate over tokens as they arrive; cancelling
takes effect between two tokens.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.core.models import ModelError
from app.core.models.gguf import GGUFError, read_info

_END = object()


def default_threads() -> int:
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


@dataclass
class Generation:
    """What a finished generation measured; filled in as tokens stream."""

    text: str = ""
    tokens_in: int = 0
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
    abandoned: threading.Event = field(default_factory=threading.Event)  # the consumer stopped iterating

    def stopped(self) -> bool:
        return self.cancel.is_set() or self.abandoned.is_set()


class LocalEngine:
    def __init__(self, model_path: Path, n_ctx: int = 2048, n_threads: int = 0, n_batch: int = 256, n_gpu_layers: int = 0) -> None:
        try:
            read_info(model_path)  # llama.cpp hides why a load failed; our header check does not
        except (GGUFError, OSError) as exc:
            raise ModelError(f"model file {model_path} is unusable: {exc}; fetch or import it again") from exc
        self.model_path = model_path
        self._params = dict(n_ctx=n_ctx, n_threads=n_threads or default_threads(), n_batch=n_batch, n_gpu_layers=n_gpu_layers)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
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

        stream = self._llm.create_chat_completion(
            messages=job.messages, max_tokens=job.max_tokens, temperature=0.0, stream=True,
            logits_processor=LogitsProcessorList([record]),
        )
        try:
            for chunk in stream:
                if job.stopped():
                    result.cancelled = True
                    break
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    if not result.text:
                        result.ttft_s = time.perf_counter() - started
                    result.text += text
                    job.out.put(text)
        finally:
            stream.close()
        result.tokens_out = len(result.logprobs)
        result.tokens_in = max(0, self._llm.n_tokens - result.tokens_out)
        result.total_s = time.perf_counter() - started

    # -- any thread ----------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Tokenizing only reads the vocabulary, which is safe beside a running generation."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[dict], max_tokens: int = 256, cancel: threading.Event | None = None,
               result: Generation | None = None) -> Iterator[str]:
        """Yield text pieces as the model produces them. Closing the iterator cancels the job."""
        job = _Job(messages, max_tokens, queue.Queue(), cancel or threading.Event(), result or Generation())
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
