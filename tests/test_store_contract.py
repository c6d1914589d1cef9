"""What every store keeps true, embedded or on a team's `chroma run` server: each test runs
twice, once against the store in the data folder and once against a real server on loopback
(its catalog shared on the server)."""

from __future__ import annotations

import time

import pytest

from app.core.chunking import Chunk
from app.core.ingest import ingest
from app.core.maintenance import repair
from app.core.store.catalog import DocumentRecord
from app.core.store.library import CollectionError, Library
from chroma_server import chroma_server, clean_chroma, on_chunk_batch, use_server  # noqa: F401 - fixtures


@pytest.fixture(params=["embedded", "server"])
def store(request):
    """The settings' server URL ("" for embedded) of a fresh store."""
    if request.param == "embedded":
        return ""
    server = request.getfixturevalue("clean_chroma")
    use_server(server.url)
    return server.url


@pytest.fixture
def services(store, shared_embedder, shared_engine):
    from app.core.services import Services

    s = Services(shared={"embedder": shared_embedder, "engine": shared_engine})
    assert s.settings.store.server_url == store
    yield s
    s.close()


def _notes(folder, count: int, word: str = "harbour"):
    folder.mkdir(exist_ok=True)
    for n in range(count):
        (folder / f"note{n}.txt").write_text(f"Note {n}: the {word} gate {n} opens at {n + 6} in the morning.\n\n"
                                             + "More lines about tides and boats. " * (n * 20), encoding="utf-8")
    return folder


def test_documents_are_stored_once_listed_and_unchanged_on_a_second_ingest(services, tmp_path):
    folder = _notes(tmp_path / "notes", 4)
    first = ingest(services, [folder], "default")
    assert [f.status for f in first.files] == ["indexed"] * 4
    lib = services.library
    assert lib.chunk_count("default") == sum(f.chunks for f in first.files) > 4
    assert lib.check_consistency() == []
    assert [(d.name, d.status, d.chunks) for d in lib.documents("default")] == [(f"note{n}.txt", "indexed", first.files[n].chunks) for n in range(4)]
    assert [f.status for f in ingest(services, [folder], "default").files] == ["unchanged"] * 4
    assert lib.collections()[0].documents == 4


def test_a_changed_file_replaces_its_chunks_and_remove_deletes_them(services, tmp_path):
    note = tmp_path / "vault.txt"
    note.write_text("The vault code is 4417.")
    ingest(services, [note], "default")
    note.write_text("The vault code was changed to 9902.")
    assert ingest(services, [note], "default").files[0].status == "indexed"
    [vector] = services.embedder.embed(["vault code"])
    assert [h.text for h in services.library.query("default", vector, 5)] == ["The vault code was changed to 9902."]
    assert [h.text for h in services.library.keyword_query("default", "vault code", vector, 5)] == ["The vault code was changed to 9902."]
    assert services.library.remove_document("default", str(note.resolve()))
    assert services.library.chunk_count("default") == 0 and services.library.documents("default") == []


