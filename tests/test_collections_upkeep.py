"""Collections through the CLI and folder watching (changed files, removal and repair against
both stores: test_store_contract.py)."""

import json
import threading
import time

import pytest

from app.core.maintenance import watch
from app.core.store.library import CollectionError
from conftest import run_cli, write_pdf


def test_collection_lifecycle_through_the_cli(tmp_path, guide_pdf):
    assert run_cli("collections", "create", "manuals").returncode == 0
    assert run_cli("ingest", str(guide_pdf), "--collection", "manuals").returncode == 0
    assert run_cli("collections", "rename", "manuals", "handbooks").returncode == 0
    rows = json.loads(run_cli("collections", "--json").stdout)
    assert {"name": "handbooks", "documents": 1, "folder": None} in rows
    asked = json.loads(run_cli("ask", "When is the lamp cleaned?", "--collection", "handbooks", "--json").stdout)
    assert asked["citations"][0]["page"] == 2, "vectors follow the renamed collection"
    assert run_cli("collections", "delete", "handbooks").returncode == 0
    gone = run_cli("ask", "When is the lamp cleaned?", "--collection", "handbooks")
    assert gone.returncode == 1 and "handbooks" in gone.stderr


def test_collection_names_are_checked(services):
    with pytest.raises(CollectionError):
        services.library.create_collection("a/b")
    services.library.create_collection("x")
    with pytest.raises(CollectionError, match="already exists"):
        services.library.create_collection("x")


# A changed file, removal and repair: tests/test_store_contract.py, against both stores.


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_followed_folder_picks_up_new_changed_and_deleted_files(services, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    write_pdf(folder / "before.pdf", ["Present before the watcher started."])
    services.library.follow_folder("inbox", folder)
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(services, stop), daemon=True)
    thread.start()
    try:
        status = lambda name: {r.name: r.status for r in services.library.documents("inbox")}.get(name)  # noqa: E731
        assert _wait(lambda: status("before.pdf") == "indexed"), "the start-up rescan catches up"
        new = folder / "new.md"
        new.write_text("# Fresh\nA note dropped in while watching.")
        assert _wait(lambda: status("new.md") == "indexed")
        new.unlink()
        assert _wait(lambda: status("new.md") is None)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
