"""Ask latency: p50 and p95 of time to first token and total time over the benchmark corpus.

    .venv/bin/python bench/ask.py [--limit N]

The corpus is the ask documents of tests/data/eval (ingested into a fresh HEARTH_HOME in a tempdir) and its questions,
with the default model and settings. One warm-up question (model and embedder load) is not
counted. TTFT is measured here, from the call to the first streamed piece (goal: p50 <= 1.0 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(services, question: str, collection: str) -> tuple[float, float, str]:
    from app.core.streams import drain
    from app.core.tasks.ask import ask

    started, first = time.perf_counter(), []

    def note_first(_piece) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    result = drain(ask(services, question, collection), note_first)
    return (first or [0.0])[0], time.perf_counter() - started, result.text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    os.environ["HEARTH_HOME"] = str(tmp / "home")
    from quality_ask import corpus, load_cases

    from app.core.ingest import ingest
    from app.core.services import Services

    services = Services()
    ingest(services, [corpus(tmp / "docs")], "bench")
    cases = load_cases()
    cases = cases[: args.limit] if args.limit else cases
    timed(services, "warm-up: how much is the rent?", "bench")
    ttft, total, refused = [], [], 0
    for case in cases:
        first, whole, text = timed(services, case["question"], "bench")
        ttft.append(first)
        total.append(whole)
        refused += text.startswith("The documents don't say")
    services.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(cases)} questions ({refused} answered 'The documents don't say'); load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"ttft  p50 {percentile(ttft, 50):.3f} s   p95 {percentile(ttft, 95):.3f} s   (goal p50 <= 1.0 s)")
    print(f"total p50 {percentile(total, 50):.3f} s   p95 {percentile(total, 95):.3f} s")


if __name__ == "__main__":
    main()
