"""The local API's cost: time to first token and tokens/s through `hearth serve` (real HTTP on
loopback, the `openai` client streaming) against calling the engine in process, same run.

    scripts/test-session.sh --exec .venv/bin/python bench/serve.py [--rounds 7] [--max-tokens 128]

(The test session gives the keyring that holds the API's token.) The server is the real
`hearth serve` process, in a fresh HEARTH_HOME, loading the same GGUF with the same n_ctx and
n_threads as the in-process LocalEngine. Both get the same messages, greedy, with the chat task's
repeat penalty. Each round puts a new note at the start of the prompt so neither side reuses an
evaluated prefix, and the order alternates between rounds because the machine's load drifts.
Reported: median time to first token, median decode tokens/s ((pieces - 1) / (last piece - first
piece), as the consumer sees them), and served/in-process ratios (goal >= 0.9): the ratio of
medians and the median of per-round ratios (pairs runs made seconds apart). Load average too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DOC = (REPO / "tests" / "data" / "eval" / "docs" / "dishwasher-manual.txt").read_text(encoding="utf-8")


def messages(note: str) -> list[dict]:
    return [{"role": "system", "content": f"{note} Answer from the document only."},
            {"role": "user", "content": f"Document:\n{DOC}\n\nQuestion: How do I clean the filter, step by step?"}]


def consume(pieces, started: float) -> tuple[float, float, int]:
    """Seen from the consumer: first piece, last piece (seconds from the call at `started`), pieces."""
    first, last, n = 0.0, 0.0, 0
    for _ in pieces:
        last = time.perf_counter() - started
        first = first or last
        n += 1
    return first, last, n


def rate(first: float, last: float, pieces: int) -> float:
    return (pieces - 1) / (last - first) if pieces > 1 and last > first else 0.0


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = home / "serve.log"
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=REPO,
                               env={**os.environ, "HEARTH_HOME": str(home)},
                               stdout=subprocess.DEVNULL, stderr=log.open("wb"), stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while "serving" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"hearth serve did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    return process, f"http://127.0.0.1:{port}/v1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()

    import openai

    from app.core.llm.local import LocalEngine
    from app.core.models import chat_model_path
    from app.core.secrets import serve_token
    from app.core.settings import Settings
    from app.core.tasks.chat import REPEAT_PENALTY

    defaults = Settings()
    load_before = os.getloadavg()
    home = Path(tempfile.mkdtemp(prefix="hearth-bench-serve-"))
    server, base_url = start_server(home)
    engine = LocalEngine(chat_model_path(), n_ctx=defaults.n_ctx, n_threads=defaults.n_threads)
    api = openai.OpenAI(base_url=base_url, api_key=serve_token(), max_retries=0, timeout=300)

    def served(msgs) -> tuple[float, float, int]:
        started = time.perf_counter()  # the call returns with the first piece: the server makes it before answering
        stream = api.chat.completions.create(model="hearth", messages=msgs, max_tokens=args.max_tokens, stream=True)
        return consume((c for c in stream if c.choices and c.choices[0].delta.content), started)

    def in_process(msgs) -> tuple[float, float, int]:
        return consume(engine.stream(msgs, max_tokens=args.max_tokens, repeat_penalty=REPEAT_PENALTY), time.perf_counter())

    prompt_tokens, threads = engine.count_tokens(DOC), engine._params["n_threads"]  # read now: the engine is closed before the report
    sides = {"served": served, "in-process": in_process}
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in sides}
    try:
        for name, run in sides.items():  # warm-up: first-touch allocations on both sides
            run(messages(f"Warm-up {name}."))
        for r in range(args.rounds):
            order = list(sides) if r % 2 == 0 else list(sides)[::-1]
            for name in order:
                runs[name].append(sides[name](messages(f"Round {r} {name} {time.time_ns()}.")))
            print(f"round {r + 1}: " + ", ".join(f"{n} TTFT {rs[-1][0] * 1000:.0f} ms, {rate(*rs[-1]):.1f} tokens/s" for n, rs in runs.items())
                  + f"; load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        api.close()
        server.terminate()
        server.wait(30)
        engine.close()
        shutil.rmtree(home, ignore_errors=True)
    load_after = os.getloadavg()

    ttft = {n: statistics.median(f for f, _, _ in rs) for n, rs in runs.items()}
    tps = {n: statistics.median(rate(*x) for x in rs) for n, rs in runs.items()}
    pieces = {n: statistics.median(p for _, _, p in rs) for n, rs in runs.items()}
    per_round = statistics.median(rate(*s) / rate(*i) for s, i in zip(runs["served"], runs["in-process"]) if rate(*i))
    print(f"model {chat_model_path().name}; n_ctx {defaults.n_ctx}, n_threads {threads}; "
          f"{args.rounds} rounds of {args.max_tokens} tokens max, prompt {prompt_tokens} document tokens")
    for name in sides:
        print(f"{name:11s} TTFT median {ttft[name] * 1000:7.1f} ms   decode median {tps[name]:6.1f} tokens/s   "
              f"({pieces[name]:.0f} pieces per answer)")
    print(f"served / in-process tokens/s: ratio of medians {tps['served'] / tps['in-process']:.3f}, "
          f"median of per-round ratios {per_round:.3f} (goal >= 0.9)")
    print(f"TTFT added by the API: {(ttft['served'] - ttft['in-process']) * 1000:+.1f} ms")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (2 cores)")


if __name__ == "__main__":
    main()
