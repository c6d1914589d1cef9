"""A taught classifier on disk: plain arrays, written whole even when two writers save it at once."""

from __future__ import annotations

import numpy as np
from threads import in_threads

from app.core import paths
from app.core.tasks import teach


def _classifier(seed: int) -> teach.Classifier:
    rng = np.random.default_rng(seed)
    return teach.Classifier(["a", "b"], rng.normal(size=(2, 8)), rng.normal(size=2), 1.0, ["x", "y"], ["a", "b"],
                            rng.normal(size=(2, 8)), "test:8", "0" * 64, 0.5, 0.5, False, np.array([True, False]), "key")


def test_concurrent_saves_leave_one_whole_classifier_and_no_temporary_files():
    def writer(seed: int) -> None:
        for _ in range(40):
            teach.save(_classifier(seed), "shared")

    assert in_threads(writer, 4) == []
    loaded = teach.load("shared")
    assert any(np.array_equal(loaded.coef, _classifier(seed).coef) for seed in range(4))  # one writer's, whole
    assert loaded.taught_right.tolist() == [True, False] and loaded.zero_shot_key == "key"
    assert [p.name for p in (paths.data_dir() / "classifiers").iterdir()] == ["shared.npz"]
