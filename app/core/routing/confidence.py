"""Calibrated confidence: a task's raw signal score mapped through the fit for that task.

The fit comes from `hearth calibrate` on the user's own labelled data when they ran it, else
from the fit shipped in resources/calibration (made from tests/data/eval). A task with no fit
(transform) keeps its raw score. The raw score stays on the result, for refitting.
"""

from __future__ import annotations

from pathlib import Path

from app.core import paths
from app.core.resources import resources_root
from app.core.routing.calibration import Calibration
from app.core.tasks.result import TaskResult


def user_dir() -> Path:
    return paths.data_dir() / "calibration"


def fit_for(task: str) -> Calibration | None:
    for folder in (user_dir(), resources_root() / "calibration"):
        path = folder / f"{task}.json"
        if path.is_file():
            try:
                return Calibration.load(path)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged fit is skipped, never fatal; `hearth calibrate` rewrites it
    return None


def calibrated(result: TaskResult) -> TaskResult:
    result.raw_confidence = result.confidence
    if result.route.endswith(":taught"):
        return result  # a taught classifier's probabilities are calibrated on its own held-out folds
    if result.abstained:
        return result  # "the documents don't say" carries the measured share of dev refusals that were right
    if (fit := fit_for(result.task)) is not None:
        result.confidence = round(fit(result.confidence), 4)
    return result
