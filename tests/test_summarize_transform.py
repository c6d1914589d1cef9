"""Summaries of documents longer than the context, and transforms, with the real model."""

import json

import pytest

from app.core.streams import drain
from app.core.tasks import TaskError
from app.core.llm.local import Generation
from app.core.tasks.summarize import faithful_sentences, invented_figures, summarize
from app.core.tasks.transform import transform
from conftest import run_cli, write_pdf

QUARTERS = ["harbour and its fishing boats", "railway and its steam engines", "orchard and its apple trees", "observatory and its telescope"]


def _history_pages() -> list[str]:
    pages = []
    for q, topic in enumerate(QUARTERS):
        for p in range(25):
            year = 1800 + q * 25 + p
            pages.append(f"Town history, page {q * 25 + p + 1}. In {year} the council met about the {topic}. "
                         f"Records from {year} describe the {topic} in detail, with costs and the names of workers. "
                         f"The {topic.split()[0]} remained central to town life during {year}.")
    return pages


def test_a_100_page_pdf_summary_finishes_and_covers_the_last_quarter(tmp_path):
    pdf = write_pdf(tmp_path / "history.pdf", _history_pages())
    out = run_cli("summarize", str(pdf), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) >= {"text", "confidence", "route"} and result["route"] == "local"
    text = result["text"].lower()
    assert "observatory" in text or "telescope" in text, text
    assert "harbour" in text or "fishing" in text, text
    assert 0.0 <= result["confidence"] <= 1.0


def test_bullet_style_gives_one_bullet_per_part(services):
    text = "\n\n".join(_history_pages()[:40])
    result = drain(summarize(services, text, length="short", style="bullets"))
    lines = [line for line in result.text.splitlines() if line.strip()]
    assert len(lines) >= 2 and all(line.startswith("- ") for line in lines)


PASSAGE = "The budget review moved to Thursday 14 March at 10:00 in room 4B. Costs rose 12% last quarter."


def _checked(pieces: list[str], tokens_out: int, max_tokens: int = 64) -> tuple[list[str], str]:
    streamed = []
    summary = drain(faithful_sentences(iter(pieces), PASSAGE, Generation(tokens_out=tokens_out), max_tokens), streamed.append)
    return streamed, summary


def test_a_sentence_with_a_figure_the_passage_lacks_gives_way_to_the_one_it_retold_and_what_streams_is_the_summary():
    pieces = ["The review", " moved to 14 March at 2:", "05 PM in room 3B. Costs ", "rose 12% last quarter.", " The room is 4B."]
    streamed, summary = _checked(pieces, tokens_out=30)
    # the meeting's sentence, with its real time and room, where the check used to drop the part's main fact
    assert summary == "The budget review moved to Thursday 14 March at 10:00 in room 4B. Costs rose 12% last quarter. The room is 4B."
    assert "".join(streamed) == summary  # the stream is the summary, not a draft replaced later
    assert invented_figures("at 2:05 PM in room 3B", PASSAGE) == ["2", "05", "3"]
    assert invented_figures("on March 14 at 10:00", PASSAGE) == []  # reordered, not invented


def test_a_sentence_with_an_invented_figure_is_dropped_when_it_retells_nothing_and_a_quote_comes_once():
    assert _checked(["Call 555 0100 now. Costs rose 12% last quarter."], tokens_out=30)[1] == "Costs rose 12% last quarter."
    assert _checked(["Costs rose 15% last quarter. Costs rose 12% last quarter."], tokens_out=30)[1] == "Costs rose 12% last quarter."


def test_a_sentence_about_the_prompt_gives_way_to_the_one_it_retold_or_is_dropped():
    talk = ["The passage explains that costs rose last quarter. ", "Here's a revised version of the passage: ", "Costs rose 12% last quarter."]
    assert _checked(talk, tokens_out=30)[1] == "Costs rose 12% last quarter."  # the first retold it, the second retold nothing
    speaks = "The passage of the bill took a week. The vote was close."
    kept = drain(faithful_sentences(iter(["The passage of the bill took a week."]), speaks, Generation(tokens_out=9), 64))
    assert kept == "The passage of the bill took a week."  # the document's own word


