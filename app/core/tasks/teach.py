"""Teach by example: a small classifier on the embeddings of the user's labelled examples.

Logistic regression on MiniLM vectors trains in well under a second on a CPU and, unlike a
135M chat model, gives the same answer every time. Its probabilities are temperature-scaled
with out-of-fold scores, so "0.8" means right about 80% of the time. Everything is stored as
plain arrays in an .npz read with allow_pickle=False: loading a classifier cannot run code.

A few examples can teach worse than no examples: 30 DynaSent sentences taught a sentiment classifier
that was right on 30% of them held out, where the built-in zero-shot route was right on 70%. So
training also scores the zero-shot route on the same examples, and when it is right clearly more
often than the taught classifier out of fold (a one-sided sign test on the examples only one of them
got right, p < 0.05), classify() keeps zero-shot (route "local:zero-shot") and the log says why. A
difference that few examples cannot show goes to the examples: the user gave them for a reason. The
zero-shot route depends on the label descriptions, so when the user edits them, the same comparison is
made again on the stored examples (each example's held-out result is kept for it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core import paths
from app.core.tasks.result import TaskError

log = logging.getLogger(__name__)

_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_TEMPERATURES = np.logspace(-1.5, 1.5, 61)


@dataclass
class Classifier:
    labels: list[str]
    coef: np.ndarray  # (n_labels, dim); a two-label problem is stored as two rows too
    intercept: np.ndarray  # (n_labels,)
    temperature: float
    texts: list[str]  # the examples, kept for few-shot prompts
    example_labels: list[str]
    vectors: np.ndarray  # (n_examples, dim)
    embedder: str
    source_sha256: str
    taught_accuracy: float | None = None  # out of fold, on the examples; None: too few to hold any out
    zero_shot_accuracy: float | None = None  # the zero-shot route on the same examples
    outdone: bool = False  # the zero-shot route was clearly right more often: it decides instead
    taught_right: np.ndarray | None = None  # per example, whether the held-out fit got it right
    zero_shot_key: str = ""  # what the zero-shot route was scored with (ZeroShot.key)

    def probabilities(self, vector: list[float]) -> np.ndarray:
        return _softmax((self.coef @ np.asarray(vector) + self.intercept) / self.temperature)

    def nearest(self, vector: list[float], k: int) -> list[tuple[str, str]]:
        """The k most similar examples (cosine: the vectors are normalized), least similar first."""
        order = np.argsort(self.vectors @ np.asarray(vector))[-k:]
        return [(self.texts[i], self.example_labels[i]) for i in order]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def default_name(labels: list[str]) -> str:
    """A classifier belongs to its label set unless the user names the task."""
    return "labels-" + hashlib.sha256("\n".join(sorted(labels)).encode()).hexdigest()[:12]


def _file(name: str) -> Path:
    folder = paths.data_dir() / "classifiers"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{_NAME.sub('_', name)}.npz"


def embedder_id(embedder) -> str:
    return f"{Path(embedder.path).name}:{embedder.dimension}"


def read_examples(path: Path, labels: list[str]) -> tuple[list[str], list[str]]:
    if not path.is_file():
        raise TaskError(f"examples file {path} does not exist")
    texts, found = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            # {"text", "label"}, or a labelled case of `hearth eval` ({"input", "expected"})
            text, label = str(row.get("text", row.get("input"))).strip(), str(row.get("label", row.get("expected"))).strip()
            if "text" not in row and "input" not in row or "label" not in row and "expected" not in row:
                raise KeyError
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TaskError(f"{path} line {n}: expected a JSON object with \"text\" and \"label\" (or \"input\" and \"expected\")") from None
        if text:
            texts.append(text)
            found.append(label)
    if not texts:
        raise TaskError(f"examples file {path} has no examples")
    if unknown := sorted(set(found) - set(labels)):
        raise TaskError(f"examples file {path} uses labels outside the label set: {', '.join(unknown)}")
    if missing := [label for label in labels if label not in found]:
        raise TaskError(f"examples file {path} has no example for: {', '.join(missing)}; give at least one per label")
    return texts, found


def _out_of_fold(x: np.ndarray, y: np.ndarray, n_labels: int, model) -> np.ndarray | None:
    """Each example's logits from a fit that did not see it; None when a label has too few examples to hold any out."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    folds = min(5, int(np.bincount(y, minlength=n_labels).min()))
    if folds < 2:
        return None
    logits = np.zeros((len(y), n_labels))
    for train, held in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        fold = clone(model).fit(x[train], y[train])
        logits[held] = _logits(fold, x[held], n_labels)
    return logits


def _fit_temperature(logits: np.ndarray | None, y: np.ndarray) -> float:
    """Temperature that minimizes out-of-fold log-loss; 1.0 without out-of-fold logits."""
    if logits is None:
        return 1.0
    losses = [-np.log(_softmax(logits / t)[np.arange(len(y)), y] + 1e-12).mean() for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])


def _logits(model, x: np.ndarray, n_labels: int) -> np.ndarray:
    scores = model.decision_function(x)
    return np.stack([-scores / 2, scores / 2], axis=1) if n_labels == 2 else scores


