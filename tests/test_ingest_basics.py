import json

from app.core.ingest import ingest
from conftest import run_cli


def test_text_and_markdown_chunks_keep_line_numbers(services, tmp_path):
    notes = tmp_path / "notes.md"
    lines = [f"line {n}: filler about gardening and soil." for n in range(1, 120)]
    lines[89] = "line 90: the spare key is under the blue flowerpot."
    notes.write_text("\n".join(lines), encoding="utf-8")
    report = ingest(services, [notes], "default")
    assert report.files[0].status == "indexed"
    [vector] = services.embedder.embed(["where is the spare key?"])
    hit = services.library.query("default", vector, 1)[0]
    assert hit.line_start <= 90 <= hit.line_end and "flowerpot" in hit.text


def test_bad_files_get_a_reason_and_the_batch_goes_on(services, tmp_path, guide_pdf):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.pdf"
    binary.write_bytes(bytes(range(256)) * 40)
    unknown = tmp_path / "archive.xyz"
    unknown.write_bytes(b"data")
    report = ingest(services, [empty, binary, guide_pdf, unknown, tmp_path / "gone.pdf"], "default")
    by_name = {f.path.rsplit("/", 1)[-1]: f for f in report.files}
    assert by_name["keeper-manual.pdf"].status == "indexed"
    assert by_name["empty.pdf"].status == "error" and "empty" in by_name["empty.pdf"].error
    assert by_name["photo.pdf"].status == "error" and "PDF" in by_name["photo.pdf"].error
    assert by_name["archive.xyz"].status == "skipped" and ".xyz" in by_name["archive.xyz"].error
    assert by_name["gone.pdf"].status == "error" and "not found" in by_name["gone.pdf"].error
    assert services.library.chunk_count("default") == by_name["keeper-manual.pdf"].chunks


def test_reingesting_an_unchanged_file_only_checks_its_hash(services, guide_pdf):
    first = ingest(services, [guide_pdf], "default")
    second = ingest(services, [guide_pdf], "default")
    assert first.files[0].status == "indexed" and second.files[0].status == "unchanged"
    assert services.library.chunk_count("default") == first.files[0].chunks


def test_cli_exit_codes(tmp_path, guide_pdf):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    mixed = run_cli("ingest", str(guide_pdf), str(bad), "--json")
    assert mixed.returncode == 1
    data = json.loads(mixed.stdout)
    assert data["indexed"] == 1 and data["errors"] == 1
    assert run_cli("ingest").returncode == 2


def test_asking_an_empty_collection_is_one_clear_line():
    out = run_cli("ask", "anything?", "--collection", "nothing-here")
    assert out.returncode == 1 and "nothing-here" in out.stderr and "Traceback" not in out.stderr


def test_an_abandoned_batch_leaves_the_parser_ready_for_the_next(services, tmp_path, guide_pdf):
    from app.core.ingest import ingest_iter

    files = [guide_pdf, tmp_path / "x.txt", guide_pdf]
    files[1].write_text("a short note")
    stream = ingest_iter(services, files, "default")
    next(stream)  # the first file has started; the user cancels
    stream.close()
    assert ingest(services, [guide_pdf], "default").files[0].status == "indexed"
