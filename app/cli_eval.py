"""Commands that measure: `hearth calibrate` and `hearth eval`. Logic lives in app.core.evaluation."""

from __future__ import annotations

import sys
from pathlib import Path

from app.cli import EXIT_OK, _print_json, _services


def _progress(n: int, total: int, outcome) -> None:
    mark = "ok" if outcome.correct else ("error: " + outcome.error if outcome.error else "wrong")
    print(f"[{n}/{total}] {outcome.case.task} {outcome.case.id}: {mark}", file=sys.stderr)


def _local_outcomes(services, cases, docs):
    from app.core.evaluation.runner import local_outcomes

    collected = []
    for n, outcome in enumerate(local_outcomes(services, cases, docs), start=1):
        collected.append(outcome)
        _progress(n, len(cases), outcome)
    return collected


def _print_tables(tables: dict) -> None:
    for task, t in tables.items():
        print(f"\n{task}: {t['cases']} cases, accuracy {t['accuracy']:.0%}")
        print(f"  {'confidence':>10}   {'raw: cases':>10} {'accuracy':>8}   {'calibrated: cases':>17} {'accuracy':>8}")
        for raw, cal in zip(t["raw"], t["calibrated"]):
            def acc(row):
                return "-" if row["accuracy"] is None else f"{row['accuracy']:.0%}"
            print(f"  {raw['bin']:>10}   {raw['cases']:>10} {acc(raw):>8}   {cal['cases']:>17} {acc(cal):>8}")


def cmd_calibrate(args) -> int:
    from app.core.evaluation import calibrate, cases
    from app.core.evaluation.runner import prepare
    from app.core.routing.confidence import user_dir

    dataset = cases.load([Path(p) for p in args.dataset])
    docs = Path(args.docs) if args.docs else None
    with _services() as services:
        prepare(services, dataset, docs)
        collected = _local_outcomes(services, dataset, docs)
    tables = calibrate.report(collected, bins=args.bins)
    written = calibrate.save(calibrate.fits(collected), Path(args.out) if args.out else user_dir()) if args.save else []
    if args.json:
        _print_json({"tasks": tables, "saved": [str(p) for p in written]})
        return EXIT_OK
    _print_tables(tables)
    for path in written:
        print(f"saved {path}")
    return EXIT_OK


def print_rows(rows: list[dict]) -> None:
    tasks = sorted({t for r in rows for t in r["tasks"]})
    head = f"{'policy':7} {'thresh':>6} " + " ".join(f"{t:>9}" for t in tasks) + f" {'all':>6} {'escal.':>7} {'cloud tok':>9} {'cost':>8} {'p50 s':>6}"
    print(head)
    for r in rows:
        per = " ".join(f"{r['tasks'][t]['accuracy']:>9.1%}" if t in r["tasks"] else f"{'-':>9}" for t in tasks)
        thresh = "-" if r["threshold"] is None else f"{r['threshold']:g}"
        print(f"{r['policy']:7} {thresh:>6} {per} {r['accuracy']:>6.1%} {r['escalation_rate']:>7.0%} {r['cloud_tokens']:>9} "
              f"{r['cost']:>8.4f} {r['latency_p50_s']:>6.2f}")
    extra = []
    for r in rows:
        t = r["tasks"]
        bits = [f"extract field accuracy {t['extract']['field_accuracy']:.1%}" if "extract" in t else "",
                f"ask retrieval hit {t['ask']['retrieval_hit']:.1%}" if "ask" in t and t["ask"]["retrieval_hit"] is not None else "",
                f"summary keywords {t['summarize']['keyword_fraction']:.1%}" if "summarize" in t else "",
                f"cloud failures {r['cloud_failures']}" if r["cloud_failures"] else ""]
        thresh = "" if r["threshold"] is None else f" {r['threshold']:g}"
        extra.append(f"  {r['policy']}{thresh}: " + "; ".join(b for b in bits if b))
    print("\n".join(extra))


def cmd_eval(args) -> int:
    from app.core.errors import HearthError
    from app.core.evaluation import cases, harness
    from app.core.evaluation.runner import cloud_outcome, prepare

    thresholds = [float(t) for t in args.thresholds.split(",") if t.strip()]
    if any(not 0 <= t <= 1 for t in thresholds):
        raise HearthError("thresholds are confidences between 0 and 1")
    dataset = cases.load([Path(p) for p in args.dataset])
    docs = Path(args.docs) if args.docs else None
    cloud: dict = {}
    with _services() as services:
        if args.policy != "local" and not services.settings.cloud.base_url:
            raise HearthError("the cloud and auto policies need a provider: run `hearth cloud configure` first")
        prepare(services, dataset, docs)
        local = _local_outcomes(services, dataset, docs)
        if args.policy != "local":
            for n, outcome in enumerate(local, start=1):
                cloud[outcome.case.id] = cloud_outcome(services, outcome.case, docs, outcome)
                _progress(n, len(local), cloud[outcome.case.id])
    rows = harness.rows(local, cloud, args.policy, thresholds)
    plot = None
    if args.plot != "none" and args.policy != "local":
        from app.core.evaluation.plot import accuracy_vs_escalation

        plot = str(accuracy_vs_escalation(rows, Path(args.plot)))
    if args.json:
        _print_json({"version": harness.REPORT_VERSION, "datasets": args.dataset, "policy": args.policy,
                     "thresholds": thresholds, "rows": rows, "plot": plot, "cases": harness.cases_json(local, cloud)})
        return EXIT_OK
    print_rows(rows)
    if plot:
        print(f"plot: {plot}")
    return EXIT_OK


def add_parsers(sub) -> None:
    ev = sub.add_parser("eval", help="accuracy, escalation rate, cloud tokens, cost and latency on labelled cases, per policy",
                        description="Dataset lines (JSON Lines, one case each): "
                        '{"id","task":"classify","input","labels":[...],"expected"} | '
                        '{"id","task":"extract","input","schema":{JSON Schema} or a built-in name,"expected":{...}} | '
                        '{"id","task":"ask","question","expected":[...],"expected_source":FILE or null,"expected_page":N or null} | '
                        '{"id","task":"summarize","file":"path under --docs","expected_keywords":[...]}. '
                        "The JSON report is documented in docs/eval.md.")
    ev.add_argument("dataset", nargs="+", help="JSON Lines files of labelled cases")
    ev.add_argument("--docs", help="documents for the ask cases (ingested into a fresh collection) and the summarize files")
    ev.add_argument("--policy", choices=["local", "cloud", "auto"], default="local",
                    help="local only; cloud for every case; auto: each threshold, from the local and cloud runs")
    ev.add_argument("--thresholds", default="0.2,0.4,0.6,0.8")
    ev.add_argument("--plot", default="eval-accuracy.png", help="where to write the accuracy/escalation PNG (none to skip)")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_eval)

    cal = sub.add_parser("calibrate", help="measure how accuracy rises with confidence on labelled cases, and fit the mapping")
    cal.add_argument("dataset", nargs="+", help="JSON Lines files of labelled cases (see `hearth eval --help`)")
    cal.add_argument("--docs", help="the documents the ask and summarize cases refer to")
    cal.add_argument("--bins", type=int, default=5)
    cal.add_argument("--save", action="store_true", help="apply the fitted mapping to every later result")
    cal.add_argument("--out", help="save the fits here instead of the data folder (for shipping defaults)")
    cal.add_argument("--json", action="store_true")
    cal.set_defaults(func=cmd_calibrate)
