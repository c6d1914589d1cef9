"""A team store: real `hearth` processes against one real `chroma run` on loopback.

Two clients ingesting overlapping folders at once store every file once, with the chunks a single
client stores; a server killed mid-ingest fails the file in flight with a clear reason, shows
nothing half-written, and the next ingest completes it. The CLI chooses the store and reports it;
the network policy lets the store's host through and nothing else."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from app.core import netpolicy
from app.core.ingest import ingest
from app.core.store.library import Library
from chroma_server import (  # noqa: F401 - fixtures
    ChromaServer, TokenGate, chroma_server, clean_chroma, free_port, on_chunk_batch, own_chroma, use_server)
from conftest import HEARTH, REPO, run_cli


def _folder(folder, names, lines=30):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / f"doc{n:02}.txt").write_text(
            "\n\n".join(f"Document {n}, paragraph {p}: the tide table for pier {n} lists {p + n} boats at dawn." for p in range(lines)),
            encoding="utf-8")
    return folder


def _client_home(tmp_path, name: str, url: str) -> dict:
    home = tmp_path / name
    home.mkdir()
    env = {**os.environ, "HEARTH_HOME": str(home)}
    assert run_cli("store", "use", "--server", url, env=env).returncode == 0
    return env


def _start_ingest(env: dict, *paths) -> subprocess.Popen:
    return subprocess.Popen([*HEARTH, "ingest", *map(str, paths), "--json"], env=env, cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _single_client_chunks(services, folders) -> dict[str, int]:
    """What one client alone stores for these folders (the embedded store, the same chunking)."""
    report = ingest(services, folders, "default")
    assert not report.failed
    return {str(Path(f.path).resolve()): f.chunks for f in report.files}


def test_two_clients_ingesting_overlapping_folders_store_every_file_once(clean_chroma, services, tmp_path):
    shared = _folder(tmp_path / "docs" / "shared", range(0, 8))
    only_a = _folder(tmp_path / "docs" / "a", range(8, 11))
    only_b = _folder(tmp_path / "docs" / "b", range(11, 14))
    expected = _single_client_chunks(services, [shared, only_a, only_b])
    services.close()

    env_a, env_b = _client_home(tmp_path, "client-a", clean_chroma.url), _client_home(tmp_path, "client-b", clean_chroma.url)
    # Both begin with the shared folder, so they meet on the same files at the same time.
    a, b = _start_ingest(env_a, shared, only_a), _start_ingest(env_b, shared, only_b)
    out_a, err_a = a.communicate(timeout=900)
    out_b, err_b = b.communicate(timeout=900)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    statuses = [f["status"] for f in json.loads(out_a)["files"] + json.loads(out_b)["files"]]
    assert set(statuses) <= {"indexed", "unchanged"} and len(statuses) == 22

    listed_a = json.loads(run_cli("documents", "--json", env=env_a).stdout)
    listed_b = json.loads(run_cli("documents", "--json", env=env_b).stdout)
    assert listed_a == listed_b, "both clients list the same documents with the same status"
    assert sorted(d["path"] for d in listed_a) == sorted(expected), "every file exactly once"
    assert {d["path"]: d["chunks"] for d in listed_a} == expected
    assert {d["status"] for d in listed_a} == {"indexed"}

    with Library(clean_chroma.url) as library:
        key = library.collection("default").key
        assert library.vectors.chunk_counts(key) == expected, "chunks stored once each, as many as one client stores"
        assert library.check_consistency() == []

    # Three shared files change; both clients meet them again: each replaces its chunks once.
    for n in range(3):
        (shared / f"doc{n:02}.txt").write_text(f"Document {n} was rewritten: pier {n} is closed for the winter.\n\n" * 40)
    changed = _single_client_chunks(services, [shared, only_a, only_b])
    services.close()
    a, b = _start_ingest(env_a, shared, only_a), _start_ingest(env_b, shared, only_b)
    for client in (a, b):
        err = client.communicate(timeout=900)[1]
        assert client.returncode == 0, err
    with Library(clean_chroma.url) as library:
        assert library.vectors.chunk_counts(key) == changed != expected, "the old chunks are gone, the new ones stored once"
        assert {d.path: d.chunks for d in library.documents("default")} == changed
        assert library.check_consistency() == []


def test_a_server_killed_mid_ingest_fails_the_file_clearly_and_the_next_ingest_completes_it(own_chroma, services, tmp_path):
    folder = _folder(tmp_path / "many", range(24), lines=60)
    expected = _single_client_chunks(services, [folder])
    services.close()
    env = _client_home(tmp_path, "client", own_chroma.url)

    client = _start_ingest(env, folder)
    done = 0
    while done < 3:  # a few files stored, then the server dies under the next ones
        line = client.stderr.readline()
        assert line, "the ingest ended before the server was killed"
        done += "] indexed:" in line
    own_chroma.kill()
    out, err = client.communicate(timeout=600)
    assert client.returncode == 1
    report = json.loads(out)
    failed = [f for f in report["files"] if f["status"] == "error"]
    assert failed, "the files after the kill failed"
    assert all(f"store server at {own_chroma.url} cannot be reached" in f["error"] for f in failed), failed

    own_chroma.start()  # the same path and port
    with Library(own_chroma.url) as library:  # opening recovers what the dead client left pending
        indexed = {d.path for d in library.documents("default") if d.status == "indexed"}
        assert library.check_consistency() == [], "nothing half-written is left"
        hits_from = {h.path for h in library.query("default", _any_vector(library), 50)}
        assert hits_from and hits_from <= indexed, "queries show only whole documents"

    again = subprocess.run([*HEARTH, "ingest", str(folder), "--json"], env=env, cwd=REPO, text=True, capture_output=True, timeout=900)
    assert again.returncode == 0, again.stderr
    listed = json.loads(run_cli("documents", "--json", env=env).stdout)
    assert {d["path"]: (d["status"], d["chunks"]) for d in listed} == {p: ("indexed", n) for p, n in expected.items()}
    with Library(own_chroma.url) as library:
        assert library.vectors.chunk_counts(library.collection("default").key) == expected
        assert library.check_consistency() == []


def test_a_server_lost_between_two_batches_hides_the_part_and_the_next_ingest_completes_it(own_chroma, shared_embedder, shared_engine,
                                                                                          tmp_path, monkeypatch):
    from app.core.services import Services

    use_server(own_chroma.url)
    services = Services(shared={"embedder": shared_embedder, "engine": shared_engine})
    try:
        services.library.vectors.max_batch = 4  # the document needs many batches
        kept, long = _folder(tmp_path / "kept", [1], lines=2), _folder(tmp_path / "long", [2], lines=200)
        ingest(services, [kept], "default")
        on_chunk_batch(monkeypatch, 3, own_chroma.kill)  # the server dies with two batches of the document stored
        [lost] = ingest(services, [long], "default").files
        monkeypatch.undo()
        assert lost.status == "error" and f"store server at {own_chroma.url} cannot be reached" in lost.error, lost.error

        own_chroma.start()
        library, path = services.library, str((long / "doc02.txt").resolve())
        assert library.document("default", path).status == "pending"
        assert library.vectors.chunk_counts(library.collection("default").key)[path] == 8, "two batches were stored"
        [vector] = shared_embedder.embed(["the tide table for pier 2"])
        assert {h.file for h in library.query("default", vector, 20)} == {"doc01.txt"}, "the part stays hidden"
        assert {h.file for h in library.keyword_query("default", "pier 2 tide table", vector, 20)} == {"doc01.txt"}

        [done] = ingest(services, [long], "default").files
        assert done.status == "indexed" and library.document("default", path).status == "indexed"
        assert library.vectors.chunk_counts(library.collection("default").key)[path] == done.chunks > 8
        assert library.check_consistency() == []
        assert "doc02.txt" in {h.file for h in library.query("default", vector, 20)}
    finally:
        services.close()


def _any_vector(library: Library) -> list[float]:
    """A stored chunk's own vector: a query that finds chunks without loading the embedder."""
    col = library.vectors._collection(library.collection("default").key)
    got = col.get(limit=1, include=["embeddings"])
    return list(got["embeddings"][0]) if len(got["ids"]) else [1.0]


