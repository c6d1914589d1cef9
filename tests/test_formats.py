"""Every supported format, parsed from real files written here: the text that comes out, and the
line numbers that let a citation point back into the file."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import docx
import pytest

from app.core.chunking import chunk_document
from app.core.documents import DocumentError, Unsupported, parse, supported_suffixes


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def assert_lines_exact(doc, lines: list[str]) -> None:
    """Text line k of every section is source line line_start + k, as chunking assumes."""
    for section in doc.sections:
        assert section.text.split("\n") == lines[section.line_start - 1 : section.line_end]


def section_at(doc, line: int):
    [section] = [s for s in doc.sections if s.line_start <= line <= s.line_end]
    return section


def line_in(section, line: int) -> str:
    return section.text.split("\n")[line - section.line_start]


def words_tokenizer(text: str, **_):
    """Stands in for the embedder's tokenizer: one token per word, with character offsets."""
    return {"offset_mapping": [m.span() for m in re.finditer(r"\S+", text)]}


# -- text-like formats -------------------------------------------------------------------------


def test_a_fact_in_a_log_keeps_its_line_number_down_to_the_chunk(tmp_path):
    lines = [f"2024-05-01 10:{n % 60:02d}:00 INFO worker {n} finished batch without trouble" for n in range(1, 121)]
    lines[56] = "2024-05-01 10:57:00 ERROR the backup disk /dev/sdz is full"
    lines.insert(57, "    while writing /srv/archive/2024.tar")  # continuation stays with its entry
    doc = parse(write(tmp_path / "service.log", lines))
    assert doc.kind == "log"
    assert_lines_exact(doc, lines)
    section = section_at(doc, 57)
    assert line_in(section, 57) == lines[56] and section.line_end >= 58
    chunks = chunk_document(doc, words_tokenizer, max_tokens=40, overlap=8)
    hit = next(c for c in chunks if "/dev/sdz" in c.text)
    assert hit.line_start <= 57 <= hit.line_end and hit.text.split()[0] in lines[hit.line_start - 1]


def test_markdown_sections_start_at_headings_but_not_in_code_fences(tmp_path):
    lines = ["# Garden notes", "", "Roses like morning sun.", "", "## Watering", "", "Water deeply twice a week.",
             "", "```bash", "# not a heading", "water --all", "```", "", "## Pests", "Aphids hate garlic spray."]
    doc = parse(write(tmp_path / "notes.md", lines))
    assert_lines_exact(doc, lines)
    assert [s.line_start for s in doc.sections] == [1, 5, 14]
    assert "# not a heading" in section_at(doc, 10).text


def test_source_code_splits_between_top_level_definitions(tmp_path):
    lines = ["import os", ""]
    for n in range(12):
        lines += [f"def step_{n}(path):", f'    """Step {n} of the pipeline."""', f"    first = os.path.join(path, 'a{n}')",
                  "", f"    second = first + '{n}' * 20  # a blank line inside the body, as real code has", "    return second", "", ""]
    doc = parse(write(tmp_path / "pipeline.py", lines))
    assert_lines_exact(doc, lines)
    assert len(doc.sections) > 1
    for section in doc.sections[1:]:
        assert section.text.startswith("def step_")


@pytest.mark.parametrize("suffix", [".txt", ".rst", ".yaml", ".js", ".sql"])
def test_other_text_formats_keep_exact_lines(tmp_path, suffix):
    lines = [f"entry {n}: the lighthouse lamp was checked and cleaned" if n % 7 else "" for n in range(1, 200)]
    lines[150] = "entry 151: the spare wick is in the red tin"
    doc = parse(write(tmp_path / f"sample{suffix}", lines))
    assert_lines_exact(doc, lines)
    assert line_in(section_at(doc, 151), 151) == lines[150]


# -- encodings ---------------------------------------------------------------------------------


def test_cp1252_text_is_decoded_not_mangled(tmp_path):
    lines = ["Menu du jour", "Le café naïve € 3 est déjà servi à la terrasse, avec crème et très chaud."]
    doc = parse(write(tmp_path / "menu.txt", lines, encoding="cp1252"))
    assert doc.sections[0].text == "\n".join(lines)


