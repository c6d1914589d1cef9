"""Ask quality: Hearth's ask against a plain RAG baseline, same model, same index, same run.

    .venv/bin/python bench/quality_ask.py [--data tests/data/eval/ask.jsonl] [--limit N] [--evidence] [--verbose]

The documents at the top of tests/data/eval/docs are ingested into a fresh HEARTH_HOME (a
tempdir); the handbook there is a real multi-page PDF. Baseline: 200-token chunks (the default), the top 3 in
one plain prompt, greedy, the same model. Correct = any expected string in the answer
(case-insensitive); for an unanswerable case (expected_source null) = the answer says the
documents don't say. --evidence skips generation and reports only what the selected sentence
scores (the data for tuning ask.THRESHOLD).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EVAL = REPO / "tests" / "data" / "eval"
REFUSALS = ("don't say", "do not say", "not in the documents", "doesn't say", "does not say", "not mentioned", "no information")


def corpus(target: Path, source: Path = EVAL / "docs") -> Path:
    """Copy the ask documents (the top level of the eval docs, not the summarize set) into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for f in sorted(source.iterdir()):
        if f.is_file():
            shutil.copy(f, target / f.name)
    return target


def load_cases(path: Path = EVAL / "ask.jsonl") -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def correct(case: dict, answer: str) -> bool:
    answer = answer.lower()
    if case["expected_source"] is None:
        return any(r in answer for r in REFUSALS)
    return any(e.lower() in answer for e in case["expected"])


def baseline(services, question: str, collection: str) -> str:
    from app.core.retrieval import retrieve

    hits = retrieve(services, question, collection, 3)
    context = "\n\n".join(h.text for h in hits)
    prompt = f"Answer the question using the context.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:"
    return "".join(services.engine.stream([{"role": "user", "content": prompt}], max_tokens=services.settings.max_answer_tokens))


def hearth(services, question: str, collection: str):
    from app.core.streams import drain
    from app.core.tasks.ask import ask

    return drain(ask(services, question, collection))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(EVAL / "ask.jsonl"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--evidence", action="store_true", help="retrieval + sentence selection only, no generation")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    os.environ["HEARTH_HOME"] = str(tmp / "home")
    from app.core.ingest import ingest
    from app.core.retrieval import retrieve, select_sentences
    from app.core.services import Services

    cases = load_cases(Path(args.data))
    cases = cases[: args.limit] if args.limit else cases
    services = Services()
    report = ingest(services, [corpus(tmp / "docs")], "bench")
    assert not report.failed, report.as_json()
    answerable = [c for c in cases if c["expected_source"]]
    hit5 = sum(any(h.file == c["expected_source"] for h in retrieve(services, c["question"], "bench", 5)) for c in answerable)

    if args.evidence:
        scored = []
        for c in cases:
            hits = retrieve(services, c["question"], "bench", 6)
            [best] = select_sentences(services, c["question"], hits, keep=1)
            has = c["expected_source"] is not None and any(e.lower() in best.sentence.lower() for e in c["expected"])
            kind = "ANS" if c["expected_source"] else "UNA"
            scored.append((kind, has, best.score))
            print(f"{kind} {'ok ' if has else '-- '} score={best.score:.3f} sim={best.similarity:.3f} ov={best.overlap:.2f} "
                  f"{c['question'][:50]!r} -> {best.sentence[:70]!r}")
        print(f"retrieval hit@5: {hit5}/{len(answerable)}")
        for t in [x / 100 for x in range(50, 90, 2)]:  # the threshold sweep ask.THRESHOLD is picked from
            kept = sum(1 for k, has, s in scored if k == "ANS" and has and s >= t)
            refused = sum(1 for k, _, s in scored if k == "UNA" and s < t)
            print(f"threshold {t:.2f}: right evidence kept {kept}, unanswerable refused {refused}/{sum(k == 'UNA' for k, _, _ in scored)}")
        services.close()
        return

    rows = {"baseline": [], "hearth": []}
    ttft, conf = [], {"answered": [], "refused": []}
    for c in cases:
        b = baseline(services, c["question"], "bench")
        h = hearth(services, c["question"], "bench")
        rows["baseline"].append((c, correct(c, b)))
        rows["hearth"].append((c, correct(c, h.text)))
        ttft.append(h.timings["ttft_s"])
        conf["refused" if h.text.startswith("The documents don't say") else "answered"].append(h.confidence)
        if args.verbose:
            print(f"{c['id']} base={'ok' if rows['baseline'][-1][1] else '--'} hearth={'ok' if rows['hearth'][-1][1] else '--'} "
                  f"conf={h.confidence:.2f} | {h.text[:150]!r}", file=sys.stderr)
    services.close()

    def score(name: str, which) -> tuple[int, int]:
        picked = [ok for c, ok in rows[name] if which(c)]
        return sum(picked), len(picked)

    print(f"cases: {len(cases)} ({len(answerable)} answerable, {len(cases) - len(answerable)} unanswerable)")
    print(f"retrieval hit@5 (right file in top 5 chunks): {hit5}/{len(answerable)} = {hit5 / max(1, len(answerable)):.0%}")
    acc = {}
    for name in rows:
        a, n = score(name, lambda c: c["expected_source"] is not None)
        r, m = score(name, lambda c: c["expected_source"] is None)
        acc[name] = a / max(1, n)
        print(f"{name:8s} answer accuracy {a}/{n} = {a / max(1, n):.0%}   honest refusals on unanswerable {r}/{m} = {r / max(1, m):.0%}")
        e, k = score(name, lambda c: c["expected_source"] is not None and "lang" not in c)
        o, j = score(name, lambda c: "lang" in c)
        print(f"{'':8s} of which English {e}/{k} = {e / max(1, k):.0%}; other languages (answer or honest don't-know) {o}/{j}")
    ratio = acc["hearth"] / acc["baseline"] if acc["baseline"] else float("inf")
    print(f"accuracy ratio hearth/baseline: {ratio:.2f}x (goal >= 2.5x)")
    for kind, values in conf.items():
        if values:
            print(f"hearth confidence when {kind}: mean {statistics.mean(values):.2f} (n={len(values)})")
    print(f"hearth ttft p50 {statistics.median(ttft):.3f}s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
