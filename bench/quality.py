"""Quality on public benchmarks nobody here wrote, dev and test beside each other, every figure
with the naive baseline (the same model plainly prompted) and the stand-in cloud in the same run.

    scripts/test-session.sh --exec .venv/bin/python bench/quality.py [SET ...] [--part dev|test|both]
        [--limit N] [--local-model PATH] [--fit] [--no-ask] [--json OUT]

Sets (see bench/public_sets.py, /work/shared/bench): sroie (receipt extraction), banking77 (10
intents, with teach-by-example on its train examples), dynasent (sentiment), loghub_bgl
(optional). Each case is dev or test by the fixed rule in app.core.evaluation.split. Per set and
part it prints: accuracy of the baseline, Hearth zero-shot, Hearth taught (where the set has
train examples) and the stand-in cloud; the AUROC of Hearth's calibrated confidence against
correctness; and, on the cases the stand-in answers (the first N per part, cached in
bench/.cache), the accuracy-against-escalation curve of `auto`. For extraction, also the fields
the table tints (confidence below SURE) and the share of the wrong fields among them. --fit
refits the shipped calibration (resources/calibration) on the dev part only. The ask bench
(bench/quality_ask.py) runs after, as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HEARTH_HOME", tempfile.mkdtemp(prefix="hearth-bench-quality-"))

import public_sets as ps  # noqa: E402

THRESHOLDS = [t / 100 for t in range(5, 100)]
GOALS = "extract all-fields >= 35% and >= 3x baseline; classify zero-shot >= +20 pt; taught banking >= 85%; AUROC >= 0.70; auto >= 90% of cloud at <= 40% escalated"


def _classify_baseline(engine, case) -> str:
    from quality_classify import baseline

    labels = case["labels"]
    return labels[int(baseline(engine, case).argmax())]


def _extract_baseline(engine, case) -> dict | None:
    from quality_extract import baseline

    return baseline(engine, case["input"], case["schema"], max_tokens=200)  # four short fields fit in 200 tokens


def run_case(services, case: dict, name: str, baselines: ps.Cache, model: str, run_baseline: bool = True) -> dict:
    """Baseline, Hearth and (for classify) taught outcomes of one case, with Hearth's confidence.
    Without run_baseline, the baseline counts only where its output is already cached."""
    from app.core.routing import router
    from app.core.streams import drain

    task, row = case["task"], {"id": case["id"]}
    if case not in baselines and run_baseline:
        got = _classify_baseline(services.engine, case) if task == "classify" else _extract_baseline(services.engine, case)
        baselines.put(case, got)
    base, has_base = baselines.get(case), case in baselines
    started = time.perf_counter()
    if task == "classify":
        inputs = {"text": case["input"], "labels": case["labels"], "descriptions": ps.DESCRIPTIONS.get(name)}
        result = drain(router.local(services, "classify", inputs))
        row |= {"baseline": base == case["expected"] if has_base else None, "hearth": result.label == case["expected"]}
        if (examples := ps.train_examples(name)) is not None:
            taught = drain(router.local(services, "classify", inputs | {"examples": str(examples), "name": f"bench-{name}"}))
            row |= {"taught": taught.label == case["expected"], "taught_conf": taught.confidence}
    else:
        from app.core.tasks.extract import uncertain_fields

        schema = _schema(case)
        result = drain(router.local(services, "extract", {"text": case["input"], "schema": case["schema"]}))
        fields, exact = ps.sroie_fields(case["expected"], result.data), _exact(case["expected"], result.data)
        row |= {"baseline": all(ps.sroie_fields(case["expected"], base).values()) if has_base else None, "hearth": all(fields.values()),
                "baseline_exact": all(_exact(case["expected"], base).values()) if has_base else None, "hearth_exact": all(exact.values()),
                "fields": fields, "field_confidence": result.field_confidence,
                "data": result.data, "uncertain": uncertain_fields(result, schema)}
    row |= {"conf": result.confidence, "raw": result.raw_confidence, "seconds": round(time.perf_counter() - started, 2)}
    return row


def tinted(rows: list[dict]) -> dict:
    """What the extraction table's tint (app.ui.extraction_model: confidence below SURE) asks a
    reviewer to check: the share of fields tinted, the share of the wrong fields among them, and
    how often an untinted field is right."""
    from app.core.tasks.extract import SURE

    cells = [(r["field_confidence"].get(k, 0.0) < SURE, right) for r in rows for k, right in r["fields"].items()]
    count, wrong = sum(tint for tint, _ in cells), sum(not right for _, right in cells)
    caught = sum(tint and not right for tint, right in cells)
    untinted = [right for tint, right in cells if not tint]
    return {"bar": SURE, "cells": len(cells), "tinted": count, "share": count / max(len(cells), 1), "wrong": wrong,
            "wrong_tinted": caught, "recall": caught / max(wrong, 1), "untinted_right": sum(untinted) / max(len(untinted), 1)}


def _exact(expected: dict, got) -> dict[str, bool]:
    from app.core.tasks.extract import field_scores

    return field_scores(expected, got if isinstance(got, dict) else {})


def _cloud_right(case: dict, answer: dict | None) -> bool | None:
    if answer is None:
        return None
    if case["task"] == "classify":
        return answer.get("label") == case["expected"]
    return all(ps.sroie_fields(case["expected"], answer.get("data")).values())


def _schema(case: dict) -> dict:
    """A case's schema: given inline (the receipts) or by a built-in name."""
    from app.core.tasks.extract import load_schema

    return case["schema"] if isinstance(case["schema"], dict) else load_schema(case["schema"])


