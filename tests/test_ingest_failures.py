"""Files of any size are stored whole or not at all; a failed file is not parsed again until it
changes or the user asks; machine-generated files are skipped with a reason."""

from __future__ import annotations

import pytest

from app.core.ingest import ingest
from conftest import run_cli


def _long_notes(path, paragraphs: int, word: str = "harbour"):
    text = "\n\n".join(f"Entry {n}: the {word} log notes tide {n}, wind {n % 7} knots and a clear sky over the pier." for n in range(paragraphs))
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_with_more_chunks_than_one_store_batch_is_stored_whole(services, tmp_path):
    services.library.vectors.max_batch = 4  # the real limit is 5461; a small one keeps the test quick
    notes = _long_notes(tmp_path / "notes.txt", 120)
    [outcome] = ingest(services, [notes], "default").files
    assert outcome.status == "indexed" and outcome.chunks > 3 * 4
    assert services.library.chunk_count("default") == outcome.chunks
    assert services.library.check_consistency() == []


# A failed write between two batches: tests/test_store_contract.py, against both stores.


def test_a_failed_file_is_not_parsed_again_until_it_changes_or_is_retried(services, tmp_path, monkeypatch):
    broken = tmp_path / "photo.pdf"
    broken.write_bytes(bytes(range(256)) * 40)
    submitted = []
    real_submit = services.parser.submit
    monkeypatch.setattr(services.parser, "submit", lambda path, password=None: (submitted.append(path.name), real_submit(path, password)))

    [first] = ingest(services, [broken], "default").files
    [again] = ingest(services, [broken], "default").files
    assert first.status == again.status == "error" and again.error == first.error
    assert not first.known and again.known
    assert submitted == ["photo.pdf"], "the unchanged failed file was not parsed a second time"
    assert services.library.document("default", str(broken.resolve())).error == first.error  # still listed

    [retried] = ingest(services, [broken], "default", retry_failed=True).files
    assert retried.status == "error" and not retried.known and submitted == ["photo.pdf"] * 2

    broken.write_bytes(bytes(range(255, -1, -1)) * 40)  # changed: tried again without being asked
    [changed] = ingest(services, [broken], "default").files
    assert not changed.known and submitted == ["photo.pdf"] * 3


def test_the_cli_reports_a_known_failure_and_retries_it_when_asked(tmp_path):
    broken = tmp_path / "photo.pdf"
    broken.write_bytes(bytes(range(256)) * 40)
    first = run_cli("ingest", str(broken), "--json")
    again = run_cli("ingest", str(broken))
    retried = run_cli("ingest", str(broken), "--retry-failed")
    assert first.returncode == again.returncode == retried.returncode == 1
    assert "not tried again" in again.stderr and "--retry-failed" in again.stderr
    assert "not tried again" not in retried.stderr and "error" in retried.stderr


@pytest.mark.parametrize("name, content, reason", [
    ("searchindex.js", 'Search.setIndex({"docnames": ["about", "bugs"], "terms": {"a": [0, 1]}})', "search index"),
    ("package-lock.json", '{"name": "site", "lockfileVersion": 3, "packages": {}}', "lock file"),
    ("vendor.min.js", "var a=1;", "minified"),
    ("app.js", "!function(e){" + "var t=e.x+1;" * 800 + "}(window);", "minified or generated code"),
])
def test_machine_generated_files_are_skipped_with_a_reason(services, tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    report = ingest(services, [path], "default")
    [outcome] = report.files
    assert outcome.status == "skipped" and reason in outcome.error
    assert not report.failed and services.library.chunk_count("default") == 0


def test_hand_written_code_is_still_indexed(services, tmp_path):
    path = tmp_path / "app.js"
    path.write_text("\n".join(f"function step{n}(x) {{\n  return x + {n};\n}}\n" for n in range(50)), encoding="utf-8")
    [outcome] = ingest(services, [path], "default").files
    assert outcome.status == "indexed"
