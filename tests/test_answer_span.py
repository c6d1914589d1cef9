"""Answers from the right span, through the real pipeline (parse, chunk, embed, Chroma, the real
model): a table cell, a definition-list item, a signature's default, an answer that needs two
sentences; and answerability: an unanswerable question refused, an answerable one answered."""

from __future__ import annotations

from app.core.ingest import ingest
from app.core.store.vectors import Hit
from app.core.streams import drain
from app.core.tasks.answer_span import units
from app.core.tasks.answerability import DOUBT, Answerability, fit_path
from app.core.tasks.ask import NOT_FOUND, ask, supported

STRFTIME = """<html><head><title>Format codes</title></head><body>
<h1>Format codes</h1>
<p>The following directives can be embedded in the format string of the time formatting function.</p>
<table>
<tr><th>Directive</th><th>Meaning</th><th>Example</th></tr>
<tr><td>%a</td><td>Weekday as an abbreviated name.</td><td>Mon</td></tr>
<tr><td>%d</td><td>Day of the month as a zero-padded number.</td><td>07</td></tr>
<tr><td>%j</td><td>Day of the year as a zero-padded number.</td><td>251</td></tr>
<tr><td>%H</td><td>Hour on the 24-hour clock as a zero-padded number.</td><td>17</td></tr>
</table>
<p>Other directives depend on the platform and are not listed here.</p>
</body></html>
"""

SERVER = """<html><body>
<h1>Server settings</h1>
<p>Each setting goes on its own line of the configuration file.</p>
<dl>
<dt>ServerName</dt><dd>The host name the server reports to clients in every reply.</dd>
<dt>Timeout</dt><dd>Seconds to wait for a slow client before closing, 300 unless changed.</dd>
<dt>KeepAliveTimeout</dt><dd>Seconds to wait for the next request on an open connection, 5 unless changed.</dd>
<dt>MaxClients</dt><dd>The number of clients served at the same time, 150 unless changed.</dd>
</dl>
</body></html>
"""

SIGNATURES = """<html><body>
<h1>Reading archives</h1>
<p>The module reads and writes compressed archives of many files.</p>
<dl class="py function">
<dt class="sig">archive.open(path, mode='r', level=6, strict=True)</dt>
<dd><p>Open the archive at path and return a handle for its members.</p></dd>
</dl>
<dl class="py function">
<dt class="sig">archive.extract(handle, target='.', overwrite=False)</dt>
<dd><p>Write every member of the archive to the target folder.</p></dd>
</dl>
</body></html>
"""

FERRY = """# Travel notes

The night ferry leaves Oslo at 22:00 from the Hjortneskaia pier. It arrives in Kiel the next morning at 10:00.
Cabins have two or four berths and must be booked ahead.
Breakfast is served on deck seven from 07:00.
"""


def run(services, question: str, collection: str = "default"):
    pieces: list[str] = []
    result = drain(ask(services, question, collection), pieces.append)
    assert "".join(pieces).strip() == result.text
    return result


