"""Ask quality: Hearth's ask against a plain RAG baseline, same model, same index, same run.

    .venv/bin/python bench/quality_ask.py [--squad PATH] [--limit N] [--standin] [--verbose]
    .venv/bin/python bench/quality_ask.py --fit [--squad PATH] [--standin]   # refit the answerability signal

Data sets, each in its own collection of one fresh HEARTH_HOME (a tempdir):
- regression: tests/data/eval/ask.jsonl over tests/data/eval/docs (written here: not evidence,
  but dev data for the fit);
- squad: SQuAD 2.0 dev data (Rajpurkar et al. 2018, CC BY-SA 4.0): public questions written by
  others, a third of them unanswerable from their paragraph by design. Every paragraph becomes
  one document of one collection, so a question must be answered from the right one of them.
  It is not committed (its licence asks for attribution and share-alike, and it is 4 MB): give
  its JSON with --squad PATH or HEARTH_SQUAD_V2. Any file in the official format works: the
  official dev-v2.0.json from the SQuAD project, or a public repository's copy of part of it
  (the figures in the notes used appcoreopc/squad2controlled's dev-v2.0.json: the articles
  "Normans" and "Rhine", 83 paragraphs, 706 questions, 320 of them unanswerable). The split is fixed
  before tuning by app.core.evaluation.split on the paragraph's id (title and index), so a test
  question's paragraph never gave a dev question; each part is capped at --per-part cases,
  taken in the order of the sha256 of the question id.

- realdocs: the questions of bench/data/realdocs_questions.jsonl (written by the ingestion work
  for bench/realdocs.py, split by its rule: id hash 0 mod 4 is test) over only the Python 3.11
  doc pages they cite (python3.11-doc; the gnuplot PDF's questions when gnuplot-doc is there
  too), so its retrieval is easier than over the whole folder: bench/realdocs.py measures that.

Baseline: the top 3 chunks in one plain prompt, greedy, the same model. Correct = any expected
string in the answer (case-insensitive) and no refusal; for an unanswerable case = an honest
refusal (app.core.evaluation.scoring.refuses). AUROC: Hearth's confidence against correctness.
--standin runs Hearth and the baseline again with the catalog's 1.5B model as the local model.
--fit computes the answerability signals on the dev cases (regression + squad dev + realdocs dev)
and writes the logistic-regression fit to resources/calibration/answerability.json (with
--standin, the 1.5B model's own fit beside it); each data set weighs the same. With
--realdocs-signals FILE (written by `bench/realdocs.py --signals FILE` over the whole corpus) the
realdocs dev rows come from there instead of the cited-pages subset.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EVAL = REPO / "tests" / "data" / "eval"
STANDIN = "qwen2.5-coder-1.5b-instruct-q4_k_m"


def corpus(target: Path, source: Path = EVAL / "docs") -> Path:
    """Copy the ask documents (the top level of the eval docs, not the summarize set) into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for f in sorted(source.iterdir()):
        if f.is_file():
            shutil.copy(f, target / f.name)
    return target


def load_cases(path: Path = EVAL / "ask.jsonl") -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def squad(path: Path, target: Path, per_part: int) -> dict[str, list[dict]]:
    """SQuAD 2.0 JSON → one text file per paragraph under `target`, and the dev and test cases."""
    from app.core.evaluation.split import part

    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as exc:
        sys.exit(f"{path}: not SQuAD 2.0 JSON ({exc})")
    target.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list[dict]] = {"dev": [], "test": []}
    for article in data:
        for n, paragraph in enumerate(article["paragraphs"]):
            key = f"{article['title']}-{n:03d}"
            name = re.sub(r"[^\w-]", "_", key) + ".txt"
            (target / name).write_text(paragraph["context"] + "\n", encoding="utf-8")
            for qa in paragraph["qas"]:
                impossible = qa.get("is_impossible", False)
                parts[part(key)].append({"id": qa["id"], "question": qa["question"],
                                         "expected": sorted({a["text"] for a in qa["answers"]}),
                                         "expected_source": None if impossible else name, "expected_page": None})
    order = lambda c: hashlib.sha256(c["id"].encode()).hexdigest()  # noqa: E731 - a fixed, content-free order
    return {p: sorted(cases, key=order)[:per_part] for p, cases in parts.items()}