def _escalated_right(case: dict, row: dict, answer: dict | None) -> bool | None:
    """An escalated receipt as the app merges it: the sure fields as found here, the uncertain ones
    from the cloud (its answer to the whole schema stands in for its answer to those fields)."""
    if answer is None or case["task"] == "classify":
        return _cloud_right(case, answer)
    from app.core.routing.cloud_tasks import merged_fields

    merged = merged_fields(_schema(case), row["uncertain"], row["data"], answer.get("data") or {})
    return all(ps.sroie_fields(case["expected"], merged).values())


def _curve(rows: list[dict]) -> list[dict]:
    from app.core.evaluation.ranking import escalation_curve

    return escalation_curve([r["conf"] for r in rows], [r["hearth"] for r in rows], [r["cloud"] for r in rows], THRESHOLDS,
                            escalated=[r.get("escalated", r["cloud"]) for r in rows])


def _curve_text(curve: list[dict]) -> str:
    """threshold escalated->accuracy, one entry per distinct share escalated."""
    seen, parts = set(), []
    for r in curve:
        if r["escalated"] not in seen:
            seen.add(r["escalated"])
            parts.append(f"t{r['threshold']:g} {r['escalated']:.0%}->{r['accuracy']:.0%}")
    return "  ".join(parts)


def _pct(rows: list[dict], key: str) -> str:
    have = [r[key] for r in rows if r.get(key) is not None]
    return f"{100 * sum(have) / len(have):5.1f}%" if have else "    -"


