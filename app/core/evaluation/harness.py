"""The eval harness's numbers: accuracy per task, escalation rate, cloud tokens, cost and latency,
per policy and threshold.

Each case runs locally once and, for the cloud and auto policies, through the cloud once (so the
cloud-only accuracy is always there to compare with). "auto" at a
threshold then takes, case by case, the cloud outcome exactly when the local confidence is below
the threshold: what the router does, without running every case once per threshold.

The JSON report is a stable interface (documented in docs/eval.md); fields are only ever added.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from app.core.evaluation.runner import Outcome

REPORT_VERSION = 1


def _confidence(o: Outcome) -> float:
    return o.result.confidence if o.result is not None else 0.0


def _task_figures(chosen: list[Outcome]) -> dict[str, dict]:
    by_task: dict[str, list[Outcome]] = defaultdict(list)
    for o in chosen:
        by_task[o.case.task].append(o)
    figures = {}
    for task, outs in sorted(by_task.items()):
        row = {"cases": len(outs), "accuracy": round(sum(o.correct for o in outs) / len(outs), 4),
               "errors": sum(o.error is not None for o in outs)}
        if task == "extract":
            row["field_accuracy"] = round(statistics.mean(o.score.value if o.score else 0.0 for o in outs), 4)
        if task == "summarize":
            row["keyword_fraction"] = round(statistics.mean(o.score.value if o.score else 0.0 for o in outs), 4)
        if task == "ask":
            hits = [o.score.retrieval_hit for o in outs if o.score and o.score.retrieval_hit is not None]
            row["retrieval_hit"] = round(sum(hits) / len(hits), 4) if hits else None
        figures[task] = row
    return figures


def _row(policy: str, threshold: float | None, pairs: list[tuple[Outcome, Outcome | None]]) -> dict:
    chosen, escalated, latencies, tokens, cost, failed = [], 0, [], 0, 0.0, 0
    for local, cloud in pairs:
        latency = local.latency_s
        if cloud is not None:
            escalated += 1
            latency += cloud.latency_s
            esc = (cloud.result.escalation or {}) if cloud.result else {}
            tokens += esc.get("tokens_in", 0) + esc.get("tokens_out", 0)
            cost += esc.get("cost", 0.0)
            failed += esc.get("status") != "sent"
        chosen.append(cloud or local)
        latencies.append(latency)
    return {
        "policy": policy, "threshold": threshold, "cases": len(pairs),
        "accuracy": round(sum(o.correct for o in chosen) / len(chosen), 4),
        "tasks": _task_figures(chosen),
        "escalated": escalated, "escalation_rate": round(escalated / len(pairs), 4), "cloud_failures": failed,
        "cloud_tokens": tokens, "cost": round(cost, 6),
        "latency_p50_s": round(statistics.median(latencies), 3),
    }


def rows(local: list[Outcome], cloud: dict[str, Outcome], policy: str, thresholds: list[float]) -> list[dict]:
    """`cloud` maps case id to its cloud outcome, for the cases that have one."""
    table = [_row("local", None, [(o, None) for o in local])]
    if policy in ("cloud", "auto") and len(cloud) == len(local):
        table.append(_row("cloud", None, [(o, cloud[o.case.id]) for o in local]))
    if policy == "auto":
        for t in thresholds:
            table.append(_row("auto", t, [(o, cloud[o.case.id] if _confidence(o) < t else None) for o in local]))
    return table


def cases_json(local: list[Outcome], cloud: dict[str, Outcome]) -> list[dict]:
    out = []
    for o in local:
        c = cloud.get(o.case.id)
        raw = o.result.raw_confidence if o.result is not None else None
        out.append({"id": o.case.id, "task": o.case.task, "confidence": round(_confidence(o), 4), "raw_confidence": raw,
                    "local_correct": o.correct,
                    "local_error": o.error, "cloud_correct": c.correct if c else None,
                    "cloud_status": (c.result.escalation or {}).get("status") if c and c.result else None})
    return out