def realdocs(target: Path) -> dict[str, list[dict]]:
    """The realdocs questions whose documents are installed, as cases, with those documents copied."""
    sys.path.insert(0, str(REPO / "bench"))
    from realdocs import PYTHON_DOCS, load_questions, split

    pdf = Path("/usr/share/doc/gnuplot-doc/gnuplot.pdf")
    target.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list[dict]] = {"dev": [], "test": []}
    for q in load_questions():
        source = q.get("file")
        path = None if source is None else pdf if source == "gnuplot.pdf" else PYTHON_DOCS / source
        if path is not None and not path.is_file():
            continue
        if path is not None:
            shutil.copy(path, target / path.name)
        parts[split(q)].append({"id": q["id"], "question": q["question"], "expected": q.get("answers") or [],
                                "expected_source": path.name if path else None, "expected_page": q.get("page")})
    return parts


def correct(case: dict, answer: str) -> bool:
    from app.core.evaluation.scoring import refuses

    if case["expected_source"] is None:
        return refuses(answer)
    return any(e.lower() in answer.lower() for e in case["expected"]) and not refuses(answer)


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


def auroc(confidence: list[float], right: list[bool]) -> float | None:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(right, confidence)), 3) if 0 < sum(right) < len(right) else None


def evaluate(services, name: str, cases: list[dict], collection: str, verbose: bool) -> list[str]:
    """Baseline and Hearth on one set of cases; the printed lines."""
    from app.core.evaluation.scoring import refuses

    rows = []
    for c in cases:
        b, h = baseline(services, c["question"], collection), hearth(services, c["question"], collection)
        hit = any(x.file == c["expected_source"] for x in h.citations)
        rows.append((c, correct(c, b), refuses(b), correct(c, h.text), h.abstained, h.confidence, h.timings["ttft_s"], hit))
        if verbose:
            print(f"  {c['id']} base={'ok' if rows[-1][1] else '--'} hearth={'ok' if rows[-1][3] else '--'} "
                  f"p={h.data['answerable'] if h.data else 0:.2f} conf={h.confidence:.2f} | {h.text[:120]!r}", file=sys.stderr)
    ans = [r for r in rows if r[0]["expected_source"]]
    una = [r for r in rows if not r[0]["expected_source"]]

    def share(items, i) -> str:
        k = sum(bool(r[i]) for r in items)
        return f"{k}/{len(items)} = {k / max(1, len(items)):.0%}"

    lines = [f"{name}: {len(rows)} cases ({len(ans)} answerable, {len(una)} unanswerable); right file cited {share(ans, 7)}"]
    lines.append(f"  baseline  answers right {share(ans, 1)}   honest refusals {share(una, 1)}   false refusals {share(ans, 2)}")
    lines.append(f"  hearth    answers right {share(ans, 3)}   honest refusals {share(una, 3)}   false refusals {share(ans, 4)}"
                 f"   AUROC {auroc([r[5] for r in rows], [r[3] for r in rows])}   ttft p50 {statistics.median(r[6] for r in rows):.3f}s")
    return lines


