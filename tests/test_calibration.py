from app.core.routing.calibration import Calibration, reliability_table


def test_isotonic_fit_is_monotone_and_matches_observed_rates(tmp_path):
    raw = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    correct = [False, False, True, False, False, True, True, True, True, True]
    cal = Calibration.fit(raw, correct)
    mapped = [cal(r) for r in raw]
    assert mapped == sorted(mapped)
    assert 0.0 < cal(0.05) < 0.3 and 0.8 < cal(0.99) < 1.0, "small bins are shrunk, never certain"
    path = tmp_path / "cal.json"
    cal.save(path)
    assert Calibration.load(path)(0.65) == cal(0.65)


def test_reliability_table_counts_every_case_once():
    rows = reliability_table([0.05, 0.25, 0.3, 0.99, 1.0], [False, True, False, True, True], bins=5)
    assert sum(r["cases"] for r in rows) == 5
    assert rows[-1] == {"bin": "0.8-1.0", "cases": 2, "accuracy": 1.0}
    assert rows[2]["accuracy"] is None
