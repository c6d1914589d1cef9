"""Structure survives into the chunks: a table row keeps its header, a definition term its
definition, a code block its indentation; site navigation and PDF running heads and feet are dropped."""

from __future__ import annotations

import pytest

from app.core.documents import Unsupported, parse
from app.core.ingest import ingest
from pdfgen import write_pdf

CODES = [(f"%{letter}", f"Field {letter} of the record, written as {n} padded digits.") for n, letter in enumerate("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN", start=1)]


def _table_page(path):
    rows = "\n".join(f"<tr><td><p><code>{code}</code></p></td>\n<td><p>{meaning}</p></td></tr>" for code, meaning in CODES)
    path.write_text(f"""<html><head><title>Codes</title></head><body>
<div class="related" role="navigation"><ul><li><a href="index.html">index</a></li><li>next page</li></ul></div>
<h1>Format codes<a class="headerlink" href="#codes">¶</a></h1>
<p>The following table lists every code the formatter accepts.</p>
<table><thead><tr><th><p>Directive</p></th><th><p>Meaning</p></th></tr></thead>
<tbody>
{rows}
</tbody></table>
<div class="footer">© Copyright the authors. Last updated on a Tuesday.</div>
</body></html>""", encoding="utf-8")
    return path


def test_a_table_row_keeps_its_header_in_its_chunk(services, tmp_path):
    page = _table_page(tmp_path / "codes.html")
    report = ingest(services, [page], "default")
    assert report.files[0].status == "indexed" and report.files[0].chunks > 2
    [vector] = services.embedder.embed(["What does the %K directive mean?"])
    chunks = services.library.query("default", vector, 50)
    wanted = "Directive: %K; Meaning: Field K of the record, written as 37 padded digits."
    assert any(wanted in c.text for c in chunks), "the row, with its header's names, is whole in one chunk"
    for chunk in chunks:  # no chunk starts or ends inside a row
        for line in filter(str.strip, chunk.text.split("\n")):
            assert line.startswith(("Directive", "Format codes", "The following", "Codes")), line
    text = "\n".join(c.text for c in chunks)
    assert "¶" not in text and "next page" not in text and "Copyright" not in text


def test_a_definition_term_stays_with_its_definition(tmp_path):
    entries = "\n".join(
        f'<dl class="py function"><dt id="m.f{n}"><span class="sig-name">m.f{n}</span>(<em>x</em>, <em>limit={n}</em>)'
        f'<a class="headerlink" href="#m.f{n}">¶</a></dt>\n<dd><p>Return what f{n} computes. ' + "It reads the input carefully. " * (n % 9 + 3)
        + "</p>\n<p>Raises ValueError on bad input.</p></dd></dl>" for n in range(40))
    page = tmp_path / "api.html"
    page.write_text(f"<html><body><h1>API</h1>\n{entries}\n</body></html>", encoding="utf-8")
    doc = parse(page)
    for n in range(40):
        [section] = [s for s in doc.sections if f"m.f{n}(x, limit={n})" in s.text]
        assert f"Return what f{n} computes." in section.text, f"m.f{n}'s signature was cut off from its description"
    assert len(doc.sections) > 10


def test_a_code_block_keeps_its_lines_and_indentation(tmp_path):
    page = tmp_path / "code.html"
    page.write_text("<html><body><p>Example:</p>\n<pre><span></span>def area(r):\n    <span>return</span> 3.14 * r * r\n</pre>\n"
                    "<p>That is all.</p></body></html>", encoding="utf-8")
    [section] = parse(page).sections
    assert section.text == "Example:\ndef area(r):\n    return 3.14 * r * r\n\nThat is all."
    assert section.line_start == 1


def test_a_running_head_and_foot_repeated_on_pages_are_dropped(services, tmp_path):
    pages = [
        f"Brannock Keeper's Manual {n}\n"
        + f"Chapter {n}. The lamp room on floor {n} holds {n * 3} spare wicks. The keeper logs each one in the ledger.\n"
        + "The stairs are swept daily.\nThe brass is polished weekly.\nThe windows are washed after each storm.\n"
        + f"Kell Harbour Authority - confidential - page {n} of 12"
        for n in range(1, 13)
    ]
    pdf = write_pdf(tmp_path / "manual.pdf", pages)
    doc = parse(pdf)
    text = "\n".join(s.text for s in doc.sections)
    assert "confidential" not in text and "Keeper's Manual" not in text
    assert "Chapter 7. The lamp room on floor 7 holds 21 spare wicks." in text.replace("\n", " ")
    report = ingest(services, [pdf], "default")
    assert report.files[0].status == "indexed"
    [vector] = services.embedder.embed(["Kell Harbour Authority confidential"])
    assert all("confidential" not in hit.text for hit in services.library.query("default", vector, 20))


def test_a_line_on_every_page_of_a_short_document_is_kept(tmp_path):
    pdf = write_pdf(tmp_path / "letters.pdf", [f"Dear reader, this is letter {n}." for n in range(1, 6)])
    assert [s.text.strip() for s in parse(pdf).sections] == [f"Dear reader, this is letter {n}." for n in range(1, 6)]


def test_a_long_page_of_links_is_skipped_but_a_page_with_a_few_is_read(tmp_path):
    index = tmp_path / "genindex.html"
    index.write_text("<html><body><h1>Index</h1><ul>" + "".join(
        f'<li><a href="lib.html#f{n}">function_{n}() (in module lib)</a></li>' for n in range(400)) + "</ul></body></html>", encoding="utf-8")
    with pytest.raises(Unsupported, match="a page of links"):
        parse(index)
    prose = tmp_path / "guide.html"
    prose.write_text("<html><body>" + "".join(
        f'<p>Step {n}: water the <a href="plants.html">plants</a> before noon, then rest in the shade for an hour.</p>' for n in range(200))
        + "</body></html>", encoding="utf-8")
    assert len(parse(prose).sections) > 5
