"""Quality against the naive use of the same model, every task in one command.

    .venv/bin/python bench/quality.py [classify|extract|ask ...] [--limit N]

Runs bench/quality_classify.py, quality_extract.py and quality_ask.py one after another (each
compares Hearth with its plain baseline in the same run, on the same model and cases, and
prints both). The goals from the issue: classify +15 points, extract +25 points of all fields
correct, ask 2.5x the answer accuracy with >= 75% honest refusals.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TASKS = ("classify", "extract", "ask")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tasks", nargs="*", help=f"some of {', '.join(TASKS)} (default: all)")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    if unknown := set(args.tasks) - set(TASKS):
        parser.error(f"unknown task {', '.join(sorted(unknown))}")
    failed = []
    for task in args.tasks or TASKS:
        print(f"== {task} ==", flush=True)
        extra = ["--limit", str(args.limit)] if args.limit else []
        if subprocess.run([sys.executable, str(BENCH / f"quality_{task}.py"), *extra]).returncode:
            failed.append(task)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