def report(name: str, which: str, rows: list[dict], cases: dict) -> dict:
    from app.core.evaluation.ranking import auroc, best_within

    n = len(rows)
    out = {"set": name, "part": which, "cases": n}
    for key in ("baseline", "hearth", "taught", "baseline_exact", "hearth_exact"):
        have = [r[key] for r in rows if r.get(key) is not None]
        if have:
            out[key] = round(sum(have) / len(have), 4)
    based = [r for r in rows if r.get("baseline") is not None]
    out |= {"baseline_cases": len(based), "hearth_on_baseline_cases": round(sum(r["hearth"] for r in based) / len(based), 4) if based else None}
    out["auroc"] = auroc([r["conf"] for r in rows], [r["hearth"] for r in rows])
    if any("taught" in r for r in rows):
        out["auroc_taught"] = auroc([r["taught_conf"] for r in rows], [r["taught"] for r in rows])
    if rows and "fields" in rows[0]:
        out["fields"] = {k: round(sum(r["fields"][k] for r in rows) / n, 4) for k in rows[0]["fields"]}
    sub = [r for r in rows if r.get("cloud") is not None]
    print(f"\n{name} [{which}] {n} cases: baseline {_pct(rows, 'baseline')}  hearth {_pct(rows, 'hearth')}"
          + (f"  taught {_pct(rows, 'taught')}" if "taught" in out else "")
          + (f"  (exact: baseline {_pct(rows, 'baseline_exact')} hearth {_pct(rows, 'hearth_exact')})" if "hearth_exact" in out else ""))
    if len(based) < n:
        print(f"  the baseline ran on {len(based)} of the {n} cases (--baseline-limit); hearth on those: {_pct(based, 'hearth')}")
    if "fields" in out:
        print("  fields right: " + "  ".join(f"{k} {v:.0%}" for k, v in out["fields"].items()))
    if "fields" in out and all(r.get("field_confidence") for r in rows):  # escalation sends only the uncertain fields
        out["field_auroc"] = {k: auroc([r["field_confidence"].get(k, 0.0) for r in rows], [r["fields"][k] for r in rows]) for k in rows[0]["fields"]}
        print("  AUROC per field (its confidence against that field right): "
              + "  ".join(f"{k} {v:.3f}" if v is not None else f"{k} -" for k, v in out["field_auroc"].items()))
        out["tinted"] = tinted(rows)
        t = out["tinted"]
        print(f"  tinted in the table (confidence below SURE {t['bar']:g}): {t['tinted']}/{t['cells']} fields ({t['share']:.0%}), "
              f"holding {t['wrong_tinted']} of the {t['wrong']} wrong ones ({t['recall']:.0%}); untinted fields right {t['untinted_right']:.1%}")
    print(f"  AUROC of confidence: {out['auroc'] if out['auroc'] is None else round(out['auroc'], 3)}"
          + (f"  (taught {round(out['auroc_taught'], 3) if out['auroc_taught'] is not None else None})" if "auroc_taught" in out else ""))
    if sub:
        curve = _curve(sub)
        best = best_within(curve, 0.40)
        out |= {"cloud_cases": len(sub), "cloud": round(sum(r["cloud"] for r in sub) / len(sub), 4),
                "hearth_on_cloud_cases": round(sum(r["hearth"] for r in sub) / len(sub), 4),
                "curve": curve, "best_auto": best}
        print(f"  on the {len(sub)} cases the stand-in cloud answered: baseline {_pct(sub, 'baseline')}  hearth {_pct(sub, 'hearth')}  "
              f"cloud {_pct(sub, 'cloud')}")
        print("  auto: " + _curve_text(curve))
        if best:
            print(f"  best auto at <= 40% escalated: threshold {best['threshold']:g}, {best['escalated']:.0%} escalated, "
                  f"accuracy {best['accuracy']:.1%} = {best['share_of_cloud'] or 0:.0%} of cloud-only")
    return out


def pooled(which: str, rows: list[dict]) -> dict:
    """auto over every task's cloud-answered cases at once, one threshold for all."""
    from app.core.evaluation.ranking import auroc, best_within

    tasks = sorted({r["task"] for r in rows if r.get("task")})
    by_task = {t: auroc([r["conf"] for r in rows if r.get("task") == t], [r["hearth"] for r in rows if r.get("task") == t]) for t in tasks}
    if by_task:  # the goal is per task: one confidence must rank a task's cases across all its sets
        print(f"\nAUROC of confidence by task [{which}], all its sets together: "
              + "  ".join(f"{t} {a:.3f} ({sum(r.get('task') == t for r in rows)} cases)" if a is not None else f"{t} -" for t, a in by_task.items()))
    sub = [r for r in rows if r.get("cloud") is not None]
    if not sub:
        return {"part": which, "auroc_by_task": by_task}
    curve = _curve(sub)
    best = best_within(curve, 0.40)
    print(f"\nall tasks [{which}] {len(sub)} cloud-answered cases: local {_pct(sub, 'hearth')}  cloud {_pct(sub, 'cloud')}")
    print("  auto: " + _curve_text(curve))
    if best:
        print(f"  best auto at <= 40% escalated: threshold {best['threshold']:g}, {best['escalated']:.0%} escalated, "
              f"accuracy {best['accuracy']:.1%} = {best['share_of_cloud'] or 0:.0%} of cloud-only")
    return {"part": which, "cases": len(sub), "curve": curve, "best_auto": best, "auroc_by_task": by_task}


