"""bench/sroie_train.py turns SROIE's training split into fitting data for extraction's confidence, and
leaves out what would leak the test split into the fit: a receipt of the test split (same gold, or the
same date and total with near-identical text), a second copy of a training receipt, one with a field
missing. Real git (a repository laid out as althayr/ICDAR-2019-SROIE-dataset), a real bench folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import public_sets  # noqa: E402
import sroie_train  # noqa: E402

SCHEMA = {"type": "object", "properties": {k: {"type": "string"} for k in sroie_train.FIELDS}}


def gold(company: str, total: str, date: str = "01/02/18") -> dict:
    return {"company": company, "date": date, "address": f"NO 1, JALAN {company}, 43000 KAJANG", "total": total}


def bbox(*lines: str) -> str:
    return "".join(f"1,2,3,4,5,6,7,8,{line}\n" for line in lines)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository with three test receipts (one also in the bench set) and six training receipts."""
    work = tmp_path / "work"
    files = {
        "testing_data/labels/001.json": gold("KEDAI A", "9.00"), "testing_data/bbox/001.csv": bbox("KEDAI A", "TOTAL 9.00"),
        "testing_data/labels/002.json": gold("KEDAI B", "7.50"),
        "testing_data/bbox/002.csv": bbox("KEDAI B", "DATE 01/02/18", "TOTAL 7.50"),
        "training_data/labels/001.json": gold("KEDAI A", "9.00"),  # the bench case, retranscribed
        "training_data/bbox/001.csv": bbox("KEDAI A", "TOTAL  9.00"),
        "training_data/labels/002.json": gold("KEDAI Z", "7.50"),  # test receipt 002 with its company misread
        "training_data/bbox/002.csv": bbox("KEDAI B", "DATE 01/02/18", "TOTAL 7.50 "),
        "training_data/labels/003.json": gold("KEDAI C", "3.20"),
        "training_data/bbox/003.csv": bbox("KEDAI C", "NO 1, JALAN KEDAI C, 43000 KAJANG", "TOTAL, CASH: 3.20"),
        "training_data/labels/004.json": gold("KEDAI C", "3.20"),  # a second copy of 003
        "training_data/bbox/004.csv": bbox("KEDAI C", "TOTAL 3.20"),
        "training_data/labels/005.json": {"company": "KEDAI D", "date": "01/02/18", "total": "1.00"},  # no address
        "training_data/bbox/005.csv": bbox("KEDAI D"),
        "training_data/labels/006.json": gold("KEDAI B", "7.50", date="02/02/18"),  # the same shop, another day
        "training_data/bbox/006.csv": bbox("KEDAI B", "DATE 02/02/18", "TOTAL 7.50"),
    }
    for path, content in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "data"], check=True)
    sets = tmp_path / "sets" / "sroie"
    sets.mkdir(parents=True)
    bench_case = {"id": "sroie-test-X1", "task": "extract", "input": "KEDAI A\nTOTAL 9.00", "schema": SCHEMA,
                  "expected": gold("KEDAI A", "9.00")}
    (sets / "cases.jsonl").write_text(json.dumps(bench_case) + "\n", encoding="utf-8")
    monkeypatch.setattr(public_sets, "SETS_DIR", tmp_path / "sets")
    return str(work / ".git")


def test_training_receipts_come_without_the_test_split_or_second_copies(repo):
    cases, left = sroie_train.convert(repo)
    assert [c["id"] for c in cases] == ["sroie-train-003", "sroie-train-006"]
    assert left == {"missing field": 1, "second copy": 1, "same as a bench case": 1, "same as another test-split receipt": 1}
    first = cases[0]
    assert first["schema"] == SCHEMA and first["expected"] == gold("KEDAI C", "3.20")
    # the transcript is each row's text after the eight coordinates, its own commas kept
    assert first["input"] == "KEDAI C\nNO 1, JALAN KEDAI C, 43000 KAJANG\nTOTAL, CASH: 3.20"


def test_loading_before_converting_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="run bench/sroie_train.py --git DIR first"):
        sroie_train.load(tmp_path / "none.jsonl")
