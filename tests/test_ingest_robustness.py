"""Ingestion survives any file, any crash and a full disk, and keeps the store consistent."""

import json
import os
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

from app.core.documents import DocumentError
from app.core.ingest import ingest
from app.core.isolation import ParserProcess
from app.core.services import Services
from app.core.store.library import Library
from conftest import HEARTH, REPO, run_cli, write_pdf

CORPUS = REPO.parent / "shared" / "corpus" / "pdf"


def _store_is_consistent(library) -> None:
    assert library.check_consistency() == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared PDF corpus is not beside this checkout")
def test_the_whole_broken_pdf_corpus_in_one_batch(services):
    files = sorted(CORPUS.glob("*.pdf"))
    assert len(files) > 150
    started = time.monotonic()
    report = ingest(services, files, "corpus")
    assert time.monotonic() - started < 1200, "the batch must finish in bounded time"
    assert len(report.files) == len(files)
    statuses = {f.status for f in report.files}
    assert statuses <= {"indexed", "needs password", "error"}
    for f in report.files:
        if f.status != "indexed":
            assert f.error and "\n" not in f.error and len(f.error) < 400, f
    counts = {s: report.count(s) for s in statuses}
    assert counts["indexed"] >= 100 and counts["needs password"] >= 10 and counts["error"] >= 20, counts
    _store_is_consistent(services.library)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared PDF corpus is not beside this checkout")
def test_encrypted_pdfs_open_with_the_right_password_only(tmp_path):
    pdf = CORPUS / "pypdf__encryption__r6-both-passwords.pdf"
    right, wrong = tmp_path / "right.txt", tmp_path / "wrong.txt"
    right.write_text("foo\n")
    wrong.write_text("nope\n")
    without = json.loads(run_cli("ingest", str(pdf), "--json").stdout)["files"][0]
    assert without["status"] == "needs password" and "password" in without["error"]
    bad = json.loads(run_cli("ingest", str(pdf), "--password-file", str(wrong), "--json").stdout)["files"][0]
    assert bad["status"] == "needs password" and bad["error"] == "wrong password"
    good = run_cli("ingest", str(pdf), "--password-file", str(right), "--json")
    assert good.returncode == 0 and json.loads(good.stdout)["files"][0]["status"] == "indexed"


def test_a_2000_page_pdf_parses_and_a_time_limit_stops_a_slow_parse(tmp_path):
    big = write_pdf(tmp_path / "big.pdf", [f"Page {n} of the long ledger: entry {n * 7}." for n in range(1, 2001)])
    parser = ParserProcess()
    try:
        doc = parser.parse(big)
        assert doc.pages == 2000 and doc.sections[-1].page == 2000 and "entry 14000" in doc.sections[-1].text
        parser.timeout_s = 0.3
        with pytest.raises(DocumentError, match="longer than"):
            parser.parse(big)
        parser.timeout_s = 120
        assert parser.parse(big).pages == 2000, "a fresh child replaces the killed one"
    finally:
        parser.close()