def _ingest(services, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = ingest(services, [path], "default")
    assert report.count("indexed") == 1


def test_answer_from_a_table_cell_keeps_the_row_header(services, tmp_path):
    _ingest(services, tmp_path, "strftime.html", STRFTIME)
    result = run(services, "Which directive gives the day of the year as a zero-padded number?")
    assert "%j" in result.text and "%d" not in result.text
    assert result.citations[0].file == "strftime.html"
    assert "Directive: %j" in result.citations[0].quote  # the cell is quoted with its column's header


def test_answer_from_a_definition_list_item(services, tmp_path):
    _ingest(services, tmp_path, "server.html", SERVER)
    result = run(services, "What is the Timeout setting unless it is changed?")
    assert "300" in result.text and result.text != NOT_FOUND
    assert result.citations[0].quote.startswith("Timeout")  # the dt is quoted with its dd


def test_answer_from_a_signature_default(services, tmp_path):
    _ingest(services, tmp_path, "archive.html", SIGNATURES)
    result = run(services, "What is the default compression level of archive.open?")
    assert "level=6" in result.text
    assert "archive.open(" in result.citations[0].quote


def test_answer_that_needs_two_sentences(services, tmp_path):
    _ingest(services, tmp_path, "travel.md", FERRY)
    result = run(services, "When does the night ferry from Oslo arrive in Kiel?")
    assert "10:00" in result.text
    quote = result.citations[0].quote
    assert "Oslo" in quote and "Kiel" in quote  # both sentences, quoted together


def test_unanswerable_refused_and_answerable_answered(services, tmp_path):
    _ingest(services, tmp_path, "travel.md", FERRY)
    answered = run(services, "How many berths do the cabins have?")
    refused = run(services, "What does a bicycle ticket on the ferry cost?")
    assert answered.text != NOT_FOUND and "four" in answered.text and not answered.abstained
    assert refused.text == NOT_FOUND and refused.abstained
    assert refused.timings["tokens_out"] == 0  # nothing generated
    assert refused.data["answerable"] < answered.data["answerable"]  # the calibrated signal orders them


def test_a_question_about_something_the_documents_never_name_is_refused_with_the_name(services, tmp_path):
    _ingest(services, tmp_path, "travel.md", FERRY)
    refused = run(services, "How long does the ferry from Oslo to Aarhus take?")
    assert refused.abstained and refused.text == f"{NOT_FOUND} None of the passages found mentions Aarhus."
    assert refused.data["absent_names"] == ["Aarhus"]
    # The fit alone would have answered it (its words match the ferry notes well): the absent name refused it.
    assert Answerability.load(fit_path(services.engine)).threshold <= refused.data["answerable"] < DOUBT
    answered = run(services, "When does the night ferry leave Oslo?")
    assert "22:00" in answered.text and not answered.abstained and answered.data["absent_names"] == []


def test_units_pair_a_term_with_its_description_and_a_row_with_its_header():
    text = "Name | Default\ntimeout | 30\n\nmaxsize\nThe largest size of the queue.\n"
    kinds = {(u.kind, u.text) for u in units(Hit(text, 0.5, "f", "f", None, None, None, 0, len(text)))}
    assert ("row", "Name: timeout; Default: 30") in kinds
    assert ("item", "maxsize: The largest size of the queue.") in kinds


def test_a_generated_answer_is_shown_only_when_the_evidence_supports_it():
    evidence = "The night ferry leaves Oslo at 22:00. It arrives in Kiel at 10:00."
    assert supported("It arrives in Kiel at 10:00.", evidence, "When does it arrive?")
    assert not supported("It arrives in Kiel at 11:00.", evidence, "When does it arrive?")  # a number not in the evidence
    assert not supported("It docks in Hamburg.", evidence, "When does it arrive?")
    # a number is matched whole: the 7 of 7.1492e7 (Jupiter's radius in metres) is no count of moons
    assert not supported("Jupiter has 7 moons.", "Jupiter has a radius of 7.1492e7 m and many moons.", "How many moons has Jupiter?")
    assert supported("Its radius is 7.1492e7 m.", "Jupiter has a radius of 7.1492e7 m and many moons.", "What is Jupiter's radius?")


def _hit(text: str, score: float = 0.5) -> Hit:
    return Hit(text, score, "f", "f", None, None, None, 0, len(text))


def test_a_syntax_choice_is_not_a_table_row_and_a_long_definition_is_cut_not_dropped():
    syntax = "Syntax:\nset angles {degrees | radians}\nshow angles\n"
    found = units(_hit(syntax))
    assert not any(u.kind == "row" for u in found)
    assert any("set angles {degrees | radians}" in u.text for u in found)

    long = " ".join(f"Sentence {n} of the description says a little more about the style." for n in range(12))
    found = units(_hit(f"duck-typing | A programming style which does not look at an object's type. {long}\n"))
    [described] = [u for u in found if u.text.startswith("duck-typing: ")]
    assert "does not look at an object's type" in described.text and len(described.text.split()) <= 81


def test_ranking_prefers_the_named_parameter_default_the_named_term_and_never_a_question(services):
    from app.core.tasks.answer_span import rank

    default = [_hit("Separator placement is counted from the right end of the output by default."),
               _hit("def print(*args, sep=' ', end='\\n', file=None)")]
    [best] = rank(services, "What is the default separator sep of the print() function?", default, keep=1)
    assert "sep=' '" in best.text

    glossary = [_hit("Can't we get rid of the global interpreter lock?\n\nSome say it could go."),
                _hit("global interpreter lock | The mechanism that lets only one thread run Python code at a time.")]
    [best] = rank(services, "What is the global interpreter lock?", glossary, keep=1)
    assert best.text.startswith("global interpreter lock: The mechanism")

    codes = [_hit("Type code | C Type\n'L' | unsigned long\n'l' | signed long\n'q' | signed long long")]
    [best] = rank(services, "Which C type does the array type code 'l' correspond to?", codes, keep=1)
    assert best.text == "Type code: 'l'; C Type: signed long"  # a quoted code matches as written, 'l' is not 'L'