def fit_signals(services, cases_by_collection: dict[str, list[dict]], engine_path: Path, given: list[dict]) -> None:
    """Compute the answerability signals on dev cases (plus the `given` rows of another run), fit,
    and save beside the shipped fits."""
    from app.core.resources import resources_root
    from app.core.retrieval import retrieve
    from app.core.tasks.answer_span import rank
    from app.core.tasks.answerability import FEATURES, fit, signals
    from app.core.tasks.ask import KEEP, RETRIEVE_K, _INSTRUCTION

    rows = [r["signals"] for r in given]
    labels = [r["answerable"] for r in given]
    kinds = ["realdocs"] * len(given)
    for collection, cases in cases_by_collection.items():
        for c in cases:
            hits = retrieve(services, c["question"], collection, RETRIEVE_K)
            spans = rank(services, c["question"], hits, keep=KEEP, skip=_INSTRUCTION.search)
            if spans:
                rows.append(signals(services, c["question"], collection, hits, spans))
                labels.append(c["expected_source"] is not None)
                kinds.append(collection)
    fitted, measured = fit(rows, labels, kinds)
    default = engine_path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    path = resources_root() / "calibration" / ("answerability.json" if default else f"answerability-{engine_path.stem.lower()}.json")
    about = {"model": engine_path.name, "dev_cases": {k: kinds.count(k) for k in dict.fromkeys(kinds)}, "measured": measured,
             "command": "bench/quality_ask.py --fit" + ("" if default else " --standin") + (" --realdocs-signals FILE" if given else "")}
    fitted.save(path, about)
    print(f"wrote {path.relative_to(REPO)}: {json.dumps(about)}")
    print("coefficients (standardised): " + ", ".join(f"{f} {c:+.2f}" for f, c in zip(FEATURES, fitted.coef)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", default=os.environ.get("HEARTH_SQUAD_V2", ""), help="SQuAD 2.0 JSON (or HEARTH_SQUAD_V2)")
    parser.add_argument("--per-part", type=int, default=150, help="SQuAD cases per part (dev, test)")
    parser.add_argument("--limit", type=int, default=0, help="at most N cases of each set (a quick look)")
    parser.add_argument("--parts", default="dev,test")
    parser.add_argument("--sets", default="regression,squad,realdocs", help="which data sets to report")
    parser.add_argument("--fit", action="store_true", help="refit the answerability signal on the dev cases")
    parser.add_argument("--standin", action="store_true", help=f"also (or, with --fit, only) with {STANDIN} as the local model")
    parser.add_argument("--realdocs-signals", type=Path, help="with --fit: realdocs dev rows from bench/realdocs.py --signals")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    os.environ["HEARTH_HOME"] = str(tmp / "home")
    from app.core.ingest import ingest
    from app.core.llm.local import LocalEngine
    from app.core.models.registry import check, find
    from app.core.services import Services

    services = Services()
    sets: dict[str, dict[str, list[dict]]] = {"regression": {"dev": load_cases()}}  # ours: dev only, never evidence
    report = ingest(services, [corpus(tmp / "docs")], "regression")
    assert not report.failed, report.as_json()
    if args.squad:
        sets["squad"] = squad(Path(args.squad), tmp / "squad", args.per_part)
        report = ingest(services, [tmp / "squad"], "squad")
        assert not report.failed, report.as_json()
    given = json.loads(args.realdocs_signals.read_text(encoding="utf-8")) if args.realdocs_signals else []
    if not given and (docs := realdocs(tmp / "realdocs"))["dev"]:
        sets["realdocs"] = docs
        report = ingest(services, [tmp / "realdocs"], "realdocs")
        assert not report.failed, report.as_json()
    if not args.squad:
        print("no SQuAD 2.0 data (--squad PATH or HEARTH_SQUAD_V2): only the regression set, which is not evidence", file=sys.stderr)
    cut = (lambda cases: cases[: args.limit]) if args.limit else (lambda cases: cases)
    engines = [("default model", services)]
    if args.standin:
        path = check(find(STANDIN, "cloud-standin"), verify_hash=False).path
        if path is None:
            sys.exit(f"the stand-in is not on disk: .venv/bin/hearth models fetch --name {STANDIN}")
        big = LocalEngine(path, n_ctx=services.settings.n_ctx, n_threads=services.settings.n_threads)
        standin = Services(shared={"engine": big, "library": services.library, "embedder": services.embedder})
        engines = [(STANDIN, standin)] if args.fit else engines + [(STANDIN, standin)]
    if args.fit:
        label, chosen = engines[-1]
        print(f"fitting answerability for {label}", flush=True)
        fit_signals(chosen, {name: cut(parts["dev"]) for name, parts in sets.items()}, chosen.engine.model_path, given)
    else:
        for label, chosen in engines:
            print(f"== local model: {label} ==", flush=True)
            for name, parts in sets.items():
                if name not in args.sets.split(","):
                    continue
                for which in args.parts.split(","):
                    if parts.get(which):
                        for line in evaluate(chosen, f"{name} {which}", cut(parts[which]), name, args.verbose):
                            print(line, flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.standin:
        big.close()
    services.close()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
