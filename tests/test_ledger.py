"""The ledger of outbound requests: append-only in SQLite itself, never holding the key."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import stat
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from threads import in_threads

from app.core import paths
from app.core.ledger import OUTCOMES, SCHEMA_VERSION, Ledger, LedgerEntry, LedgerError, SecretInEntry, default_path

KEY = "sk-live-4f9a8c2e71d04b6b9e3a5c7d1f2e8a60"


def entry(**overrides) -> LedgerEntry:
    fields = {
        "provider": "api.example.com",
        "model": "big-model-1",
        "task": "answer",
        "payload": json.dumps({"model": "big-model-1", "messages": [{"role": "user", "content": "Who keeps [PERSON_1]'s lamp?"}]}),
        "outcome": "sent",
        "redacted_counts": {"person": 1},
        "tokens_in": 120,
        "tokens_out": 40,
        "cost_estimate": 0.0032,
        "latency_s": 1.25,
        "detail": "HTTP 200",
    }
    return LedgerEntry(**{**fields, **overrides})


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(default_path())


def raw(ledger: Ledger) -> closing[sqlite3.Connection]:
    """A plain connection, as any other program (or a bug of ours) could open."""
    return closing(sqlite3.connect(ledger.path, isolation_level=None))


def test_it_lives_in_the_data_folder_and_only_the_user_may_read_it(ledger, hearth_home):
    assert ledger.path == paths.data_dir() / "ledger.sqlite3"
    assert ledger.path.is_relative_to(hearth_home) and ledger.path.exists()
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o600
    with raw(ledger) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_record_and_read_back(ledger):
    before = datetime.now(timezone.utc)
    sent = entry()
    declined = entry(outcome="declined", tokens_in=0, tokens_out=0, cost_estimate=0.0, latency_s=None, detail="")
    ids = [ledger.record(sent), ledger.record(declined)]
    assert ids == sorted(ids) and len(set(ids)) == 2

    rows = ledger.rows()
    assert [r.id for r in rows] == ids
    for stored, given in zip(rows, [sent, declined], strict=True):
        assert stored.model_dump(exclude={"id", "time"}) == given.model_dump(exclude={"id", "time"})
        stamp = datetime.fromisoformat(stored.time)
        assert stamp.utcoffset() == timedelta(0) and before - timedelta(seconds=1) <= stamp <= datetime.now(timezone.utc)
    assert rows[0].payload == sent.payload  # the exact text, byte for byte

    assert [r.id for r in ledger.rows(limit=1)] == [ids[1]]  # the most recent
    assert Ledger(ledger.path).rows() == rows  # reopening keeps everything


def test_update_delete_and_replace_are_refused_by_the_database_itself(ledger):
    ledger.record(entry())
    original = ledger.rows()
    with raw(ledger) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE requests SET payload = '{}'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM requests")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(
                "INSERT OR REPLACE INTO requests (id, time, provider, model, task, payload, redacted_counts, tokens_in,"
                " tokens_out, cost_estimate, outcome, detail) VALUES (?, 't', 'p', 'm', 't', '{}', '{}', 0, 0, 0, 'sent', '')",
                (original[0].id,),
            )
    assert ledger.rows() == original


def test_recorded_entries_cannot_be_recorded_again(ledger):
    ledger.record(entry())
    with pytest.raises(ValueError, match="already"):
        ledger.record(ledger.rows()[0])
    assert len(ledger.rows()) == 1


@pytest.mark.parametrize(
    "field",
    [
        {"payload": json.dumps({"headers": {"Authorization": f"Bearer {KEY}"}})},
        {"detail": f"HTTP 401 for key {KEY}"},
        {"redacted_counts": {KEY: 1}},
    ],
    ids=["payload", "detail", "redacted_counts"],
)
def test_an_entry_holding_the_key_is_refused(ledger, field):
    with pytest.raises(SecretInEntry) as caught:
        ledger.record(entry(**field), secret=KEY)
    assert KEY not in str(caught.value)
    assert ledger.rows() == []


def test_the_key_is_found_even_escaped_inside_json(ledger):
    odd_key = 'sk-"quoted"/é'
    with pytest.raises(SecretInEntry):
        ledger.record(entry(payload=json.dumps({"key": odd_key})), secret=odd_key)
    ledger.record(entry(), secret=KEY)  # a clean entry passes the same check
    assert len(ledger.rows()) == 1


def test_invalid_entries_are_refused():
    with pytest.raises(ValidationError):
        entry(outcome="maybe")
    with pytest.raises(ValidationError):
        entry(payload="not json")
    with pytest.raises(ValidationError):
        entry(tokens_in=-1)


def test_csv_export_has_a_header_and_one_line_per_row(ledger, tmp_path):
    for outcome in OUTCOMES:
        ledger.record(entry(outcome=outcome, detail=f"outcome {outcome}"))
    target = tmp_path / "ledger.csv"
    ledger.to_csv(target)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + len(OUTCOMES)
    records = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert list(records[0]) == ["id", "time", "provider", "model", "task", "payload", "redacted_counts", "tokens_in",
                                "tokens_out", "cost_estimate", "latency_s", "outcome", "detail"]
    assert [r["outcome"] for r in records] == list(OUTCOMES)
    assert json.loads(records[0]["payload"]) == json.loads(entry().payload)
    assert json.loads(records[0]["redacted_counts"]) == {"person": 1}

    buffer = io.StringIO()
    ledger.to_csv(buffer)
    assert buffer.getvalue() == target.read_bytes().decode("utf-8")


def test_summary_counts_outcomes_tokens_and_cost(ledger):
    assert ledger.summary() == {"requests": 0, "outcomes": dict.fromkeys(OUTCOMES, 0), "tokens_in": 0, "tokens_out": 0,
                                "cost_estimate": 0.0}
    ledger.record(entry())
    ledger.record(entry(tokens_in=10, tokens_out=5, cost_estimate=0.001))
    ledger.record(entry(outcome="declined", tokens_in=0, tokens_out=0, cost_estimate=0.0))
    summary = ledger.summary()
    assert summary["requests"] == 3
    assert summary["outcomes"] == {"sent": 2, "declined": 1, "failed-before-send": 0, "error": 0}
    assert (summary["tokens_in"], summary["tokens_out"]) == (130, 45)
    assert summary["cost_estimate"] == pytest.approx(0.0042)


def test_records_from_four_threads_all_land_with_unique_ids(ledger):
    per_thread = 25
    ids: list[int] = []

    def work(n: int) -> None:
        for i in range(per_thread):
            ids.append(ledger.record(entry(task=f"thread-{n}-{i}")))

    assert in_threads(work, 4) == []
    assert len(ids) == len(set(ids)) == 4 * per_thread
    rows = ledger.rows()
    assert sorted(r.id for r in rows) == sorted(ids)
    assert {r.task for r in rows} == {f"thread-{n}-{i}" for n in range(4) for i in range(per_thread)}


def test_a_ledger_from_a_newer_hearth_is_not_touched(ledger):
    with raw(ledger) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LedgerError, match="newer"):
        Ledger(ledger.path)
