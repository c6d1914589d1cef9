"""The eval harness and the calibrate command, through the CLI as a user or another tool runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import run_cli

from app.core.evaluation import cases as cases_mod
from app.core.evaluation.scoring import score
from app.core.tasks.result import Citation, TaskResult

DATA = Path(__file__).parent / "data" / "eval"


def small_dataset(tmp_path: Path) -> tuple[Path, Path]:
    lines = [json.loads(line) for name in ("classify", "extract", "ask", "summarize")
             for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()[:2]]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in lines), encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "summaries").mkdir(parents=True)
    for f in (DATA / "docs").iterdir():
        if f.is_file():
            shutil.copy(f, docs / f.name)
    for case in lines:
        if case["task"] == "summarize":
            shutil.copy(DATA / "docs" / case["file"], docs / case["file"])
    return path, docs


def test_eval_report_keeps_its_documented_shape_and_draws_the_plot(tmp_path, cloud_server):
    dataset, docs = small_dataset(tmp_path)
    assert run_cli("cloud", "configure", "--base-url", cloud_server.base_url, "--model", "stand-in", "--price-per-1k", "0.5").returncode == 0
    plot = tmp_path / "curve.png"
    out = run_cli("eval", str(dataset), "--docs", str(docs), "--policy", "auto", "--thresholds", "0.3,0.7", "--plot", str(plot), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["version"] == 1 and report["policy"] == "auto" and report["thresholds"] == [0.3, 0.7]
    assert [(r["policy"], r["threshold"]) for r in report["rows"]] == [("local", None), ("cloud", None), ("auto", 0.3), ("auto", 0.7)]
    keys = {"policy", "threshold", "cases", "accuracy", "tasks", "escalated", "escalation_rate", "cloud_failures", "cloud_tokens",
            "cost", "latency_p50_s"}
    for row in report["rows"]:
        assert keys <= row.keys() and set(row["tasks"]) == {"classify", "extract", "ask", "summarize"} and row["cases"] == 8
        assert {"field_accuracy"} <= row["tasks"]["extract"].keys() and {"retrieval_hit"} <= row["tasks"]["ask"].keys()
        assert {"keyword_fraction"} <= row["tasks"]["summarize"].keys()
    local, cloud, low, high = report["rows"]
    assert local["escalated"] == 0 and cloud["escalated"] == 8 and cloud["cloud_tokens"] > 0 and cloud["cost"] > 0
    below = lambda t: sum(c["confidence"] < t for c in report["cases"])  # noqa: E731
    assert low["escalated"] == below(0.3) and high["escalated"] == below(0.7) and low["escalated"] <= high["escalated"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and report["plot"] == str(plot)
    ledger = json.loads(run_cli("ledger", "--json").stdout)
    assert len(ledger) == 8, "one ledger row per cloud request"


def test_calibrate_prints_bins_and_its_saved_fit_is_applied(tmp_path):
    dataset, docs = small_dataset(tmp_path)
    out = run_cli("calibrate", str(dataset), "--docs", str(docs), "--bins", "4", "--save", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    for task in ("classify", "extract", "ask", "summarize"):
        table = report["tasks"][task]
        assert table["cases"] == 2 and len(table["raw"]) == len(table["calibrated"]) == 4
        assert sum(row["cases"] for row in table["raw"]) == 2
    assert len(report["saved"]) == 4
    # The saved fit now maps every later result: a ticket's confidence is the fit applied to its raw score.
    from app.core.routing.calibration import Calibration

    fit = Calibration.load(Path(next(p for p in report["saved"] if p.endswith("classify.json"))))
    ticket = json.loads(dataset.read_text().splitlines()[0])
    result = json.loads(run_cli("classify", "-", "--labels", ",".join(ticket["labels"]), "--json", input=ticket["input"]).stdout)
    assert result["confidence"] == round(fit(result["raw_confidence"]), 4)


def test_a_bad_dataset_line_is_one_error_naming_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "task": "classify", "input": "x", "labels": ["p", "q"], "expected": "p"}\n{"id": "b", "task": "classify"}\n')
    out = run_cli("eval", str(path))
    assert out.returncode == 1 and f"{path}:2" in out.stderr and "input" in out.stderr and "Traceback" not in out.stderr


def test_scoring_follows_the_documented_rules():
    asks = cases_mod.load([DATA / "ask.jsonl"])
    ask_case, refusal_case = asks[0], next(c for c in asks if c.expected_source is None)
    cite = Citation(ask_case.expected_source, "/x", None, 1, 2, "q", 0.9)
    right = score(ask_case, TaskResult(text=f"It is {ask_case.expected[0]}.", confidence=0.9, citations=[cite]))
    assert right.correct and right.retrieval_hit
    assert not score(ask_case, TaskResult(text="The documents don't say.", confidence=0.1)).correct
    assert score(refusal_case, TaskResult(text="The documents don't say.", confidence=0.1)).correct
    [extract_case] = cases_mod.load([DATA / "extract.jsonl"])[:1]
    loose = {k: (v.upper() + "  " if isinstance(v, str) else v) for k, v in extract_case.expected.items()}
    assert score(extract_case, TaskResult(text="", confidence=0.5, task="extract", data=loose)).correct


def test_the_dev_test_split_is_a_fixed_rule_of_the_id():
    from app.core.evaluation.split import part, select

    # Pinned: a change to the rule would silently move benchmark cases between dev and test.
    assert [part(i) for i in ("sroie-test-X00016469670", "banking77-test-00003", "dynasent-r1-0098089")] == ["test", "dev", "test"]
    cases = [{"id": f"case-{n}"} for n in range(200)]
    dev, test = select(cases, "dev"), select(cases, "test")
    assert len(dev) + len(test) == 200 and not {c["id"] for c in dev} & {c["id"] for c in test}
    assert 70 < len(dev) < 130, "about half each"


def test_auroc_and_the_escalation_curve():
    from app.core.evaluation.ranking import auroc, best_within, escalation_curve

    assert auroc([0.9, 0.8, 0.3, 0.2], [True, True, False, False]) == 1.0
    assert auroc([0.2, 0.3, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5 and auroc([0.1, 0.9], [True, True]) is None
    conf, local, cloud = [0.1, 0.2, 0.7, 0.9], [False, False, True, True], [True, True, False, True]
    rows = escalation_curve(conf, local, cloud, [0.0, 0.5, 1.0])
    assert [(r["escalated"], r["accuracy"]) for r in rows] == [(0.0, 0.5), (0.5, 1.0), (1.0, 0.75)]
    assert rows[1]["share_of_cloud"] == round(1.0 / 0.75, 4)
    assert best_within(rows, 0.4)["threshold"] == 0.0 and best_within(rows, 0.5)["threshold"] == 0.5
    # escalating only the uncertain fields: a case right once merged, though the cloud's whole answer was wrong
    merged = escalation_curve(conf, local, cloud, [1.0], escalated=[True, True, True, True])
    assert merged[0]["accuracy"] == 1.0 and merged[0]["share_of_cloud"] == round(1.0 / 0.75, 4)
