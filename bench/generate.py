"""Generation speed: Hearth's LocalEngine.stream against raw llama-cpp-python, same run.

    .venv/bin/python bench/generate.py [--rounds 7] [--max-tokens 96]

Both load the same GGUF with the same n_ctx, n_threads, n_batch; both get the same prompt text
(the chat template rendered once by Hearth; raw llama-cpp-python gets it through
`create_completion`), greedy, repeat_penalty 1.0. Each round puts a new note at the start of the
prompt so neither side reuses an evaluated prefix, and the order alternates between rounds
because this machine's load drifts. A third row, raw plus Hearth's per-token log-probability
processor, shows how much of any gap that processor costs. Reported: median time to first token, median decode
tokens/s ((pieces - 1) / (last piece - first piece), as the consumer sees them), and Hearth/raw ratios (goal >= 0.95):
the ratio of medians, and the median of the per-round ratios, which pairs runs made seconds apart and so
cancels most of the machine's drift.

Then the prefix cache: TTFT for a question on document A (uncached), a question on document B,
and the same question on A again, which must come back from the RAM cache (goal: <= 30%). The check is
repeated; the first repetition also pays for first-touch allocation of the cache's memory, so both the
first and the median are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DOC = (REPO / "tests" / "data" / "eval" / "docs" / "dishwasher-manual.txt").read_text(encoding="utf-8")
OTHER = (REPO / "tests" / "data" / "eval" / "docs" / "health-plan.txt").read_text(encoding="utf-8")


def messages(note: str, doc: str, question: str) -> list[dict]:
    return [{"role": "system", "content": f"{note} Answer from the document only."},
            {"role": "user", "content": f"Document:\n{doc}\n\nQuestion: {question}"}]


def consume(pieces) -> tuple[float, float, float, int]:
    """Seen from the consumer: first piece, last piece, end of the call, pieces."""
    started, first, last, n = time.perf_counter(), 0.0, 0.0, 0
    for _ in pieces:
        last = time.perf_counter() - started
        first = first or last
        n += 1
    return first, last, time.perf_counter() - started, n


def run_hearth(engine, msgs, max_tokens) -> tuple[float, float, float, int]:
    return consume(engine.stream(msgs, max_tokens=max_tokens))


def run_raw(llm, prompt: str, max_tokens: int, logprobs: bool = False) -> tuple[float, float, float, int]:
    extra = {}
    if logprobs:  # what Hearth adds per token: the chosen token's log-probability (for confidence)
        from llama_cpp import LogitsProcessorList

        def record(_ids, logits):
            top = float(np.max(logits))
            float(np.log(np.sum(np.exp(logits - top))))
            return logits

        extra["logits_processor"] = LogitsProcessorList([record])
    stream = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0, stream=True, **extra)
    return consume(c for c in stream if c["choices"][0]["text"])


def rate(first: float, last: float, _end: float, pieces: int) -> float:
    """Streaming tokens/s between the first and the last piece (one piece is one token here)."""
    return (pieces - 1) / (last - first) if pieces > 1 and last > first else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--cache-checks", type=int, default=3)
    args = parser.parse_args()
    from llama_cpp import Llama

    from app.core.llm.local import LocalEngine, default_threads
    from app.core.models import chat_model_path

    path = chat_model_path()
    engine = LocalEngine(path, n_ctx=2048)
    params = dict(engine._params)
    raw = Llama(model_path=str(path), verbose=False, **params)
    print(f"model {path.name}; n_ctx {params['n_ctx']}, n_threads {params['n_threads']} (cores usable {default_threads()}), "
          f"load average {os.getloadavg()[0]:.2f}")

    results = {"hearth": [], "raw": [], "raw+logprobs": []}
    question = "Explain step by step how to care for and clean the dishwasher."
    run_hearth(engine, messages("Warm-up.", DOC, question), 4)  # first-call costs out of the way
    run_raw(raw, engine.render(messages("Warm-up.", DOC, question)), 4)
    for r in range(args.rounds):
        msgs = messages(f"Round {r} note {time.time_ns()}.", DOC, question)
        prompt = engine.render(msgs)
        order = [("hearth", lambda: run_hearth(engine, msgs, args.max_tokens)), ("raw", lambda: run_raw(raw, prompt, args.max_tokens)),
                 ("raw+logprobs", lambda: run_raw(raw, prompt, args.max_tokens, logprobs=True))]
        for name, fn in order if r % 2 == 0 else order[::-1]:
            results[name].append(fn())
    summary = {}
    for name, runs in results.items():
        ttft = statistics.median(run[0] for run in runs)
        tps = statistics.median(rate(*run) for run in runs)
        tokens = statistics.median(run[3] for run in runs)
        end = statistics.median(run[2] - run[1] for run in runs)
        summary[name] = (ttft, tps)
        print(f"{name:12s} ttft p50 {ttft * 1000:7.1f} ms   streaming {tps:6.1f} tok/s   tokens out p50 {tokens:.0f}   "
              f"after last token {end * 1000:6.1f} ms   ({len(runs)} rounds)")
    paired = statistics.median(rate(*h) / rate(*r) for h, r in zip(results["hearth"], results["raw"]) if rate(*r))
    print(f"hearth/raw decode tokens/s: ratio of medians {summary['hearth'][1] / summary['raw'][1]:.2f}, "
          f"median of per-round ratios {paired:.2f} (goal >= 0.95); raw/hearth ttft ratio {summary['raw'][0] / summary['hearth'][0]:.2f}; "
          f"raw with Hearth's per-token log-prob / raw: {summary['raw+logprobs'][1] / summary['raw'][1]:.2f}")

    shares = []
    for i in range(args.cache_checks):
        q = "What does error E4 mean?"
        cold_msgs = messages(f"Cache check {i} {time.time_ns()}.", DOC, q)
        cold = run_hearth(engine, cold_msgs, 16)
        run_hearth(engine, messages(f"Cache check {i}.", OTHER, "What is the deductible?"), 16)  # another document in between
        warm = run_hearth(engine, cold_msgs, 16)
        shares.append(warm[0] / cold[0])
        print(f"prefix cache check {i + 1}: same question on the same document, ttft uncached {cold[0] * 1000:.1f} ms, "
              f"repeated {warm[0] * 1000:.1f} ms = {warm[0] / cold[0]:.0%}")
    print(f"prefix cache: repeated/uncached ttft, first {shares[0]:.0%}, median {statistics.median(shares):.0%} (goal <= 30%)")
    raw.close()
    engine.close()


if __name__ == "__main__":
    main()
