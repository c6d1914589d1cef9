"""Fit extraction's per-field confidence: a logistic regression of "this field's value is right" on
app.core.tasks.extract.field_signals (signals that mean the same on any document and schema), one per
kind of field the receipts have and one over all fields for any other kind, written as plain numbers
to resources/calibration/extract_fields.json (the app reads them with math.exp; sklearn is for fitting
only). A document's confidence is the product of its fields' probabilities, so
resources/calibration/extract.json maps it as it is (identity points).

Fitted on SROIE's training split (receipts nobody here wrote, disjoint from the test split the bench
set is drawn from; bench/sroie_train.py converts them into the git-ignored bench/.cache) and the bench
set's dev part:

    .venv/bin/python bench/sroie_train.py --git DIR   # once: DIR is the fetched althayr/ICDAR-2019-SROIE-dataset
    scripts/test-session.sh --exec .venv/bin/python bench/fit_extract_confidence.py [--train PATH] [--dry-run]

Prints the document AUROC (product of the fields' probabilities against "all fields right") and each
field's AUROC: out of fold on train + dev (5 folds, 4 repeats, the mean of the folds' AUROCs; folds by
shop, as SROIE has many receipts of a few shops and a fold must not see its own shops), and fitted on
train alone and scored on dev (a set the fit never saw); both again with the first fit's signals only.
Also how often fields at or above each probability were right (for SURE). The test part is never read
here. Only the rules' values are used (no model runs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HEARTH_HOME", tempfile.mkdtemp(prefix="hearth-bench-fit-extract-"))

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

import public_sets as ps  # noqa: E402
import sroie_train  # noqa: E402

C = 1.0  # regularisation: 0.3 and 3.0 ranked the same out of fold; one shared fit with offsets per kind did too
FIRST = ("lead", "looks", "part", "cut")  # the signals of the first fit (dev only), for comparison
KINDS = ("org", "date", "address", "amount")  # the kinds the receipts' schema has; any other kind gets the shared fit


def field_rows(cases: list[dict], embedder, part: str) -> list[dict]:
    """One row per (receipt, field) the rules decided: its kind, signals and whether it is right."""
    from app.core.tasks import fields
    from app.core.tasks.extract import field_signals, plan

    rows = []
    for case in cases:
        decided, undecided, ranked = plan(case["input"], case["schema"], embedder)
        data = {name: (c.value if c is not None else None) for name, c in decided.items()}
        right = ps.sroie_fields(case["expected"], data)
        for name, found in ranked.items():
            if name in undecided or not found:
                continue  # the model's value: its token probability is its confidence
            f = fields.profile(name, case["schema"]["properties"][name])
            rows.append({"doc": case["id"], "shop": " ".join(case["expected"]["company"].split()).upper(), "part": part,
                         "field": name, "kind": f.kind, "signals": field_signals(f, found, embedder, case["input"]),
                         "right": right[name], "doc_right": all(right.values())})
    return rows


def _logistic(rows: list[dict], names: list[str]) -> dict:
    model = LogisticRegression(C=C, max_iter=1000).fit([[r["signals"][n] for n in names] for r in rows], [r["right"] for r in rows])
    return {"intercept": round(float(model.intercept_[0]), 4), "weights": {n: round(float(w), 4) for n, w in zip(names, model.coef_[0])}}


def fit(rows: list[dict], names: list[str]) -> dict:
    """extract_fields.json's numbers: a fit per kind, and one over every field for other kinds."""
    return {"any": _logistic(rows, names), "kinds": {k: _logistic([r for r in rows if r["kind"] == k], names) for k in KINDS}}


def predict(model: dict, rows: list[dict]) -> np.ndarray:
    from app.core.tasks.extract import probability

    return np.asarray([probability(model, r["kind"], r["signals"]) for r in rows])


def _auroc(y, s) -> float | None:
    return float(roc_auc_score(y, s)) if 0 < sum(y) < len(y) else None


