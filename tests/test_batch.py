"""Batch mode of classify, extract, transform and summarize, through the real CLI and the real
model: records stream in, one output record per input comes out in order, and a bad record is
reported in its own line with the reason while the others go on."""

from __future__ import annotations

import csv
import json

from conftest import REPO, run_cli

from app.core.batch import Outcome, Record, csv_row, jsonl_records

LABELS = "billing,technical,account,shipping,feedback"
EXAMPLES = REPO / "tests" / "data" / "classify_examples.jsonl"
TICKETS = ["Charged twice for May.", "App crashes on login.", "Change my email address.", "Refund my last payment.",
           "Button does nothing on Android.", "Reset my password please.", "Invoice shows the wrong amount.",
           "Sync fails with error 500."]
BAD = {17: '{"text": "unterminated', 101: '{"id": "no-text"}', 180: '{"text": "   "}'}
INVOICE = "Invoice INV-2041 from Acme Tools Ltd, dated 2024-03-05. Total due: $1,250.00 by 2024-04-04."


def test_200_records_with_3_bad_give_200_lines_with_the_3_errors():
    # Taught by example (the real embedder and a classifier fitted on it), so 200 records take
    # seconds; the model-scored path streams the same way (the other tests here use the GGUF).
    lines = [BAD.get(n) or json.dumps({"id": f"t{n}", "text": TICKETS[n % len(TICKETS)]}) for n in range(1, 201)]
    out = run_cli("classify", "--labels", LABELS, "--examples", str(EXAMPLES), "--jsonl", input="\n".join(lines) + "\n")
    assert out.returncode == 1, out.stderr  # some records failed; the others are all there
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(records) == 200 and [r["line"] for r in records] == list(range(1, 201))
    failed = {r["line"]: r["error"] for r in records if "error" in r}
    assert set(failed) == set(BAD)
    assert failed[17].startswith("line 17: not JSON")
    assert failed[101].startswith('line 101: no "text" string') and records[100]["id"] == "no-text"
    assert failed[180] == "line 180: the text to classify is empty"
    for r in (r for r in records if "error" not in r):
        assert r["id"] == f"t{r['line']}" and r["label"] in LABELS.split(",") and r["route"] == "local:taught"
        assert 0.0 <= r["confidence"] <= 1.0 and set(r["scores"]) == set(LABELS.split(","))
    assert [records[n]["label"] for n in range(8)] == ["technical", "account", "billing", "technical", "account", "billing",
                                                        "technical", "billing"]  # TICKETS[1:] then TICKETS[0]
    progress = [line for line in out.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 200 and progress[16] == f"[17] failed: {failed[17]}"
    assert "200 records: 197 done, 3 failed" in out.stderr


def test_extract_over_a_folder_writes_one_csv_row_per_file(tmp_path):
    folder = tmp_path / "invoices"
    folder.mkdir()
    (folder / "a-acme.txt").write_text(INVOICE, encoding="utf-8")
    (folder / "b-broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    (folder / "c-empty.txt").write_bytes(b"")
    (folder / ".hidden.txt").write_text(INVOICE, encoding="utf-8")  # hidden files are not records
    target = tmp_path / "out.csv"
    out = run_cli("extract", "--schema", "invoice", str(folder), "--csv", str(target))
    assert out.returncode == 1 and out.stdout == ""
    with target.open(encoding="utf-8") as table:
        rows = list(csv.DictReader(table))
    assert [r["file"].rsplit("/", 1)[1] for r in rows] == ["a-acme.txt", "b-broken.pdf", "c-empty.txt"]
    header = list(rows[0])
    assert header[0] == "file" and header[-3:] == ["confidence", "route", "error"] and "total" in header and "valid" in header
    assert rows[0]["error"] == "" and rows[0]["route"] == "local" and float(rows[0]["total"]) == 1250.0
    assert rows[1]["error"].startswith(str(folder / "b-broken.pdf")) and rows[1]["confidence"] == ""
    assert rows[2]["error"] == f"{folder / 'c-empty.txt'}: empty file (0 bytes)"
    assert "[3/3] failed:" in out.stderr and "3 records: 1 done, 2 failed" in out.stderr


def test_transform_jsonl_and_summarize_a_folder(tmp_path):
    diff = "--- a/app.py\n+++ b/app.py\n-TIMEOUT = 5\n+TIMEOUT = 30  # slow networks\n"
    out = run_cli("transform", "--preset", "commit-message", "--jsonl", input=json.dumps({"text": diff}) + "\n[1, 2]\n")
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first["text"] and first["route"] == "local" and "confidence" in first
    assert second == {"line": 2, "error": 'line 2: no "text" string (give {"text": "..."} or a JSON string)'}
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "standup.txt").write_text("The release moved to Friday because the payment tests failed twice. "
                                        "Maria will fix the flaky test and Tom will update the changelog.", encoding="utf-8")
    (folder / "photo.xyz").write_bytes(b"\x00\x01")
    out = run_cli("summarize", str(folder), "--length", "short")
    unsupported, summary = (json.loads(line) for line in out.stdout.splitlines())  # in file-name order
    assert summary["file"].endswith("standup.txt") and summary["text"] and summary["route"] == "local"
    assert unsupported["error"] == f"{folder / 'photo.xyz'}: unsupported file type .xyz"


def test_jsonl_records_decode_each_line_on_its_own():
    lines = [b'\xef\xbb\xbf{"text": "with a BOM"}\n', b"\n", b'"a bare string"\n', b'{"text": "caf\xe9"}\n', b'{"id": 9, "text": "x"}\n']
    records = list(jsonl_records(lines))
    assert [(r.ref, r.text, r.error) for r in records] == [
        ({"line": 1}, "with a BOM", None),
        ({"line": 3}, "a bare string", None),
        ({"line": 4}, None, "line 4: not UTF-8 (byte 14)"),
        ({"line": 5, "id": 9}, "x", None),
    ]


def test_a_csv_row_spreads_extracted_fields_and_keeps_nested_values_as_json():
    from app.core.tasks.result import TaskResult

    result = TaskResult(text="{}", confidence=0.5, task="extract", data={"total": "$5", "items": ["a", "b"]}, valid=True)
    row = csv_row(Outcome(Record({"file": "x.txt"}, "t"), result, None))
    assert row["file"] == "x.txt" and row["total"] == "$5" and row["items"] == '["a", "b"]' and row["valid"] is True
