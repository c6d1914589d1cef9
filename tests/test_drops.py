"""The sorting every drop target and a second launch share (app.core.drops), on real files, and the
single-instance messages (app.core.instance): what goes on, what is offered, what is refused and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import instance
from app.core.drops import MISSING, NOT_LOCAL, sort_dropped


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    made = {}
    for name, data in {"notes.txt": b"harbour lamp", "Report.PDF": b"%PDF-1.4", "model.GGUF": b"GGUF", "tool.exe": b"MZ",
                       "package-lock.json": b"{}"}.items():
        made[name] = tmp_path / name
        made[name].write_bytes(data)
    (tmp_path / "folder").mkdir()
    made["folder"] = tmp_path / "folder"
    (made["folder"] / "inner.md").write_text("# Inner")
    (made["folder"] / "skip.bin").write_bytes(b"\0")
    return made


def test_documents_models_refused_and_missing_are_told_apart(files, tmp_path):
    drop = sort_dropped([files["notes.txt"], files["Report.PDF"], files["model.GGUF"], files["tool.exe"], files["folder"],
                         files["package-lock.json"], tmp_path / "gone.docx", "https://example.com/a.pdf"])
    assert drop.documents == [files["notes.txt"], files["Report.PDF"], files["folder"]]
    assert drop.models == [files["model.GGUF"]]  # the suffix in any case
    assert drop.missing == [str(tmp_path / "gone.docx")]
    refused = dict(drop.refused)
    assert refused[str(files["tool.exe"])] == "unsupported file type .exe"
    assert refused[str(files["package-lock.json"])] == "skipped: an npm lock file, not prose"  # as ingest says it
    assert refused["https://example.com/a.pdf"] == NOT_LOCAL
    problems = drop.problems()
    assert len(problems) == 4 and f"{tmp_path / 'gone.docx'}: {MISSING}" in problems
    assert all(": " in line for line in problems)


def test_folders_are_walked_for_tasks_and_duplicates_and_empty_items_dropped(files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    drop = sort_dropped(["notes.txt", str(files["notes.txt"]), "", files["folder"]])  # relative to the working folder
    assert drop.documents == [files["notes.txt"], files["folder"]] and not drop.problems()
    assert drop.files() == [tmp_path / "notes.txt", files["folder"] / "inner.md"]
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert sort_dropped(["notes.txt"], cwd=other).missing == [str(other / "notes.txt")]


def test_instance_messages_resolve_paths_and_refuse_what_they_do_not_know(tmp_path):
    message = instance.open_request(["a.pdf", "/abs/b.txt", "https://x/y"], cwd=tmp_path)
    assert message["open"] == [str(tmp_path / "a.pdf"), "/abs/b.txt", "https://x/y"]
    assert instance.decode(instance.encode(message)) == message
    quick = instance.quick_request("summarize-file", "f.pdf", cwd=tmp_path)
    assert quick["option"] == str(tmp_path / "f.pdf")
    assert instance.quick_request("transform-clipboard", "bullets")["option"] == "bullets"  # options are not paths
    with pytest.raises(instance.BadRequest, match="unknown quick action"):
        instance.quick_request("make-coffee")
    for bad in (b"not json\n", b'{"protocol": 99}\n', b'{"protocol": 1, "open": "a.pdf"}\n', b'{"protocol": 1, "quick": "rm"}\n', b"\xff\n"):
        with pytest.raises(instance.BadRequest):
            instance.decode(bad)


def test_the_socket_is_named_per_data_folder(tmp_path, monkeypatch):
    first = instance.socket_name()
    monkeypatch.setenv("HEARTH_HOME", str(tmp_path / "other-home"))
    assert instance.socket_name() != first
    assert not (tmp_path / "other-home").exists()  # naming it creates nothing there