def test_short_cp1252_phrase_is_decoded(tmp_path):
    doc = parse(write(tmp_path / "note.txt", ["café naïve €"], encoding="cp1252"))
    assert doc.sections[0].text == "café naïve €"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_text_with_a_byte_order_mark(tmp_path, encoding):
    lines = ["Größe: 5 €", "Привет", "日本語"]
    doc = parse(write(tmp_path / "bom.txt", lines, encoding=encoding))
    assert doc.sections[0].text == "\n".join(lines) and doc.sections[0].line_start == 1


def test_windows_line_endings_count_as_one_line(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"one\r\ntwo\r\n\r\nfour\r\n")
    doc = parse(path)
    assert [(s.text, s.line_start, s.line_end) for s in doc.sections] == [("one\ntwo\n\nfour", 1, 4)]


def test_garbage_bytes_under_a_text_suffix_are_refused_with_a_reason(tmp_path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(bytes(range(0x80, 0x100)) * 16)
    with pytest.raises(DocumentError, match="encoding could not be determined"):
        parse(path)


def test_binary_content_under_a_text_suffix_is_reported_as_binary(tmp_path):
    path = tmp_path / "photo.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    with pytest.raises(DocumentError, match="binary content, not text"):
        parse(path)


# -- HTML ----------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title>Garden &amp; Home</title>
<style>body { color: red; }</style>
<script>var secret = "do not index";</script>
</head>
<body>
<h1>Planting guide</h1>
<p>Tomatoes need <b>full</b> sun
and regular watering &mdash; every &quot;two&quot; days.</p>
<table>
<tr><th>Plant</th><th>Month</th></tr>
<tr><td>Basil</td><td>May</td></tr>
</table>
<p>Caf&eacute; &#8364;5 &lt;cheap&gt;</p>
</body></html>
"""


def test_html_is_readable_text_with_source_lines(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    doc = parse(path)
    text = "\n".join(s.text for s in doc.sections)
    assert "Garden & Home" in text
    assert "<" not in text.replace("<cheap>", "") and "secret" not in text and "color" not in text
    assert 'Tomatoes need full sun and regular watering — every "two" days.' in text
    assert "Café €5 <cheap>" in text
    assert line_in(section_at(doc, 8), 8).startswith("Tomatoes")
    assert line_in(section_at(doc, 11), 11) == "Plant | Month"
    assert line_in(section_at(doc, 12), 12) == "Plant: Basil; Month: May"  # a row keeps its header


# -- Word ------------------------------------------------------------------------------------------


def test_docx_paragraphs_and_table_cells(tmp_path):
    document = docx.Document()
    document.add_heading("Keeper's log", level=1)
    document.add_paragraph("The lamp was lit at dusk.")
    table = document.add_table(rows=2, cols=2)
    for (row, column), value in zip([(0, 0), (0, 1), (1, 0), (1, 1)], ["Ship", "Time", "Aurora", "21:40"]):
        table.cell(row, column).text = value
    document.add_paragraph("")
    document.add_paragraph("Fog rolled in after midnight.")
    path = tmp_path / "log.docx"
    document.save(path)
    doc = parse(path)
    assert doc.kind == "docx"
    # Anchors are block numbers: heading 1, paragraph 2, table rows 3-4, empty 5, paragraph 6.
    assert [(s.text, s.line_start, s.line_end) for s in doc.sections] == [
        ("Keeper's log\nThe lamp was lit at dusk.\nShip | Time\nAurora | 21:40\n\nFog rolled in after midnight.", 1, 6),
    ]


@pytest.mark.parametrize("content, reason", [
    (b"PK\x03\x04 not really a zip", "corrupt .docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "encrypted or old-format"),
])
def test_broken_docx_is_a_clear_error(tmp_path, content, reason):
    path = tmp_path / "broken.docx"
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=reason):
        parse(path)


def test_zip_that_is_not_a_word_document(tmp_path):
    path = tmp_path / "photos.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.txt", "not a document")
    with pytest.raises(DocumentError, match="corrupt .docx"):
        parse(path)


# -- CSV / TSV ---------------------------------------------------------------------------------------


def test_csv_rows_stay_whole_and_keep_their_line_numbers(tmp_path):
    lines = ["name;city;notes"] + [f"person {n};Town {n};likes boats and the sea, {n}" for n in range(2, 301)]
    doc = parse(write(tmp_path / "people.csv", lines))
    assert len(doc.sections) > 1
    seen = []
    for section in doc.sections:
        for offset, row in enumerate(section.text.split("\n")):
            number = section.line_start + offset
            assert row == f"name: person {number}; city: Town {number}; notes: likes boats and the sea, {number}"
            seen.append(number)
    assert seen == list(range(2, 301))


def test_csv_row_with_a_quoted_line_break_does_not_shift_later_rows(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('item,note\nlamp,"clean it\nevery Tuesday"\n\nwick,replace in spring\n', encoding="utf-8")
    doc = parse(path)
    [section] = doc.sections
    assert section.line_start == 2 and section.line_end == 5
    assert line_in(section, 2) == "item: lamp; note: clean it every Tuesday"
    assert line_in(section, 5) == "item: wick; note: replace in spring"


def test_tsv_in_cp1252(tmp_path):
    doc = parse(write(tmp_path / "prices.tsv", ["item\tprice", "café crème\t3 €"], encoding="cp1252"))
    assert doc.sections[0].text == "item: café crème; price: 3 €" and doc.sections[0].line_start == 2


# -- JSON -------------------------------------------------------------------------------------------------


def test_json_array_gives_one_record_per_element_at_its_line(tmp_path):
    records = [{"ship": f"Vessel {n}", "crew": n, "flags": ["red", "white"], "captain": None} for n in range(1, 61)]
    path = tmp_path / "ships.json"
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    lines = path.read_text().split("\n")
    doc = parse(path)
    assert len(doc.sections) > 1
    found = {}
    for section in doc.sections:
        for offset, row in enumerate(section.text.split("\n")):
            if row:
                found[section.line_start + offset] = row
    assert len(found) == 60
    for number, row in found.items():
        assert lines[number - 1].strip() == "{"  # the line where that record starts
    assert "ship: Vessel 7; crew: 7; flags: [red, white]; captain: null" in found.values()


def test_json_object_gives_one_record_per_key_and_splits_big_members(tmp_path):
    data = {"title": "Harbour log", "entries": [{"day": n, "note": f"calm sea on day {n}"} for n in range(1, 80)]}
    path = tmp_path / "log.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    lines = path.read_text().split("\n")
    text = "\n".join(s.text for s in parse(path).sections)
    assert "title: Harbour log" in text
    assert "entries[41]: day: 42; note: calm sea on day 42" in text
    section = section_at(parse(path), 2)
    assert line_in(section, 2) == "title: Harbour log" and lines[1].startswith(' "title"')


def test_json_lines_keep_their_line_numbers(tmp_path):
    lines = ['{"event": "start", "at": 1}', "", '{"event": "storm", "wind": 9.5, "ok": false}']
    doc = parse(write(tmp_path / "events.jsonl", lines))
    [section] = doc.sections
    assert section.line_start == 1 and line_in(section, 3) == "event: storm; wind: 9.5; ok: false"


@pytest.mark.parametrize("name, content, where", [
    ("bad.json", '{\n  "a": 1,\n  "b": [1, 2,\n}\n', "line 4, column 1"),
    ("bad.jsonl", '{"a": 1}\n{"a": 2,,}\n', "line 2, column 9"),
])
def test_invalid_json_names_the_position(tmp_path, name, content, where):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DocumentError, match=f"invalid JSON at {where}"):
        parse(path)


# -- dispatch ---------------------------------------------------------------------------------------------


def test_unknown_type_is_skipped_and_suffixes_are_listed(tmp_path):
    path = tmp_path / "archive.xyz"
    path.write_bytes(b"data")
    with pytest.raises(Unsupported, match=r"unsupported file type \.xyz"):
        parse(path)
    suffixes = supported_suffixes()
    assert {".pdf", ".txt", ".md", ".rst", ".log", ".py", ".html", ".docx", ".csv", ".tsv", ".json", ".jsonl"} <= set(suffixes)
    assert ".xyz" not in suffixes