def test_two_files_with_the_same_bytes_keep_their_own_chunks(services, tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("Identical words in two files about the lighthouse lamp.")
    report = ingest(services, [tmp_path / "a.txt", tmp_path / "b.txt"], "default")
    assert [f.status for f in report.files] == ["indexed", "indexed"]
    assert services.library.chunk_count("default") == 2 and services.library.check_consistency() == []


def test_collections_are_created_renamed_and_deleted_with_their_documents(services, tmp_path):
    lib = services.library
    lib.create_collection("manuals")
    with pytest.raises(CollectionError, match="already exists"):
        lib.create_collection("manuals")
    with pytest.raises(CollectionError):
        lib.create_collection("a/b")
    note = tmp_path / "lamp.txt"
    note.write_text("The lamp is cleaned every Tuesday with warm vinegar.")
    ingest(services, [note], "manuals")
    lib.rename_collection("manuals", "handbooks")
    [vector] = services.embedder.embed(["When is the lamp cleaned?"])
    assert [h.file for h in lib.query("handbooks", vector, 3)] == ["lamp.txt"], "vectors follow the renamed collection"
    assert [d.name for d in lib.documents("handbooks")] == ["lamp.txt"]
    assert lib.create_collection("manuals").key != lib.collection("handbooks").key, "a new collection under the old name is empty"
    assert lib.chunk_count("manuals") == 0
    lib.delete_collection("handbooks")
    assert "handbooks" not in [c.name for c in lib.collections()] and lib.chunk_count("manuals") == 0
    with pytest.raises(CollectionError, match="handbooks"):
        lib.query("handbooks", vector, 3)


def test_a_failure_is_recorded_with_its_reason_and_not_parsed_again(services, tmp_path):
    broken = tmp_path / "photo.pdf"
    broken.write_bytes(bytes(range(256)) * 40)
    [first] = ingest(services, [broken], "default").files
    [again] = ingest(services, [broken], "default").files
    assert first.status == again.status == "error" and first.error and again.known
    [record] = services.library.documents("default")
    assert (record.status, record.error, len(record.sha256)) == ("error", first.error, 64)


def test_a_failed_write_between_two_batches_leaves_no_part_of_the_file(services, tmp_path, monkeypatch):
    services.library.vectors.max_batch = 4  # the real limit is 5461; a small one keeps the test quick
    notes = tmp_path / "long.txt"
    notes.write_text("\n\n".join(f"Entry {n}: the harbour log notes tide {n} and a clear sky." for n in range(120)))

    def disk_full():
        raise OSError(28, "No space left on device")

    batches = on_chunk_batch(monkeypatch, 3, disk_full)
    [outcome] = ingest(services, [notes], "default").files
    assert len(batches) == 3, "the file needed several batches and the third one failed"
    assert outcome.status == "error" and "No space left" in outcome.error
    assert services.library.chunk_count("default") == 0  # the first two batches were taken back
    assert services.library.document("default", str(notes.resolve())).status == "error"


def _write_pending(lib: Library, path: str, text: str, embedding: list[float]) -> None:
    """A document caught mid-write: its chunks stored, its record still pending (as a crash leaves it)."""
    key = lib.collection("default", create=True).key
    record = DocumentRecord("default", path, path.rsplit("/", 1)[-1], "f" * 64, 1, 0.0, "pending", None, 1, 1, 0.0, time.time())
    lib.catalog.put(record)
    lib.vectors.replace_document(key, path, [Chunk(text, None, 1, 1, 0, len(text), 0)], [embedding], "f" * 16)


def test_a_pending_document_is_hidden_from_queries_and_recovered_at_the_next_open(services, store, tmp_path):
    note = tmp_path / "kept.txt"
    note.write_text("The ferry leaves the harbour at nine.")
    ingest(services, [note], "default")
    lib = services.library
    half = "The ferry timetable draft, half written."
    _write_pending(lib, "/gone/draft.txt", half, services.embedder.embed([half])[0])
    [vector] = services.embedder.embed(["When does the ferry leave?"])
    assert [h.file for h in lib.query("default", vector, 5)] == ["kept.txt"]
    assert [h.file for h in lib.keyword_query("default", "ferry timetable draft", vector, 5)] == ["kept.txt"]
    services.close()

    with Library(store) as reopened:
        assert reopened.recovered == ["/gone/draft.txt"]
        draft = reopened.document("default", "/gone/draft.txt")
        assert draft.status == "interrupted" and reopened.check_consistency() == []
        assert reopened.chunk_count("default") == 1


def test_repair_rebuilds_lost_vectors_from_the_sources(services, guide_pdf):
    ingest(services, [guide_pdf], "default")
    lib = services.library
    lib.vectors.drop(lib.collection("default").key)
    assert lib.check_consistency() != []
    assert repair(services)["default"].count("indexed") == 1
    assert lib.check_consistency() == []
