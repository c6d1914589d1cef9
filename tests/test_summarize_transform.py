"""Summaries of documents longer than the context, and transforms, with the real model."""

import json

import pytest

from app.core.streams import drain
from app.core.tasks import TaskError
from app.core.tasks.summarize import summarize
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