def _clearly_better(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether `a` is right on more cases than `b` beyond chance: a one-sided sign test over the cases
    only one of them got right (McNemar's exact test)."""
    from scipy.stats import binomtest

    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    return bool(only_a > only_b and binomtest(only_a, only_a + only_b, 0.5, alternative="greater").pvalue < 0.05)


@dataclass(frozen=True)
class ZeroShot:
    """The zero-shot route the examples are measured against."""

    probabilities: Callable[[str], np.ndarray]  # a text -> its probability per label
    key: str  # what the route depends on (the label descriptions): when it changes, the route is scored again


def _gate(clf: Classifier, zero_shot: ZeroShot) -> None:
    """Score the zero-shot route on the examples and set whether it clearly beats the taught classifier."""
    # each text embedded alone, as classify() will embed it: batch mates move the int8 vectors a little
    zero_right = np.asarray([int(np.argmax(zero_shot.probabilities(t))) == clf.labels.index(label)
                             for t, label in zip(clf.texts, clf.example_labels)])
    clf.zero_shot_accuracy, clf.zero_shot_key = float(zero_right.mean()), zero_shot.key
    clf.outdone = _clearly_better(zero_right, clf.taught_right)


def train(services, examples: Path, labels: list[str], name: str, zero_shot: ZeroShot | None = None) -> Classifier:
    """Train on the examples file and save the classifier under `name`; with `zero_shot`, also measure
    that route on the examples, so that classify() can tell whether the examples beat it."""
    from sklearn.linear_model import LogisticRegression

    if len(labels) < 2:
        raise TaskError("teaching needs at least two labels")
    texts, found = read_examples(examples, labels)
    x = np.asarray(services.embedder.embed(texts))
    y = np.asarray([labels.index(label) for label in found])
    model = LogisticRegression(C=10.0, max_iter=2000)  # normalized vectors need weak regularization
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fold without one class or slow convergence is not the user's problem
        held_out = _out_of_fold(x, y, len(labels), model)
        model.fit(x, y)
    coef, intercept = model.coef_, model.intercept_
    if len(labels) == 2:  # sklearn keeps one row for two classes; store both, centred, like _logits
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    taught_right = None if held_out is None else held_out.argmax(axis=1) == y
    clf = Classifier(labels, coef, intercept, _fit_temperature(held_out, y), texts, found, x, embedder_id(services.embedder),
                     hashlib.sha256(examples.read_bytes()).hexdigest(),
                     None if taught_right is None else float(taught_right.mean()), taught_right=taught_right)
    if zero_shot is not None and taught_right is not None:
        _gate(clf, zero_shot)
        _log_outdone(clf, str(examples))
    save(clf, name)
    return clf


def _log_outdone(clf: Classifier, source: str) -> None:
    if clf.outdone:
        log.warning("%s: the classifier taught on %d examples was right on %.0f%% of them held out, the zero-shot route on "
                    "%.0f%%: zero-shot decides until better examples are given", source, len(clf.texts),
                    100 * clf.taught_accuracy, 100 * clf.zero_shot_accuracy)


def save(clf: Classifier, name: str) -> Path:
    target = _file(name)
    meta = {"labels": clf.labels, "temperature": clf.temperature, "embedder": clf.embedder, "source_sha256": clf.source_sha256,
            "taught_accuracy": clf.taught_accuracy, "zero_shot_accuracy": clf.zero_shot_accuracy, "outdone": clf.outdone,
            "zero_shot_key": clf.zero_shot_key}
    extra = {} if clf.taught_right is None else {"taught_right": clf.taught_right}
    # a file of its own per writer: two processes saving the same classifier must not write into one
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".npz")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, meta=np.array(json.dumps(meta)), coef=clf.coef, intercept=clf.intercept, vectors=clf.vectors,
                     texts=np.array(clf.texts, dtype=str), example_labels=np.array(clf.example_labels, dtype=str), **extra)
        tmp.replace(target)  # a crash mid-write never leaves a half classifier
    finally:
        tmp.unlink(missing_ok=True)
    return target


def load(name: str) -> Classifier | None:
    target = _file(name)
    if not target.is_file():
        return None
    with np.load(target, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        # older files: the examples decide, and are not compared again
        return Classifier(meta["labels"], f["coef"], f["intercept"], meta["temperature"], f["texts"].tolist(),
                          f["example_labels"].tolist(), f["vectors"], meta["embedder"], meta["source_sha256"],
                          meta.get("taught_accuracy"), meta.get("zero_shot_accuracy"), meta.get("outdone", False),
                          f["taught_right"] if "taught_right" in f.files else None, meta.get("zero_shot_key", ""))


def ensure(services, labels: list[str], examples: Path | None, name: str, zero_shot: ZeroShot | None = None) -> Classifier | None:
    """The saved classifier for this task, retrained when the examples, labels or embedder changed, and
    compared again with the zero-shot route when that changed."""
    clf = load(name)
    usable = clf is not None and clf.labels == labels and clf.embedder == embedder_id(services.embedder)
    if examples is None:
        return _regated(clf, zero_shot, name) if usable else None
    if usable and examples.is_file() and clf.source_sha256 == hashlib.sha256(examples.read_bytes()).hexdigest():
        return _regated(clf, zero_shot, name)
    return train(services, examples, labels, name, zero_shot)


def _regated(clf: Classifier, zero_shot: ZeroShot | None, name: str) -> Classifier:
    if zero_shot is None or clf.taught_right is None or clf.zero_shot_key == zero_shot.key:
        return clf
    was = clf.outdone
    _gate(clf, zero_shot)
    log.info("%s: the zero-shot route changed; on the examples it is now right on %.0f%% (taught %.0f%%): %s decides",
             name, 100 * clf.zero_shot_accuracy, 100 * clf.taught_accuracy, "zero-shot" if clf.outdone else "the examples")
    if clf.outdone and not was:
        _log_outdone(clf, name)
    save(clf, name)
    return clf
