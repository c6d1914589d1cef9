"""Real documentation, ingested whole and asked about: the Python 3.11 docs as Debian ships them
(the HTML pages plus Sphinx's searchindex.js) and the gnuplot 5.4 manual (one PDF).

    scripts/test-session.sh --exec .venv/bin/python bench/realdocs.py [--subset N] [--keep DIR [--reuse]] [--ingest-only]
                                                                      [--cases REGEX] [--details]

Installs python3.11-doc and gnuplot-doc with apt when they are missing (as root), copies the corpus
into a fresh HEARTH_HOME's neighbour folder, runs one `hearth ingest` of the folder, then the same
command again with nothing changed, then asks the questions of bench/data/realdocs_questions.jsonl.
It prints ingest time, chunks/s, peak RSS of the ingest process and of its parser child (each
read from /proc as VmHWM while they run), the re-ingest ratio, file and page hit rates (with the
dense-only ranking as the baseline, in the same run), answer accuracy by kind, refusal accuracy
and time to first text. `--subset N` keeps the files the questions cite plus N others (for quick
iterations; the figures are only comparable on the whole corpus). `--keep DIR --reuse` asks the
store a kept run left in DIR again, without copying or ingesting (no ingest figures then), so the
questions can be iterated on without the ~10 minutes of ingest; `--cases REGEX` asks only the
questions whose id matches. `--standin` asks them with the catalog's 1.5B model as the local model
instead (a generated short answer, shown only when the cited passages hold its every word and
number); run once with and once without to compare the two paths.
`--signals FILE` writes each dev question's answerability signals (JSON) for
`bench/quality_ask.py --fit --realdocs-signals FILE`, so the refusal fit sees the whole corpus.

The questions were written for this bench and are dev data; cases whose id hashes to 0 mod 4 are
reported apart as "test" (a fixed rule, fixed before any tuning).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
PACKAGES = ("python3.11-doc", "gnuplot-doc")
QUESTIONS = REPO / "bench" / "data" / "realdocs_questions.jsonl"
STANDIN = "qwen2.5-coder-1.5b-instruct-q4_k_m"
HEARTH = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]


def gnuplot_pdf() -> Path | None:
    listed = subprocess.run(["dpkg", "-L", "gnuplot-doc"], capture_output=True, text=True).stdout.split()
    return next((Path(p) for p in listed if p.endswith("gnuplot.pdf")), None)


def ensure_packages() -> Path:
    if not PYTHON_DOCS.is_dir() or gnuplot_pdf() is None:
        if os.geteuid() != 0:
            sys.exit(f"realdocs: install {' '.join(PACKAGES)} first (apt-get install -y {' '.join(PACKAGES)})")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-q", *PACKAGES], env=env).returncode:
            subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
            subprocess.run(["apt-get", "install", "-y", "-q", *PACKAGES], check=True, env=env)
    pdf = gnuplot_pdf()
    assert pdf is not None and pdf.is_file(), "gnuplot-doc installed but its PDF is missing"
    return pdf


def load_questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def split(case: dict) -> str:
    return "test" if int(hashlib.sha256(case["id"].encode()).hexdigest(), 16) % 4 == 0 else "dev"


def build_corpus(folder: Path, pdf: Path, subset: int, cited: set[str]) -> int:
    """The HTML pages and searchindex.js under python/, the manual as gnuplot.pdf; the file count."""
    files = sorted(p for p in PYTHON_DOCS.rglob("*") if p.is_file() and (p.suffix == ".html" or p.name == "searchindex.js"))
    if subset:
        keep = [p for p in files if str(p.relative_to(PYTHON_DOCS)) in cited]
        files = keep + [p for p in files if p not in keep][:subset]
    for source in files:
        target = folder / "python" / source.relative_to(PYTHON_DOCS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    shutil.copy2(pdf, folder / "gnuplot.pdf")
    return len(files) + 1


# -- peak memory, from /proc --------------------------------------------------------------------
def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return children + [d for c in children for d in _descendants(c)]


def run_measured(cmd: list[str], env: dict) -> tuple[float, dict, int, int]:
    """(wall seconds, the --json report, peak RSS MB of the process, peak RSS MB of its largest child)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peaks = {"main": 0, "child": 0}
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peaks["main"] = max(peaks["main"], _status_kb(proc.pid, "VmHWM"))
            for child in _descendants(proc.pid):
                peaks["child"] = max(peaks["child"], _status_kb(child, "VmHWM"))
            done.wait(0.25)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, _ = proc.communicate()
    done.set()
    watcher.join()
    wall = time.perf_counter() - started
    return wall, json.loads(out), peaks["main"] >> 10, peaks["child"] >> 10