def _flate_bomb(path: Path, megabytes: int) -> Path:
    squeeze = zlib.compressobj(9)
    block = b"0 0 m\n" * (1 << 17)
    body = b"".join(squeeze.compress(block) for _ in range(megabytes * (1 << 20) // len(block))) + squeeze.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def test_a_decompression_bomb_is_reported_not_obeyed(tmp_path, guide_pdf):
    bomb = _flate_bomb(tmp_path / "bomb.pdf", 1024)  # 1 GiB of content in about a megabyte
    assert bomb.stat().st_size < 8 << 20
    parser = ParserProcess(memory_bytes=768 << 20)  # the child could never hold the inflated stream
    try:
        with pytest.raises(DocumentError):
            parser.parse(bomb)
        assert parser.parse(guide_pdf).pages == 3, "the parser goes on with the next file"
    finally:
        parser.close()


def test_a_file_deleted_between_listing_and_reading(services, tmp_path, guide_pdf):
    folder = tmp_path / "docs"
    folder.mkdir()
    first = write_pdf(folder / "a.pdf", ["First file about owls."])
    doomed = write_pdf(folder / "b.pdf", ["Second file about bats."])
    (folder / "c.txt").write_text("Third file about moths.")

    def delete_b(progress):
        if progress.outcome is None and progress.file == str(first):
            doomed.unlink()

    report = ingest(services, [folder], "default", progress=delete_b)
    status = {Path(f.path).name: (f.status, f.error) for f in report.files}
    assert status["a.pdf"][0] == "indexed" and status["c.txt"][0] == "indexed"
    assert status["b.pdf"] == ("error", "file not found (moved or deleted)")
    _store_is_consistent(services.library)


def test_a_read_only_source_folder_is_read_and_never_written(services, tmp_path, guide_pdf):
    folder = tmp_path / "ro"
    folder.mkdir()
    write_pdf(folder / "ro.pdf", ["A read-only folder still gets indexed."])
    before = sorted(folder.iterdir())
    folder.chmod(0o555)
    try:
        report = ingest(services, [folder], "default")
    finally:
        folder.chmod(0o755)
    assert report.files[0].status == "indexed"
    assert sorted(folder.iterdir()) == before


def _mount_tiny_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True).returncode == 0


def test_a_full_disk_fails_the_file_not_the_store(tmp_path, monkeypatch, shared_embedder, guide_pdf):
    disk = tmp_path / "tiny"
    mounted = _mount_tiny_tmpfs(disk, "3m")
    home = disk if mounted else tmp_path / "home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    services = Services(shared={"embedder": shared_embedder})
    try:
        assert ingest(services, [guide_pdf], "default").files[0].status == "indexed"
        huge = tmp_path / "huge.txt"
        huge.write_text("\n".join(f"Line {n}: a long and varied sentence about item {n} and its storage." for n in range(40_000)))
        if not mounted:  # no tmpfs here: fail the write at the store boundary instead
            def full(*_a, **_k):
                raise OSError(28, "No space left on device")

            monkeypatch.setattr(services.library.vectors, "replace_document", full)
        report = ingest(services, [huge], "default")
        assert report.files[0].status == "error"
        assert "space" in report.files[0].error.lower() or "full" in report.files[0].error.lower(), report.files[0].error
        [vector] = shared_embedder.embed(["How often is the lamp cleaned?"])
        assert services.library.query("default", vector, 1)[0].page == 2, "earlier documents stay answerable"
    finally:
        services.close()
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], check=False)
    if not mounted:
        with Library() as library:
            _store_is_consistent(library)


def test_a_second_process_is_told_the_data_folder_is_in_use(services):
    services.library  # this process now owns the data folder
    out = run_cli("documents")
    assert out.returncode == 1 and "another Hearth process" in out.stderr and str(os.getpid()) in out.stderr


KILL_POINTS = [1, 3, 6]


@pytest.mark.parametrize("after_lines", KILL_POINTS)
def test_killed_mid_ingest_leaves_a_consistent_store(tmp_path, after_lines, shared_embedder):
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(12):
        (folder / f"doc{n:02}.txt").write_text("\n".join(f"Document {n} line {k}: notes on topic {n * 100 + k}." for k in range(300)))
    proc = subprocess.Popen([*HEARTH, "ingest", str(folder)], cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for _ in range(after_lines):
        if not proc.stderr.readline():
            break
    proc.kill()
    proc.wait()
    proc.stderr.close()
    services = Services(shared={"embedder": shared_embedder})
    try:
        library = services.library
        _store_is_consistent(library)
        statuses = {r.status for r in library.documents("default")}
        assert "pending" not in statuses
        for path in library.recovered:
            assert library.document("default", path).status == "interrupted"
        report = ingest(services, [folder], "default")
        assert {f.status for f in report.files} <= {"indexed", "unchanged"} and len(report.files) == 12
        _store_is_consistent(library)
    finally:
        services.close()
