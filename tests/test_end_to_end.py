"""The thin slice, for real: a real PDF through pypdf, real MiniLM embeddings, a real Chroma
store on disk, the real SmolLM2 GGUF through llama-cpp-python."""

import json

from app.core.ingest import ingest
from app.core.streams import drain
from app.core.tasks.ask import ask
from conftest import run_cli


def test_cli_ingest_then_ask_cites_page_two(guide_pdf, hearth_home):
    ingested = run_cli("ingest", str(guide_pdf), "--json")
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    assert report["indexed"] == 1 and report["errors"] == 0
    assert report["files"][0]["pages"] == 3 and report["files"][0]["chunks"] >= 3
    assert (hearth_home / "data" / "store" / "chroma.sqlite3").exists()

    asked = run_cli("ask", "How often must the lamp be cleaned, and with what?", "--json")
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert set(result) >= {"answer", "citations", "confidence", "route", "timings"}
    assert result["route"] == "local" and 0.0 <= result["confidence"] <= 1.0
    top = result["citations"][0]
    assert top["file"] == "keeper-manual.pdf" and top["page"] == 2
    assert "Tuesday" in top["quote"]
    assert result["answer"].strip()

    shown = run_cli("ask", "How often must the lamp be cleaned, and with what?")  # as a person reads it
    assert shown.returncode == 0, shown.stderr
    assert "\n  Quoted from:\n  [1] keeper-manual.pdf, p. 2: \"" in shown.stdout, shown.stdout

    refused = run_cli("ask", "What is the office Wi-Fi password?")  # the manual never says: a refusal
    assert refused.returncode == 0, refused.stderr
    assert "The documents don't say" in refused.stdout
    assert "Searched:\n  [1] keeper-manual.pdf, p. " in refused.stdout and "Sources:" not in refused.stdout  # what was searched, not sources


def test_streamed_pieces_add_up_to_the_answer(services, guide_pdf):
    ingest(services, [guide_pdf], "default")
    pieces = []
    result = drain(ask(services, "What does the keeper do during a storm?", "default"), pieces.append)
    assert len(pieces) > 1 and "".join(pieces).strip() == result.text
    assert result.citations[0].page == 3
    assert result.timings["tokens_out"] > 0 and result.timings["ttft_s"] > 0
