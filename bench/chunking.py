"""Chunk-size sweep: retrieval quality and ingest speed of Hearth's pipeline per chunk setting,
on the deterministic corpus of bench/ingest.py. Run: .venv/bin/python bench/chunking.py"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest as bench  # noqa: E402 - bench/ingest.py, the corpus and the hit@k measures

SETTINGS = [(96, 16), (128, 24), (200, 40), (256, 48)]  # (tokens, overlap); MiniLM reads at most 256


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=320)
    ap.add_argument("--questions", type=int, default=120)
    args = ap.parse_args()
    from app.core import settings as settings_mod
    from app.core.embedding import Embedder

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        questions = bench.make_corpus(work / "corpus", args.pages, args.questions)
        os.environ["HEARTH_HOME"] = str(work / "embedder-home")
        embedder = Embedder()
        print(f"{len(questions)} labelled questions over {args.pages} PDF pages plus notes; embedder {embedder.backend}")
        print(f"{'tokens':>6} {'overlap':>7} {'chunks':>7} {'chunks/s':>9} {'hit@1':>6} {'hit@5':>6} {'MRR@5':>6}")
        for tokens, overlap in SETTINGS:
            home = work / f"home-{tokens}"
            home.mkdir()
            os.environ["HEARTH_HOME"] = str(home)
            settings_mod.save(settings_mod.Settings(retrieval=settings_mod.RetrievalSettings(chunk_tokens=tokens, chunk_overlap=overlap)))
            run = bench.hearth_ingest(embedder, work / "corpus" / "docs", home)
            q = bench.quality(bench.hearth_ranks(embedder, home, questions))
            print(f"{tokens:>6} {overlap:>7} {run['chunks']:>7} {run['chunks'] / run['seconds']:>9.1f} "
                  f"{q['hit@1']:>6.1%} {q['hit@5']:>6.1%} {q['mrr@5']:>6.3f}", flush=True)


if __name__ == "__main__":
    main()