def fit_calibration(rows_by_task: dict[str, list[dict]]) -> None:
    """The shipped fits, from the dev part only (raw confidence against correctness)."""
    from app.core.resources import resources_root
    from app.core.routing.calibration import Calibration

    for task, rows in rows_by_task.items():
        if task == "extract":
            print("kept resources/calibration/extract.json: extraction's confidence is already a fitted probability "
                  "(bench/fit_extract_confidence.py refits it)")
            continue
        fit = Calibration.fit([r["raw"] for r in rows], [r["hearth"] for r in rows])
        path = resources_root() / "calibration" / f"{task}.json"
        fit.save(path)
        print(f"fitted {path} on {len(rows)} dev cases")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", default=["sroie", "banking77", "dynasent"])
    parser.add_argument("--part", choices=["dev", "test", "both"], default="dev")
    parser.add_argument("--limit", type=int, default=0, help="cases per set and part (0: all)")
    parser.add_argument("--local-model", help="a GGUF to use as the local model instead of the default")
    parser.add_argument("--baseline-limit", type=int, default=0,
                        help="run the (slow) baseline on the first N cases per part only; beyond them it counts where cached")
    parser.add_argument("--no-cloud", action="store_true", help="use only cached stand-in answers, start no server")
    parser.add_argument("--fit", action="store_true", help="refit resources/calibration on the dev part (implies --part dev)")
    parser.add_argument("--no-ask", action="store_true")
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--pool", nargs="+", metavar="JSON", help="only print the all-tasks auto curve of earlier --json reports")
    parser.add_argument("--threads", type=int, default=1,
                        help="llama.cpp threads (1: on a shared, oversubscribed CPU, 2 threads measured 10x slower than 1)")
    args = parser.parse_args()
    if args.pool:  # sets run in separate processes (to use a shared CPU's fair share), pooled afterwards
        reports = [f for path in args.pool for f in json.loads(Path(path).read_text(encoding="utf-8")) if "rows" in f]
        for which in ("dev", "test"):
            for f in reports if len(args.pool) > 1 else []:
                if f["part"] == which:
                    pooled(f"{which}, {f['set']}", f["rows"])
            pooled(which, [r for f in reports if f["part"] == which for r in f["rows"]])
        return
    from cloud_standin import MODEL, StandIn

    from app.core import settings as settings_mod
    from app.core.services import Services

    settings = settings_mod.load()
    settings.n_threads = args.threads
    services = Services(settings)
    model = "default"
    if args.local_model:
        from app.core.llm.local import LocalEngine

        services = Services(settings, shared={"engine": LocalEngine(Path(args.local_model), n_ctx=4096, n_threads=args.threads)})
        model = Path(args.local_model).stem
    print(f"local model: {model}; stand-in cloud: {MODEL}; goals: {GOALS}", flush=True)
    baselines = ps.Cache(f"baseline-{model}")
    cloud = None if args.no_cloud else StandIn(str(args.threads))
    parts = ["dev", "test"] if args.part == "both" else ["dev" if args.fit else args.part]
    figures, fit_rows = [], {}
    try:
        for which in parts:
            all_rows = []
            for name in args.sets:
                cases = ps.load(name, which)
                cases = cases[: args.limit] if args.limit else cases
                in_cloud = {c["id"] for c in ps.cloud_subset(name, cases)}
                rows = []
                for n, case in enumerate(cases):
                    row = run_case(services, case, name, baselines, model, not args.baseline_limit or n < args.baseline_limit)
                    row["task"] = case["task"]
                    if case["id"] in in_cloud:
                        answer = cloud.answer(case) if cloud else StandIn.cached_answer(case)
                        row["cloud"], row["escalated"] = _cloud_right(case, answer), _escalated_right(case, row, answer)
                    rows.append(row)
                    print(f"  {name} {which} {len(rows)}/{len(cases)} {case['id']}: hearth {'right' if row['hearth'] else 'wrong'} "
                          f"({row['seconds']}s)", file=sys.stderr, flush=True)
                figures.append(report(name, which, rows, {c["id"]: c for c in cases}) | {"rows": rows})
                fit_rows.setdefault(cases[0]["task"] if cases else "classify", []).extend(rows)
                all_rows += rows
            figures.append(pooled(which, all_rows) | {"set": "all"})
    finally:
        if cloud:
            cloud.close()
        services.close()
    if args.fit:
        fit_calibration(fit_rows)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    if not args.no_ask and (BENCH / "quality_ask.py").is_file():
        print("\n== ask (bench/quality_ask.py, as it is) ==", flush=True)
        subprocess.run([sys.executable, str(BENCH / "quality_ask.py")], check=False)


if __name__ == "__main__":
    main()
