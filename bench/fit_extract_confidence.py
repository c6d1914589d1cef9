"""Fit extraction's per-field confidence on the receipts' dev part: a logistic regression of "this field's
value is right" on app.core.tasks.extract.field_signals (signals that mean the same on any document and
schema) with an offset per kind of field, written as plain numbers to
resources/calibration/extract_fields.json (the app reads them with math.exp; sklearn is for fitting only).
A document's confidence is the product of its fields' probabilities, so resources/calibration/extract.json
maps it as it is (identity points).

    scripts/test-session.sh --exec .venv/bin/python bench/fit_extract_confidence.py [--dry-run]

Prints, out of fold on dev (5 stratified folds by document, 20 repeats; the mean of the folds' AUROCs):
the document AUROC (product of the fields' probabilities against "all fields right") beside the old
confidence (0.5 + the lead, clipped, multiplied), each field's AUROC (its probability against that
field right), and how often fields at or above each probability were right (for SURE). The test part is
never read here. Only the rules' values are used (no model runs), so it takes seconds.
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
from sklearn.model_selection import RepeatedStratifiedKFold  # noqa: E402

import public_sets as ps  # noqa: E402

C = 0.3  # regularisation: 55 receipts, 35 wrong fields; 1.0 ranked the same out of fold
KINDS = ("org", "date", "address", "amount")  # the kinds the receipts' schema has; any other kind gets no offset


def dev_rows(embedder) -> list[dict]:
    """One row per (receipt, field) the rules decided: its kind, signals, old raw confidence and whether it is right."""
    from app.core.tasks import fields
    from app.core.tasks.extract import field_signals, plan

    rows = []
    for doc, case in enumerate(ps.load("sroie", "dev")):
        decided, undecided, ranked = plan(case["input"], case["schema"], embedder)
        data = {name: (c.value if c is not None else None) for name, c in decided.items()}
        right = ps.sroie_fields(case["expected"], data)
        for name, found in ranked.items():
            if name in undecided or not found:
                continue  # the model's value: its token probability is its confidence
            lead = found[0].score - (found[1].score if len(found) > 1 else 0.0)
            f = fields.profile(name, case["schema"]["properties"][name])
            rows.append({"doc": doc, "field": name, "kind": f.kind, "signals": field_signals(f, found, embedder), "old": min(1.0, max(0.0, 0.5 + lead)), "right": right[name],
                         "doc_right": all(right.values())})
    return rows


def design(rows: list[dict], names: list[str]) -> np.ndarray:
    return np.asarray([[r["signals"][n] for n in names] + [float(r["kind"] == k) for k in KINDS] for r in rows])


def per_doc(rows: list[dict], p: np.ndarray, docs: np.ndarray) -> np.ndarray:
    out = {d: 1.0 for d in docs}
    for r, v in zip(rows, p):
        out[r["doc"]] *= v
    return np.asarray([out[d] for d in docs])


def _auroc(y, s) -> float | None:
    return float(roc_auc_score(y, s)) if 0 < sum(y) < len(y) else None


def out_of_fold(rows: list[dict], names: list[str]) -> dict:
    x, y = design(rows, names), np.asarray([r["right"] for r in rows], dtype=int)
    old = np.asarray([r["old"] for r in rows])
    row_doc = np.asarray([r["doc"] for r in rows])
    docs = np.unique(row_doc)
    doc_y = np.asarray([next(r["doc_right"] for r in rows if r["doc"] == d) for d in docs], dtype=int)
    fitted, before, fields_auc, pooled = [], [], {}, []
    for train, held in RepeatedStratifiedKFold(n_splits=5, n_repeats=20, random_state=0).split(docs, doc_y):
        tr, te = np.isin(row_doc, docs[train]), np.isin(row_doc, docs[held])
        model = LogisticRegression(C=C).fit(x[tr], y[tr])
        p = model.predict_proba(x[te])[:, 1]
        held_rows = [r for r, t in zip(rows, te) if t]
        fitted.append(_auroc(doc_y[held], per_doc(held_rows, p, docs[held])))
        before.append(_auroc(doc_y[held], per_doc(held_rows, old[te], docs[held])))
        for name in sorted({r["field"] for r in rows}):
            mine = np.asarray([r["field"] == name for r in held_rows])
            if (a := _auroc(y[te][mine], p[mine])) is not None:
                fields_auc.setdefault(name, []).append(a)
        pooled += list(zip(p, y[te]))
    return {"fitted": float(np.mean(fitted)), "old": float(np.mean(before)),
            "fields": {k: round(float(np.mean(v)), 3) for k, v in fields_auc.items()}, "pooled": pooled}


def sure_table(pooled: list[tuple[float, int]]) -> str:
    """Share right among the fields at or above each probability (out of fold)."""
    parts = []
    for t in (0.8, 0.85, 0.9, 0.95):
        above = [ok for p, ok in pooled if p >= t]
        parts.append(f">={t}: {np.mean(above):.1%} right of {len(above) / len(pooled):.0%} of fields" if above else f">={t}: none")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    args = parser.parse_args()
    from app.core.resources import resources_root
    from app.core.services import Services

    services = Services()
    try:
        rows = dev_rows(services.embedder)
    finally:
        services.close()
    names = list(rows[0]["signals"])
    oof = out_of_fold(rows, names)
    n_docs = len({r["doc"] for r in rows})
    right_docs = len({r["doc"] for r in rows if r["doc_right"]})
    print(f"dev: {n_docs} receipts ({right_docs} all fields right), {len(rows)} fields ({sum(not r['right'] for r in rows)} wrong)")
    print(f"out-of-fold document AUROC: fitted {oof['fitted']:.3f}, old lead product {oof['old']:.3f}")
    print("out-of-fold field AUROC: " + "  ".join(f"{k} {v:.3f}" for k, v in oof["fields"].items()))
    print("out-of-fold fields right at or above a probability: " + sure_table(oof["pooled"]))
    x, y = design(rows, names), np.asarray([r["right"] for r in rows], dtype=int)
    model = LogisticRegression(C=C).fit(x, y)
    coef = model.coef_[0]
    fit = {"intercept": round(float(model.intercept_[0]), 4),
           "weights": {n: round(float(w), 4) for n, w in zip(names, coef)},
           "kinds": {k: round(float(w), 4) for k, w in zip(KINDS, coef[len(names):])},
           "fitted_on": f"sroie dev, {n_docs} receipts, {len(rows)} fields, {int(y.sum())} right; bench/fit_extract_confidence.py, C={C}"}
    print(json.dumps(fit))
    if not args.dry_run:
        folder = resources_root() / "calibration"
        (folder / "extract_fields.json").write_text(json.dumps(fit, indent=1) + "\n", encoding="utf-8")
        (folder / "extract.json").write_text(json.dumps({"points": [[0.0, 0.0], [1.0, 1.0]]}), encoding="utf-8")
        print(f"wrote {folder / 'extract_fields.json'} and identity points to {folder / 'extract.json'}")


if __name__ == "__main__":
    main()