def scores(rows: list[dict], p: np.ndarray) -> dict:
    """Document AUROC (product of its fields' probabilities) and each field's AUROC."""
    docs: dict[str, list] = {}
    for r, v in zip(rows, p):
        docs.setdefault(r["doc"], [1.0, r["doc_right"]])[0] *= v
    out = {"document": _auroc([d[1] for d in docs.values()], [d[0] for d in docs.values()])}
    for name in sorted({r["field"] for r in rows}):
        mine = [i for i, r in enumerate(rows) if r["field"] == name]
        out[name] = _auroc([rows[i]["right"] for i in mine], p[mine])
    return out


def out_of_fold(rows: list[dict], names: list[str]) -> tuple[dict, list]:
    """Mean AUROCs over folds by shop, and every held-out (probability, right) pair."""
    docs = sorted({r["doc"] for r in rows})
    first = {r["doc"]: r for r in rows}
    doc_y, shops = [first[d]["doc_right"] for d in docs], [first[d]["shop"] for d in docs]
    folds, pooled = [], []
    for seed in range(4):
        for train, held in StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed).split(docs, doc_y, shops):
            held_docs = {docs[i] for i in held}
            held_rows = [r for r in rows if r["doc"] in held_docs]
            p = predict(fit([r for r in rows if r["doc"] not in held_docs], names), held_rows)
            folds.append(scores(held_rows, p))
            pooled += list(zip(p, (r["right"] for r in held_rows)))
    return {k: float(np.mean([f[k] for f in folds if f[k] is not None])) for k in folds[0]}, pooled


def sure_table(pooled: list[tuple[float, int]]) -> str:
    """Share right among the fields at or above each probability (out of fold)."""
    parts = []
    for t in (0.8, 0.85, 0.9, 0.95):
        above = [ok for p, ok in pooled if p >= t]
        parts.append(f">={t}: {np.mean(above):.1%} right of {len(above) / len(pooled):.0%} of fields" if above else f">={t}: none")
    return "; ".join(parts)


def _line(title: str, figures: dict) -> str:
    return f"{title:44} " + "  ".join(f"{k} {v:.3f}" if v is not None else f"{k} -" for k, v in figures.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=Path, default=sroie_train.OUT, help="converted SROIE training receipts (bench/sroie_train.py)")
    parser.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    args = parser.parse_args()
    from app.core.resources import resources_root
    from app.core.services import Services

    services = Services()
    try:
        train = field_rows(sroie_train.load(args.train), services.embedder, "train")
        dev = field_rows(ps.load("sroie", "dev"), services.embedder, "dev")
    finally:
        services.close()
    rows, names = train + dev, list(train[0]["signals"])
    for part, part_rows in (("train", train), ("dev", dev)):
        docs = {r["doc"] for r in part_rows}
        print(f"{part}: {len(docs)} receipts ({len({r['doc'] for r in part_rows if r['doc_right']})} all fields right), "
              f"{len(part_rows)} fields ({sum(not r['right'] for r in part_rows)} wrong)")
    oof, pooled = out_of_fold(rows, names)
    print(_line("out of fold on train + dev:", oof))
    print(_line("fitted on train, scored on dev:", scores(dev, predict(fit(train, names), dev))))
    before, _ = out_of_fold(rows, list(FIRST))
    print(_line(f"the same, {', '.join(FIRST)} only (out of fold):", before))
    print(_line("the same, fitted on train, scored on dev:", scores(dev, predict(fit(train, list(FIRST)), dev))))
    print("out-of-fold fields right at or above a probability: " + sure_table(pooled))
    numbers = fit(rows, names) | {
        "fitted_on": f"sroie train ({len({r['doc'] for r in train})} receipts) + bench dev ({len({r['doc'] for r in dev})}), "
                     f"{len(rows)} fields, {sum(r['right'] for r in rows)} right; C={C}; "
                     "bench/sroie_train.py --git DIR, then bench/fit_extract_confidence.py"}
    print(json.dumps(numbers))
    if not args.dry_run:
        folder = resources_root() / "calibration"
        (folder / "extract_fields.json").write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")
        (folder / "extract.json").write_text(json.dumps({"points": [[0.0, 0.0], [1.0, 1.0]]}), encoding="utf-8")
        print(f"wrote {folder / 'extract_fields.json'} and identity points to {folder / 'extract.json'}")


if __name__ == "__main__":
    main()
