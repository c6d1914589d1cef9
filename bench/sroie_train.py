"""SROIE's official training split (626 receipts, disjoint from the test split the bench set is drawn
from) as fitting data for extraction's confidence, converted at run time and never committed.

Source: GitHub althayr/ICDAR-2019-SROIE-dataset (the organisers' task1/2 train transcripts and task 3
train gold, CC BY 4.0, see ../shared/bench/sroie/README.md), `training_data/bbox/NNN.csv` and
`training_data/labels/NNN.json`. Bring the repository here with the fetch tool (a git directory, no
work tree) and pass its path:

    .venv/bin/python bench/sroie_train.py --git PATH/TO/althayr+ICDAR-2019-SROIE-dataset.git

The conversion is the bench set's (its README): each bbox row's 9th field (split at most 8 times,
so commas in the text survive), stripped, blank rows dropped, joined with newlines; the gold as it
stands. Left out, and counted: a receipt whose gold lacks one of the four fields; a second copy of a
training receipt (the same gold); and any receipt of the test split itself (the bench set's 200 are
drawn from its 347), that is one with the same four gold fields as a test receipt, or the same date
and total and near-identical text (a re-transcription). Other receipts of the same shops remain (SROIE's
splits share vendors). The cases go to bench/.cache/sroie-train.jsonl (git-ignored) with the bench
set's schema.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import public_sets as ps  # noqa: E402

FIELDS = ("company", "date", "address", "total")
OUT = ps.CACHE / "sroie-train.jsonl"


def _git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True, capture_output=True).stdout


def _decode(blob: bytes, where: str) -> str:
    for encoding in ("utf-8-sig", "gbk"):  # one test transcript is GBK; train ones may be too
        try:
            return blob.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{where}: neither UTF-8 nor GBK")


def transcript(csv_text: str) -> str:
    rows = (line.split(",", 8) for line in csv_text.splitlines())
    return "\n".join(r[8].strip() for r in rows if len(r) == 9 and r[8].strip())


def _norm(gold: dict) -> tuple[str, ...]:
    return tuple(" ".join(str(gold.get(k, "")).split()).upper() for k in FIELDS)


def _split(git_dir: str, commit: str, folder: str) -> list[tuple[dict, str]]:
    """(gold, transcript) of every receipt in one of the repository's splits."""
    names = _git(git_dir, "ls-tree", "--name-only", f"{commit}:{folder}/labels").decode().split()
    out = []
    for name in sorted(names):
        stem = name.removesuffix(".json")
        gold = json.loads(_decode(_git(git_dir, "show", f"{commit}:{folder}/labels/{name}"), f"{folder}/labels/{name}"))
        out.append((gold, transcript(_decode(_git(git_dir, "show", f"{commit}:{folder}/bbox/{stem}.csv"), f"{folder}/bbox/{stem}.csv"))))
    return out


RETRANSCRIBED = 0.9  # text likeness above which two receipts of the same date and total are one (seen: 0.93-0.998; others < 0.6)


def _same_receipt(gold: tuple, text: str, others: list[tuple[tuple, str]]) -> bool:
    for g, t in others:
        same_day_and_sum = (g[1], g[3]) == (gold[1], gold[3])
        if g == gold or same_day_and_sum and difflib.SequenceMatcher(None, text, t, autojunk=False).ratio() >= RETRANSCRIBED:
            return True
    return False


def convert(git_dir: str, commit: str = "HEAD") -> tuple[list[dict], dict[str, int]]:
    """The training receipts as bench cases, and how many were left out and why."""
    schema = ps.load("sroie")[0]["schema"]
    bench = [(_norm(c["expected"]), c["input"]) for c in ps.load("sroie")]
    test = [(_norm(g), t) for g, t in _split(git_dir, commit, "testing_data")]
    names = _git(git_dir, "ls-tree", "--name-only", f"{commit}:training_data/labels").decode().split()
    cases, seen = [], set()
    left = {"missing field": 0, "second copy": 0, "same as a bench case": 0, "same as another test-split receipt": 0}
    for stem, (gold, text) in zip(sorted(n.removesuffix(".json") for n in names), _split(git_dir, commit, "training_data")):
        key = _norm(gold)
        if not all(isinstance(gold.get(k), str) and gold[k].strip() for k in FIELDS):
            left["missing field"] += 1
        elif key in seen:
            left["second copy"] += 1
        elif _same_receipt(key, text, bench):
            left["same as a bench case"] += 1
        elif _same_receipt(key, text, test):
            left["same as another test-split receipt"] += 1
        else:
            seen.add(key)
            cases.append({"id": f"sroie-train-{stem}", "task": "extract", "input": text, "schema": schema,
                          "expected": {k: gold[k] for k in FIELDS}})
    return cases, left


def load(path: Path = OUT) -> list[dict]:
    if not path.is_file():
        raise SystemExit(f"{path}: no converted training receipts; run bench/sroie_train.py --git DIR first")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--git", required=True, help="git directory of althayr/ICDAR-2019-SROIE-dataset")
    parser.add_argument("--commit", default="HEAD")
    args = parser.parse_args()
    cases, left = convert(args.git, args.commit)
    ps._cache_file("sroie-train")  # makes the git-ignored cache folder
    OUT.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    print(f"wrote {len(cases)} training receipts to {OUT}; left out: " + ", ".join(f"{v} {k}" for k, v in left.items()))


if __name__ == "__main__":
    main()