def test_the_cli_chooses_the_store_and_reports_it(clean_chroma, tmp_path):
    env = {**os.environ, "HEARTH_HOME": str(tmp_path / "home")}
    dead = f"http://127.0.0.1:{free_port()}"
    refused = run_cli("store", "use", "--server", dead, env=env)
    assert refused.returncode == 1 and f"store server at {dead} cannot be reached" in refused.stderr
    assert json.loads(run_cli("store", "status", "--json", env=env).stdout)["kind"] == "embedded", "settings unchanged"

    assert run_cli("store", "use", "--server", clean_chroma.url, env=env).returncode == 0
    note = tmp_path / "n.txt"
    note.write_text("The pier light is green.")
    assert run_cli("ingest", str(note), env=env).returncode == 0
    status = json.loads(run_cli("store", "status", "--json", env=env).stdout)
    assert status | {"version": None} == {"kind": "server", "location": clean_chroma.url, "token_stored": False, "reachable": True,
                                         "version": None, "reason": None, "documents": {"indexed": 1}}

    assert run_cli("store", "use", "--embedded", env=env).returncode == 0
    assert json.loads(run_cli("documents", "--json", env=env).stdout) == [], "the embedded store never had it"
    bad = run_cli("store", "use", "--server", "ftp://x", env=env)
    assert bad.returncode != 0 and "http://HOST:PORT" in bad.stderr


