"""The answerability fit: a logistic regression whose threshold holds false refusals to the set
share on held-out folds, saved as plain numbers, and a damaged fit named in a one-line error; and
the rule beside it: a name the passages never mention raises the bar to even odds."""

from __future__ import annotations

import random

import pytest

from app.core.tasks.answerability import DOUBT, FEATURES, MAX_FALSE_REFUSALS, Answerability, absent_names, fit, fit_path
from app.core.tasks.result import TaskError


def _rows(n: int, answerable: bool, rng: random.Random) -> list[dict[str, float]]:
    shift = 0.25 if answerable else 0.0  # answerable questions match their evidence better, with overlap
    return [{f: rng.gauss(0.5 + shift, 0.2) for f in FEATURES} for _ in range(n)]


def test_fit_orders_cases_and_keeps_false_refusals_to_the_set_share(tmp_path):
    rng = random.Random(7)
    rows = _rows(120, True, rng) + _rows(80, False, rng)
    labels = [True] * 120 + [False] * 80
    fitted, measured = fit(rows, labels)
    assert measured["dev_out_of_fold_false_refusals"] <= MAX_FALSE_REFUSALS + 0.02
    assert measured["dev_out_of_fold_refusals_on_unanswerable"] > 0.5  # separable data: most are refused
    strong = {f: 0.9 for f in FEATURES}
    weak = {f: 0.3 for f in FEATURES}
    assert fitted.probability(strong) > fitted.threshold > fitted.probability(weak)
    # How often a refusal was right on held-out folds: most refused rows here are the unanswerable ones.
    assert 0.6 < fitted.refusal_right <= 1.0

    path = tmp_path / "answerability.json"
    fitted.save(path, {"model": "test"})
    again = Answerability.load(path)
    assert again.probability(strong) == pytest.approx(fitted.probability(strong)) and again.refusal_right == fitted.refusal_right


def test_a_damaged_or_foreign_fit_is_a_one_line_error_naming_the_file(tmp_path):
    broken = tmp_path / "answerability.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(TaskError) as damaged:
        Answerability.load(broken)
    assert str(broken) in str(damaged.value) and "\n" not in str(damaged.value)
    broken.write_text('{"features": ["other"], "mean": [], "scale": [], "coef": [], "intercept": 0, "threshold": 0.5}')
    with pytest.raises(TaskError, match="other signals"):
        Answerability.load(broken)


def test_the_shipped_fit_loads_and_has_every_signal():
    shipped = Answerability.load(fit_path())
    assert len(shipped.coef) == len(FEATURES) and 0.0 < shipped.threshold < 1.0


def test_each_data_set_weighs_the_same_in_the_fit_and_its_threshold():
    rng = random.Random(11)
    # A large set whose classes barely differ, and a small one whose classes differ clearly.
    big = [{f: rng.gauss(0.5, 0.2) for f in FEATURES} for _ in range(200)]
    small_yes, small_no = _rows(20, True, rng), _rows(20, False, rng)
    rows, labels = big + small_yes + small_no, [n % 2 == 0 for n in range(200)] + [True] * 20 + [False] * 20
    sources = ["big"] * 200 + ["small"] * 40
    plain, _ = fit(rows, labels)
    weighed, measured = fit(rows, labels, sources)
    assert measured["dev_out_of_fold_false_refusals_weighted"] <= MAX_FALSE_REFUSALS + 0.03
    refused = lambda fitted: sum(fitted.probability(r) < fitted.threshold for r in small_no)  # noqa: E731
    assert refused(weighed) > refused(plain)  # the small set's clear signal is no longer drowned


def test_names_the_passages_never_mention_are_found_and_raise_the_bar():
    evidence = "The server listens on TCP port 8080 unless the Normans configured another one."
    assert absent_names("Which TCP port does PostgreSQL listen on by default?", evidence) == ["PostgreSQL"]
    assert absent_names("Which port did the Norman set?", evidence) == []  # a plural 's' aside, case-blind
    assert absent_names("What port does it listen on? Nobody knows.", evidence) == []  # sentence starts are no names
    assert absent_names("How do I change the port in Kubernetes and Docker?", evidence) == ["Kubernetes", "Docker"]
    fitted = Answerability([0.0] * len(FEATURES), [1.0] * len(FEATURES), [0.0] * len(FEATURES), 0.0, 0.3, 0.7)
    assert fitted.bar([]) == 0.3 and fitted.bar(["PostgreSQL"]) == DOUBT