def test_the_sentence_the_token_limit_cut_gives_way_to_the_one_it_retold():
    # it read "...in room 4B. Please bring the revised travel figures; the board was unhappy that costs rose 12% last quarter, and we…"
    cut = ["Costs rose 12% last quarter.", " The budget review moved to Thursday, and we ne"]
    assert _checked(cut, tokens_out=64)[1] == "Costs rose 12% last quarter. The budget review moved to Thursday 14 March at 10:00 in room 4B."
    assert _checked(cut, tokens_out=40)[1] == "Costs rose 12% last quarter. The budget review moved to Thursday, and we ne"  # the model ended it
    assert _checked(["Costs rose 12% last quarter, the board"], tokens_out=64)[1] == "Costs rose 12% last quarter."


def test_the_sentence_the_token_limit_cut_retelling_nothing_ends_in_an_ellipsis_not_in_half_a_word():
    cut = ["Costs rose 12% last quarter.", " The board was unhappy, and we ne"]
    assert _checked(cut, tokens_out=64)[1] == "Costs rose 12% last quarter. The board was unhappy, and we\u2026"
    assert _checked(["Costs rose 12% last quarter. Costs rose"], tokens_out=64)[1] == "Costs rose 12% last quarter."  # quoted once
    assert _checked(["Costs rose 12% last quarter.\nThe board met."], tokens_out=64)[1] == "Costs rose 12% last quarter. The board met."


def test_a_clipboard_summary_holds_no_figure_its_text_lacks(services):
    # SmolLM2 wrote "at 2:05 PM in room 3B" for this before the check, and stopped mid-sentence
    text = ("Hi Dana, the quarterly budget review moved to Thursday 14 March at 10:00 in room 4B. "
            "Please bring the revised travel figures; the board was unhappy that costs rose 12% last quarter. "
            "Call me on +44 20 7946 0958 or write to dana.price@example.com if you cannot come. Thanks, Omar Reyes")
    pieces = []
    result = drain(summarize(services, text, length="short"), pieces.append)
    assert result.text.strip() and "".join(pieces) == result.text
    assert invented_figures(result.text, text) == [], result.text
    assert result.text.rstrip().endswith((".", "!", "?", "\u2026")), result.text  # finished, or marked as cut


def test_transform_with_a_preset_and_an_instruction(services):
    diff = "diff --git a/net.py b/net.py\n--- a/net.py\n+++ b/net.py\n@@ -1 +1 @@\n-RETRIES = 3\n+RETRIES = 5\n"
    commit = drain(transform(services, diff, preset="commit-message"))
    assert commit.text and commit.task == "transform" and 0 <= commit.confidence <= 1
    shout = drain(transform(services, "the meeting is at noon", instruction="Rewrite the text in capital letters."))
    assert shout.text


@pytest.mark.parametrize("call", [
    lambda s: drain(summarize(s, "   ")),
    lambda s: drain(transform(s, "", preset="rewrite")),
    lambda s: drain(transform(s, "text", preset="no-such-preset")),
    lambda s: drain(summarize(s, "text", length="enormous")),
])
def test_bad_input_is_one_line(services, call):
    with pytest.raises(TaskError) as caught:
        call(services)
    assert "\n" not in str(caught.value)


def test_cli_transform_reads_stdin_and_rejects_an_empty_one():
    empty = run_cli("transform", "-", "--preset", "rewrite", input="")
    assert empty.returncode == 1 and "empty" in empty.stderr and "Traceback" not in empty.stderr
    ok = run_cli("transform", "-", "--preset", "bullets", "--json", input="Milk, eggs and bread are needed. The car needs fuel.")
    assert ok.returncode == 0 and json.loads(ok.stdout)["text"]
