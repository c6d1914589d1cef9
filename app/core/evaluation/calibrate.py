"""Per-task calibration from scored outcomes, with the evidence that it holds.

The reliability table shows, per confidence bin, how often the task was right. The calibrated
column is measured out of fold (each case mapped by a fit made without it), so the table does
not flatter the fit; the fit that is saved uses every case.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from app.core.routing.calibration import Calibration, reliability_table

FOLDS = 5


def _by_task(outcomes) -> dict[str, list[tuple[float, bool]]]:
    grouped: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for o in outcomes:
        r = o.result  # the fit is for results that calibrated() maps: not taught classifiers, not abstentions
        if r is not None and r.raw_confidence is not None and not r.route.endswith(":taught") and not r.abstained:
            grouped[r.task].append((r.raw_confidence, o.correct))
    return grouped


def _out_of_fold(pairs: list[tuple[float, bool]]) -> list[float]:
    mapped = [0.0] * len(pairs)
    for fold in range(FOLDS):
        train = [p for i, p in enumerate(pairs) if i % FOLDS != fold]
        fit = Calibration.fit([r for r, _ in train], [c for _, c in train])
        for i, (raw, _) in enumerate(pairs):
            if i % FOLDS == fold:
                mapped[i] = fit(raw)
    return mapped


def report(outcomes, bins: int = 5) -> dict[str, dict]:
    tables = {}
    for task, pairs in sorted(_by_task(outcomes).items()):
        raw, correct = [r for r, _ in pairs], [c for _, c in pairs]
        tables[task] = {
            "cases": len(pairs),
            "accuracy": round(sum(correct) / len(correct), 3),
            "raw": reliability_table(raw, correct, bins),
            "calibrated": reliability_table(_out_of_fold(pairs), correct, bins),
        }
    return tables


def fits(outcomes) -> dict[str, Calibration]:
    return {task: Calibration.fit([r for r, _ in pairs], [c for _, c in pairs]) for task, pairs in _by_task(outcomes).items()}


def save(fitted: dict[str, Calibration], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for task, fit in fitted.items():
        fit.save(folder / f"{task}.json")
        written.append(folder / f"{task}.json")
    return written
