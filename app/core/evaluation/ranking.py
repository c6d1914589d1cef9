"""Whether confidence picks the right cases to escalate: how well it ranks right answers above
wrong ones (AUROC), and accuracy against the share escalated when every case below a threshold
takes the cloud's answer instead."""

from __future__ import annotations


def auroc(confidence: list[float], correct: list[bool]) -> float | None:
    """Probability that a right answer has higher confidence than a wrong one (ties count half);
    None when the cases are all right or all wrong, where no ranking can be measured."""
    if len(set(correct)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score([int(c) for c in correct], confidence))


def escalation_curve(confidence: list[float], local: list[bool], cloud: list[bool], thresholds: list[float],
                     escalated: list[bool] | None = None) -> list[dict]:
    """One row per threshold: the share escalated, the accuracy, and that accuracy as a share of cloud-only.
    `escalated`: whether a case is right once escalated, where that is not the cloud's whole answer (an
    extraction escalates only its uncertain fields and keeps the sure ones); cloud-only stays `cloud`."""
    n = len(confidence)
    cloud_acc = sum(cloud) / n if n else 0.0
    escalated = cloud if escalated is None else escalated
    rows = []
    for t in thresholds:
        chosen = [e if conf < t else lo for conf, lo, e in zip(confidence, local, escalated)]
        acc = sum(chosen) / n if n else 0.0
        rows.append({"threshold": t, "escalated": round(sum(conf < t for conf in confidence) / n, 4) if n else 0.0,
                     "accuracy": round(acc, 4), "share_of_cloud": round(acc / cloud_acc, 4) if cloud_acc else None})
    return rows


def best_within(rows: list[dict], max_escalated: float) -> dict | None:
    """The most accurate threshold that escalates at most `max_escalated` of the cases."""
    return max((r for r in rows if r["escalated"] <= max_escalated), key=lambda r: r["accuracy"], default=None)
