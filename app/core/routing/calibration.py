"""Turning raw confidence signals into probabilities that mean what they say.

A task's raw score is mapped through a monotone (isotonic) fit of correctness on labelled
cases, so that "0.8" means right about 80% of the time on data like the labelled set; each step
is shrunk towards 1/2 by its number of cases, so a thinly populated step never claims 0 or 1. The fit
is a short table of points, stored as JSON: nothing executable is ever loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


def _pool_adjacent_violators(pairs: list[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """Isotonic regression of y on x: the best non-decreasing step fit, as (x, y, cases) blocks."""
    blocks: list[list[float]] = []  # [x_sum, y_sum, count]
    for x, y in sorted(pairs):
        blocks.append([x, y, 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:  # equal steps pool too
            x2, y2, n2 = blocks.pop()
            blocks[-1][0] += x2
            blocks[-1][1] += y2
            blocks[-1][2] += n2
    return [(bx / n, by / n, n) for bx, by, n in blocks]


@dataclass
class Calibration:
    points: list[tuple[float, float]]  # (raw score, probability correct), raw ascending

    @classmethod
    def fit(cls, raw: list[float], correct: list[bool]) -> Calibration:
        if not raw:
            return cls([(0.0, 0.0), (1.0, 1.0)])
        points, floor = [], 0.0
        for x, y, n in _pool_adjacent_violators([(float(r), 1.0 if c else 0.0) for r, c in zip(raw, correct)]):
            # Laplace's rule: three right answers in a bin are evidence, not certainty (never 0 or 1).
            floor = max(floor, (y * n + 1) / (n + 2))
            points.append((x, floor))
        return cls(points)

    def __call__(self, raw: float) -> float:
        pts = self.points
        if raw <= pts[0][0]:
            return pts[0][1]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            if raw <= x1:
                return y0 + (y1 - y0) * (raw - x0) / (x1 - x0) if x1 > x0 else y1
        return pts[-1][1]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"points": self.points}), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibration:
        return cls([tuple(p) for p in json.loads(path.read_text(encoding="utf-8"))["points"]])


def reliability_table(confidence: list[float], correct: list[bool], bins: int = 5) -> list[dict]:
    """Accuracy per confidence bin: the evidence that higher confidence means more often right."""
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [c for p, c in zip(confidence, correct) if low <= p < high or (b == bins - 1 and p == 1.0)]
        rows.append({"bin": f"{low:.1f}-{high:.1f}", "cases": len(members),
                     "accuracy": round(sum(members) / len(members), 3) if members else None})
    return rows

