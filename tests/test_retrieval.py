"""Hybrid retrieval: the keyword (BM25) ranking beside the embedder's, fused, finds exact
identifiers; the keyword index follows the store through ingests, removals and restarts."""

from __future__ import annotations

from app.core.ingest import ingest
from app.core.retrieval import retrieve
from app.core.store import keywords
from app.core.store.keywords import keyword_terms

FLAGS = ["APPEND", "CREAT", "TRUNC", "SYNC", "DSYNC", "NONBLOCK", "CLOEXEC", "DIRECT", "NOATIME", "NOFOLLOW", "TMPFILE", "PATH"]


def _flags_manual(tmp_path):
    """Many look-alike passages about opening files; the one about ZQ_NOCTTY is phrased differently."""
    paragraphs = [f"ZQ_{flag}: when opening a file for writing, this flag changes how the open call treats the file; "
                  f"see the notes on opening files for writing safely." for flag in FLAGS]
    paragraphs.insert(7, "ZQ_NOCTTY: a terminal device named by the path will not become the process's controlling terminal.")
    path = tmp_path / "flags.md"
    path.write_text("\n\n".join(f"## Flag {n}\n\n{p}" for n, p in enumerate(paragraphs)), encoding="utf-8")
    return path


def test_keyword_terms_keep_identifiers_and_format_codes():
    terms = keyword_terms("Use os.O_RDONLY with %Y, not the files")
    assert {"os.O_RDONLY", "o_rdonly", "rdonly", "%Y", "file"} <= set(terms)
    assert "the" not in terms and "with" not in terms


def test_hybrid_retrieval_finds_an_exact_identifier_the_dense_ranking_misses(services, tmp_path):
    ingest(services, [_flags_manual(tmp_path)], "default")
    question = "When opening a file for writing, what does ZQ_NOCTTY do?"
    [vector] = services.embedder.embed([question])
    dense = services.library.query("default", vector, 4)
    assert not any("ZQ_NOCTTY" in h.text for h in dense), "premise: the embedder alone ranks the look-alikes first"
    hybrid = retrieve(services, question, "default", 4)
    assert any("ZQ_NOCTTY" in h.text for h in hybrid)
    found = next(h for h in hybrid if "ZQ_NOCTTY" in h.text)
    assert 0.0 < found.score <= 1.0 and found.file == "flags.md"  # still a cosine similarity, with its anchor


def test_the_keyword_index_follows_ingests_and_removals_and_is_reloaded_when_current(services, tmp_path, monkeypatch):
    first = tmp_path / "a.txt"
    first.write_text("The cellar key hangs on hook QX-4471 beside the boiler.", encoding="utf-8")
    second = tmp_path / "b.txt"
    second.write_text("The attic ladder folds away behind panel PV-9902.", encoding="utf-8")
    ingest(services, [first, second], "default")
    library = services.library
    assert [h.file for h in library.keyword_query("default", "QX-4471", [0.0] * 384, 5)] == ["a.txt"]

    library.remove_document("default", str(first.resolve()))
    assert library.keyword_query("default", "QX-4471", [0.0] * 384, 5) == []
    assert [h.file for h in library.keyword_query("default", "PV-9902", [0.0] * 384, 5)] == ["b.txt"]

    first.write_text("The cellar key now hangs on hook QX-4471 by the door.", encoding="utf-8")
    ingest(services, [first], "default")
    assert [h.file for h in library.keyword_query("default", "QX-4471", [0.0] * 384, 5)] == ["a.txt"]

    # A new start loads the saved index instead of rebuilding it, as long as nothing changed.
    services.close()
    builds = []
    real_build = keywords.KeywordIndex.build.__func__
    monkeypatch.setattr(keywords.KeywordIndex, "build", classmethod(lambda cls, *a: builds.append(1) or real_build(cls, *a)))
    from app.core.services import Services

    again = Services(shared={"embedder": services.embedder})
    try:
        assert [h.file for h in again.library.keyword_query("default", "PV-9902", [0.0] * 384, 5)] == ["b.txt"]
        assert builds == []
    finally:
        again.close()


def test_quoted_codes_are_keyword_terms_and_the_tokenizer_is_part_of_the_stamp(monkeypatch):
    terms = keyword_terms("Conversion 'r' converts with repr(); it's not 'R'")
    assert "'r'" in terms and "'R'" in terms and "r" not in terms

    class Record:
        path, sha256, chunks, status = "/docs/a.html", "abc", 3, "indexed"

    before = keywords.stamp([Record()])
    monkeypatch.setattr(keywords, "TOKENIZER", keywords.TOKENIZER + 1)
    assert keywords.stamp([Record()]) != before  # an index built by another tokenizer is never loaded


def test_rare_word_coverage_tells_a_foreign_question_from_a_reworded_one():
    texts = [f"The {w} option of the open call changes how the file is opened." for w in ("append", "create", "sync")]
    texts += ["The timeout option closes a connection after a number of seconds."] * 3
    index = keywords.KeywordIndex.build([str(n) for n in range(len(texts))], texts, "s")
    evidence = texts[0]
    assert index.coverage("What does the append option of open do?", evidence) > 0.9
    # "kubernetes" and "pod" are in no chunk: the rarest words of the question are missing from the evidence.
    assert index.coverage("How do I open a Kubernetes pod file?", evidence) < 0.5
    assert index.idf("kubernetes") > index.idf("append") > index.idf("file")