def test_a_server_that_wants_a_token_gets_it_from_the_keyring_and_the_settings_file_never_holds_it(clean_chroma, tmp_path, monkeypatch):
    from app.core import paths
    from app.core.store import server

    gate = TokenGate(clean_chroma.port, "team-secret-123")
    env = {**os.environ, "HEARTH_HOME": str(tmp_path / "home")}
    try:
        without = run_cli("store", "use", "--server", gate.url, env=env)
        assert without.returncode == 1 and f"store server at {gate.url} refused Hearth" in without.stderr, without.stderr
        wrong = run_cli("store", "use", "--server", gate.url, "--token-stdin", env=env, input="guess\n")
        assert wrong.returncode == 1 and "--token-stdin" in wrong.stderr
        done = run_cli("store", "use", "--server", gate.url, "--token-stdin", env=env, input="team-secret-123\n")
        assert done.returncode == 0, done.stderr

        note = tmp_path / "n.txt"
        note.write_text("The pier light is green.")
        assert run_cli("ingest", str(note), env=env).returncode == 0, "every request of a client bears the token"
        status = json.loads(run_cli("store", "status", "--json", env=env).stdout)
        assert status["token_stored"] and status["reachable"] and status["documents"] == {"indexed": 1}
        assert gate.seen[-1] == "Bearer team-secret-123"

        monkeypatch.setenv("HEARTH_HOME", env["HEARTH_HOME"])  # this process reads the same keyring and settings
        assert "team-secret-123" not in paths.settings_file().read_text()
        assert server.get_token(gate.url) == "team-secret-123"
        assert server.forget_token(gate.url)
        refused = json.loads(run_cli("store", "status", "--json", env=env).stdout)
        assert not refused["reachable"] and "refused Hearth" in refused["reason"]
    finally:
        gate.close()


def _outside_address() -> str | None:
    """This machine's IPv4 address on a non-loopback interface, if it has one."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    return next((line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3), None)


def test_the_network_policy_lets_through_the_store_host_and_nothing_else(tmp_path):
    address = _outside_address()
    if address is None:
        pytest.skip("no non-loopback interface to serve on")
    server = ChromaServer(tmp_path / "db", host="0.0.0.0").start()
    url = f"http://{address}:{server.port}"
    try:
        with pytest.raises(netpolicy.NetworkBlocked, match=address):
            socket.create_connection((address, server.port), timeout=5)
        netpolicy.allow_store(url)
        assert f"{address} (team store)" in netpolicy.describe()
        with Library(url) as library:
            assert library.collection("default").name == "default"
        with pytest.raises(netpolicy.NetworkBlocked, match="192.0.2.77"):
            socket.create_connection(("192.0.2.77", server.port), timeout=5)
        with pytest.raises(netpolicy.NetworkBlocked, match="example.com"):
            socket.getaddrinfo("example.com", 443)
    finally:
        netpolicy.allow_store("")
        server.stop()
    with pytest.raises(netpolicy.NetworkBlocked, match=address):
        socket.create_connection((address, server.port), timeout=5)
