"""Whether the retrieved passages answer the question: a logistic regression over measured
signals, fitted on dev data of several kinds (bench/quality_ask.py --fit), never one threshold.

Signals: how well the best chunk and the best answer unit match the question (embedder), how
much of the question's words and exact identifiers the evidence holds, the same weighted by how
rare each word is in the collection (BM25's IDF: a question about Kubernetes over Python docs
shares their common words, not their rare ones), and whether the best unit holds what the question
asks for. One rule beside the fit: a question that names something (a capitalised name past its
first word: "PostgreSQL", "Kubernetes") that none of the passages mentions is about something else
unless the fit is at least even odds (DOUBT), however well its other words match. No model call:
the decision comes before the first text, where the tiny model's yes/no judgement (one prompt
evaluation of the passages) cost a median 7.3 s at load 7 on 2 cores; the rare-word coverage took
its place. Asked of the best answer unit alone, on 100 SQuAD dev questions, its yes/no ranked
answerable below unanswerable (AUROC 0.40, 0.8 s); the 1.5B's ranked them at 0.705, in 3.3 s.
The fit ships as plain numbers in resources/calibration/answerability.json, and one per other
local model it was fitted for (answerability-<model file>.json; nothing executable is loaded); its
decision threshold was picked on out-of-fold dev predictions so that at most a set share of
answerable dev questions is refused. A refusal's confidence is the share of refused dev questions
(out of fold, each data set the same) that the documents indeed did not answer: among refusals the
probability barely ranks which are right, and a refusal below every answer would rank the right ones
last.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from app.core.resources import resources_root
from app.core.retrieval import terms
from app.core.store.vectors import Hit
from app.core.tasks.answer_span import Span, holds, identifiers
from app.core.tasks.result import TaskError

FEATURES = ("chunk", "similarity", "span_score", "overlap", "coverage", "rare_coverage", "identifiers", "fits_type")
MAX_FALSE_REFUSALS = 0.1  # the dev share of answerable questions the threshold may refuse (goal: at most 10% on test)
DOUBT = 0.5  # the bar when the question names something the passages never mention
EVIDENCE_HITS = 3  # the chunks whose text counts as the evidence for coverage and names
# A capitalised word not at the start of the question or of a sentence in it ("I" is no name).
_NAME = re.compile(r"(?<!^)(?<![.?!:]\s)\b(?!I\b)[A-Z]\w*(?:[+#.-]\w+)*\+*")


def fit_path(engine=None) -> Path:
    """The fit for this engine's model (its answer units and thresholds were measured with it), else the default model's."""
    folder = resources_root() / "calibration"
    model = getattr(engine, "model_path", None)
    own = folder / f"answerability-{Path(model).stem.lower()}.json" if model else None
    return own if own is not None and own.is_file() else folder / "answerability.json"


def signals(services, question: str, collection: str, hits: list[Hit], spans: list[Span]) -> dict[str, float]:
    """The measured signals for one question; `spans` are the ranked answer units (best first)."""
    best = spans[0]
    evidence = evidence_text(hits)
    asked, have = terms(question), terms(evidence)
    idents = identifiers(question)
    return {
        "chunk": hits[0].score,
        "similarity": best.similarity,
        "span_score": best.score,
        "overlap": best.overlap,
        "coverage": len(asked & have) / len(asked) if asked else 0.0,
        "rare_coverage": services.library.keyword_index(collection).coverage(question, evidence),
        "identifiers": sum(holds(evidence, i) for i in idents) / len(idents) if idents else 1.0,
        "fits_type": float(best.fits_type),
    }


def evidence_text(hits: list[Hit]) -> str:
    return " ".join(h.text for h in hits[:EVIDENCE_HITS])


def absent_names(question: str, evidence: str) -> list[str]:
    """The names the question gives that the evidence never mentions (case-blind, a plural 's' aside)."""
    text = evidence.lower()
    names = dict.fromkeys(m.group() for m in _NAME.finditer(question.strip()))
    return [n for n in names if not re.search(r"(?<!\w)" + re.escape(n.lower().removesuffix("s")), text)]


@dataclass(frozen=True)
class Answerability:
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float  # answer when the probability is at least this
    refusal_right: float  # the share of refused dev questions the documents did not answer: a refusal's confidence

    def bar(self, absent: list[str]) -> float:
        """The probability an answer needs: the fitted threshold, or even odds when names are absent."""
        return max(self.threshold, DOUBT) if absent else self.threshold

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(c * (values[f] - m) / s for f, c, m, s in zip(FEATURES, self.coef, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def load(cls, path: Path) -> Answerability:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if tuple(data["features"]) != FEATURES:
                raise ValueError(f"it was fitted on other signals ({', '.join(data['features'])})")
            return cls(data["mean"], data["scale"], data["coef"], float(data["intercept"]), float(data["threshold"]),
                       float(data["refusal_right"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TaskError(f"the answerability fit {path} is unusable ({exc}); refit it with bench/quality_ask.py --fit") from exc

    def save(self, path: Path, about: dict) -> None:
        data = {"features": list(FEATURES), "mean": self.mean, "scale": self.scale, "coef": self.coef,
                "intercept": self.intercept, "threshold": self.threshold, "refusal_right": self.refusal_right, **about}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def fit(rows: list[dict[str, float]], answerable: list[bool], sources: list[str] | None = None) -> tuple[Answerability, dict]:
    """A standardised, class-balanced logistic regression (scikit-learn) and its threshold,
    chosen on out-of-fold probabilities; returns the fit and what it measured on dev. With
    `sources` (which data set each row came from), every data set weighs the same in the fit and
    the threshold, so the largest (SQuAD's in-topic trick questions) does not set the rule for
    questions about something else entirely."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.array([[r[f] for f in FEATURES] for r in rows], dtype=float)
    y = np.array(answerable, dtype=int)
    groups = np.array(sources or [""] * len(rows))
    weight = np.array([len(rows) / (len(set(groups)) * (groups == g).sum()) for g in groups])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    oof = np.zeros(len(y))
    for train, held in folds.split(x, y):
        model.fit(x[train], y[train], logisticregression__sample_weight=weight[train])
        oof[held] = model.predict_proba(x[held])[:, 1]
    # The highest threshold that refuses at most MAX_FALSE_REFUSALS of the answerable dev cases
    # (each data set weighing the same): the answerable cases' own probabilities, lowest first.
    order = np.argsort(oof[y == 1])
    answerable_p, share = oof[y == 1][order], np.cumsum(weight[y == 1][order]) / max(1e-9, weight[y == 1].sum())
    threshold = float(answerable_p[min(len(share) - 1, np.searchsorted(share, MAX_FALSE_REFUSALS, side="right"))]) if len(answerable_p) else 0.5
    refused = oof < threshold
    # Within the refused, ranking by the probability says little (0.44 on dev), so a refusal's
    # confidence is one measured number: how often a refusal was right (each data set the same).
    refusal_right = float(np.average(y[refused] == 0, weights=weight[refused])) if refused.any() else 0.5
    model.fit(x, y, logisticregression__sample_weight=weight)
    scaler, lr = model.steps[0][1], model.steps[1][1]
    fitted = Answerability([float(v) for v in scaler.mean_], [float(v) or 1.0 for v in scaler.scale_],
                           [float(v) for v in lr.coef_[0]], float(lr.intercept_[0]), threshold, round(refusal_right, 4))
    measured = {"cases": int(len(y)), "answerable": int(y.sum()),
                "dev_out_of_fold_refusals_on_unanswerable": round(float(refused[y == 0].mean()), 3) if (y == 0).any() else None,
                "dev_out_of_fold_false_refusals": round(float(refused[y == 1].mean()), 3) if (y == 1).any() else None,
                "dev_out_of_fold_false_refusals_weighted": round(float(np.average(refused[y == 1], weights=weight[y == 1])), 3)
                if (y == 1).any() else None}
    return fitted, measured