# -- questions ------------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split()).lower()


def _pages(case: dict) -> set[int]:
    page = case.get("page")
    return set(page) if isinstance(page, list) else {page} if page else set()


def _cited(case: dict, citations: list[tuple[str, int | None]]) -> tuple[bool, bool | None]:
    """(the expected file among the citations, the expected page among that file's citations)."""
    in_file = [page for path, page in citations if path.endswith("/" + case["file"])]
    return bool(in_file), (bool(_pages(case) & set(in_file)) if _pages(case) else None)


def ask_all(services, cases: list[dict], collection: str) -> list[dict]:
    from app.core.retrieval import CANDIDATES
    from app.core.streams import drain
    from app.core.tasks.ask import NOT_FOUND, ask

    top_k = services.settings.retrieval.top_k
    drain(ask(services, "warm-up: what is a list?", collection))  # model and embedder load
    rows = []
    for case in cases:
        started, first = time.perf_counter(), []
        result = drain(ask(services, case["question"], collection), lambda _p: first or first.append(time.perf_counter() - started))
        refused = result.abstained or result.text.startswith(NOT_FOUND)
        row = {"case": case, "ttft": (first or [0.0])[0], "total": time.perf_counter() - started, "refused": refused, "text": result.text,
               "signals": (result.data or {}).get("signals")}
        if case["kind"] != "none":
            row["correct"] = not refused and any(_norm(a) in _norm(result.text) for a in case["answers"])
            row["file_hit"], row["page_hit"] = _cited(case, [(c.path, c.page) for c in result.citations])
            # The baseline in the same run: the embedder's ranking alone, as retrieval was before.
            [vector] = services.embedder.embed([case["question"]])
            dense = services.library.query(collection, vector, max(top_k, CANDIDATES))[:top_k]
            row["dense_file_hit"], row["dense_page_hit"] = _cited(case, [(h.path, h.page) for h in dense])
        rows.append(row)
        print(f"[{len(rows)}/{len(cases)}] {case['id']}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return rows


def ask_with_standin(services, cases: list[dict]) -> list[dict]:
    """The questions over the same store and embedder, with the 1.5B model as the local model."""
    from app.core.llm.local import LocalEngine
    from app.core.models.registry import check, find
    from app.core.services import Services

    path = check(find(STANDIN, "cloud-standin"), verify_hash=False).path
    if path is None:
        sys.exit(f"realdocs: the stand-in is not on disk: .venv/bin/hearth models fetch --name {STANDIN}")
    big = LocalEngine(path, n_ctx=services.settings.n_ctx, n_threads=services.settings.n_threads)
    try:
        return ask_all(Services(shared={"engine": big, "library": services.library, "embedder": services.embedder}), cases, "default")
    finally:
        big.close()


def _rate(rows: list[dict], key: str) -> str:
    values = [r[key] for r in rows if r.get(key) is not None]
    return f"{sum(values)}/{len(values)}" if values else "-"


def report_answers(rows: list[dict]) -> None:
    for name in ("dev", "test", "all"):
        part = [r for r in rows if name == "all" or split(r["case"]) == name]
        answerable = [r for r in part if r["case"]["kind"] != "none"]
        unanswerable = [r for r in part if r["case"]["kind"] == "none"]
        kinds = sorted({r["case"]["kind"] for r in answerable})
        by_kind = "  ".join(f"{k} {_rate([r for r in answerable if r['case']['kind'] == k], 'correct')}" for k in kinds)
        refusals = f"{sum(r['refused'] for r in unanswerable)}/{len(unanswerable)}"
        print(f"[{name}] answers {_rate(answerable, 'correct')} ({by_kind}); honest refusals {refusals}; "
              f"file hit {_rate(answerable, 'file_hit')} (dense only {_rate(answerable, 'dense_file_hit')}); "
              f"PDF page hit {_rate(answerable, 'page_hit')} (dense only {_rate(answerable, 'dense_page_hit')})")
    ttft = [r["ttft"] for r in rows]
    print(f"time to first text p50 {statistics.median(ttft):.2f} s, max {max(ttft):.2f} s (goal p50 <= 1.0 s); "
          f"whole answer p50 {statistics.median(r['total'] for r in rows):.2f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subset", type=int, default=0, help="only the cited files plus N others (0: the whole corpus)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one, removed)")
    parser.add_argument("--details", action="store_true", help="print each question's outcome")
    parser.add_argument("--ingest-only", action="store_true", help="measure the two ingests, ask nothing")
    parser.add_argument("--reuse", action="store_true", help="with --keep: ask the store kept there, ingest nothing")
    parser.add_argument("--cases", type=re.compile, help="ask only the questions whose id matches this regular expression")
    parser.add_argument("--standin", action="store_true", help="ask with the catalog's 1.5B model as the local model")
    parser.add_argument("--signals", type=Path, help="write the dev questions' answerability signals here (for quality_ask.py --fit)")
    args = parser.parse_args()
    if args.reuse and not (args.keep and (args.keep / "home").is_dir()):
        sys.exit(f"realdocs: --reuse needs --keep DIR with a kept store in DIR/home ({args.keep} has none)")
    cases = [c for c in load_questions() if not args.cases or args.cases.search(c["id"])]
    work = args.keep or Path(tempfile.mkdtemp(prefix="hearth-realdocs-"))
    env = {**os.environ, "HEARTH_HOME": str(work / "home")}
    try:
        if args.reuse:
            print(f"reusing the store kept in {work} (no ingest figures); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        else:
            ingest_measured(work, args.subset, env)
        if args.ingest_only:
            return
        os.environ["HEARTH_HOME"] = env["HEARTH_HOME"]
        from app.core.services import Services

        services = Services()
        try:
            started = time.perf_counter()
            services.library.keyword_index("default")
            print(f"keyword index ready in {time.perf_counter() - started:.2f} s (loaded from disk when current)")
            rows = ask_with_standin(services, cases) if args.standin else ask_all(services, cases, "default")
        finally:
            services.close()
        if args.signals:
            dev = [{"id": r["case"]["id"], "answerable": r["case"]["kind"] != "none", "signals": r["signals"]}
                   for r in rows if split(r["case"]) == "dev" and r["signals"]]
            args.signals.write_text(json.dumps(dev, indent=0) + "\n", encoding="utf-8")
            print(f"wrote the signals of {len(dev)} dev questions to {args.signals}")
        print(f"== local model: {STANDIN if args.standin else 'the default'} ==")
        report_answers(rows)
        if args.details:
            for r in rows:
                mark = "refused" if r["refused"] else ("ok" if r.get("correct") else "wrong")
                print(f"  {r['case']['id']:32} {mark:8} file {r.get('file_hit')} page {r.get('page_hit')}  {r['text'][:140]!r}")
        print("reranker: not measured; no cross-encoder weights ship in a package installable here (flashrank and "
              "sentence-transformers' CrossEncoder fetch theirs from a model hub at run time)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def ingest_measured(work: Path, subset: int, env: dict) -> None:
    """A fresh corpus and store in `work`, ingested twice (the second time with nothing changed), measured."""
    pdf = ensure_packages()
    shutil.rmtree(work / "home", ignore_errors=True)
    shutil.rmtree(work / "corpus", ignore_errors=True)
    count = build_corpus(work / "corpus", pdf, subset, {c["file"] for c in load_questions() if "file" in c})
    command = [*HEARTH, "ingest", str(work / "corpus"), "--json"]
    first_s, first, main_mb, child_mb = run_measured(command, env)
    again_s, again, again_main_mb, _ = run_measured(command, env)
    chunks = sum(f["chunks"] for f in first["files"] if f["status"] == "indexed")
    load = os.getloadavg()
    print(f"corpus: {count} files ({'subset' if subset else 'whole'}); load average {load[0]:.1f} on {os.cpu_count()} cores")
    print(f"first ingest: {first_s:.1f} s wall, {first['indexed']} indexed, {first['skipped']} skipped, "
          f"{first['errors']} failed, {chunks} chunks ({chunks / first_s:.1f} chunks/s)")
    for f in first["files"]:
        if f["status"] not in ("indexed", "unchanged"):
            print(f"  {f['status']}: {Path(f['path']).name}: {f['error']}")
    print(f"peak RSS: ingest process {main_mb} MB, parser child {child_mb} MB (goal: at most 1536 MB)")
    print(f"re-ingest, nothing changed: {again_s:.1f} s = {again_s / first_s:.1%} of the first (goal <= 3%); "
          f"{again['unchanged']} unchanged, {again['known_failures']} known failures not retried; peak RSS {again_main_mb} MB")


if __name__ == "__main__":
    main()
