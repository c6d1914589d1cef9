"""Teach by example: a small classifier on the embeddings of the user's labelled examples.

Logistic regression on MiniLM vectors trains in well under a second on a CPU and, unlike a
135M chat model, gives the same answer every time. Its probabilities are temperature-scaled
with out-of-fold scores, so "0.8" means right about 80% of the time. Everything is stored as
plain arrays in an .npz read with allow_pickle=False: loading a classifier cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core import paths
from app.core.tasks.result import TaskError

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


def _fit_temperature(x: np.ndarray, y: np.ndarray, n_labels: int, model) -> float:
    """Temperature that minimizes out-of-fold log-loss; 1.0 when there are too few examples to hold any out."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    folds = min(5, int(np.bincount(y, minlength=n_labels).min()))
    if folds < 2:
        return 1.0
    logits = np.zeros((len(y), n_labels))
    for train, held in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        fold = clone(model).fit(x[train], y[train])
        logits[held] = _logits(fold, x[held], n_labels)
    losses = [-np.log(_softmax(logits / t)[np.arange(len(y)), y] + 1e-12).mean() for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])


def _logits(model, x: np.ndarray, n_labels: int) -> np.ndarray:
    scores = model.decision_function(x)
    return np.stack([-scores / 2, scores / 2], axis=1) if n_labels == 2 else scores


def train(services, examples: Path, labels: list[str], name: str) -> Classifier:
    """Train on the examples file and save the classifier under `name`."""
    from sklearn.linear_model import LogisticRegression

    if len(labels) < 2:
        raise TaskError("teaching needs at least two labels")
    texts, found = read_examples(examples, labels)
    x = np.asarray(services.embedder.embed(texts))
    y = np.asarray([labels.index(label) for label in found])
    model = LogisticRegression(C=10.0, max_iter=2000)  # normalized vectors need weak regularization
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fold without one class or slow convergence is not the user's problem
        temperature = _fit_temperature(x, y, len(labels), model)
        model.fit(x, y)
    coef, intercept = model.coef_, model.intercept_
    if len(labels) == 2:  # sklearn keeps one row for two classes; store both, centred, like _logits
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    clf = Classifier(labels, coef, intercept, temperature, texts, found, x, embedder_id(services.embedder),
                     hashlib.sha256(examples.read_bytes()).hexdigest())
    save(clf, name)
    return clf


def save(clf: Classifier, name: str) -> Path:
    target = _file(name)
    meta = {"labels": clf.labels, "temperature": clf.temperature, "embedder": clf.embedder, "source_sha256": clf.source_sha256}
    tmp = target.with_suffix(".tmp.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta)), coef=clf.coef, intercept=clf.intercept, vectors=clf.vectors,
             texts=np.array(clf.texts, dtype=str), example_labels=np.array(clf.example_labels, dtype=str))
    tmp.replace(target)  # a crash mid-write never leaves a half classifier
    return target


def load(name: str) -> Classifier | None:
    target = _file(name)
    if not target.is_file():
        return None
    with np.load(target, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        return Classifier(meta["labels"], f["coef"], f["intercept"], meta["temperature"], f["texts"].tolist(),
                          f["example_labels"].tolist(), f["vectors"], meta["embedder"], meta["source_sha256"])


def ensure(services, labels: list[str], examples: Path | None, name: str) -> Classifier | None:
    """The saved classifier for this task, retrained when the examples, labels or embedder changed."""
    clf = load(name)
    usable = clf is not None and clf.labels == labels and clf.embedder == embedder_id(services.embedder)
    if examples is None:
        return clf if usable else None
    if usable and examples.is_file() and clf.source_sha256 == hashlib.sha256(examples.read_bytes()).hexdigest():
        return clf
    return train(services, examples, labels, name)
