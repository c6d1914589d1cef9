"""Conversation history: stored under the data folder, across reopenings, and the CLI over it."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from app.core.conversations import ConversationError, Conversations, Message, title_from
from app.core.tasks.result import Citation, TaskResult

CITE = Citation("handbook.pdf", "/docs/handbook.pdf", 2, None, None, "Full-time employees receive 25 paid vacation days.", 0.81)
LINES = Citation("lease.md", "/docs/lease.md", None, 4, 6, "The rent is $1,450 a month.", 0.7)


def fill(store: Conversations) -> int:
    cid = store.create(title_from("How many vacation days do I get?"), "handbook").id
    store.add(cid, Message("user", "How many vacation days do I get?"))
    store.add_answer(cid, TaskResult(text="\u201cFull-time employees receive 25 paid vacation days.\u201d", confidence=0.83,
                                     citations=[CITE, LINES]))
    store.add(cid, Message("user", "And the rent?"))
    store.add_answer(cid, TaskResult(text="$1,450", confidence=0.4, route="cloud", escalation={"status": "sent", "ledger_id": 7},
                                     citations=[LINES]))
    return cid


def test_history_survives_reopening_with_citations_and_routes():
    cid = fill(Conversations())
    store = Conversations()  # a new process would open it the same way
    [conv] = store.list()
    assert (conv.id, conv.title, conv.collection, conv.messages) == (cid, "How many vacation days do I get?", "handbook", 4)
    messages = store.messages(cid)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1].citations == [CITE, LINES] and messages[1].confidence == 0.83 and messages[1].route == "local"
    assert messages[3].route == "cloud" and messages[3].ledger_id == 7
    store.rename(cid, "  Vacation   and rent ")
    assert store.get(cid).title == "Vacation and rent"
    store.delete(cid)
    assert store.list() == []
    with pytest.raises(ConversationError, match="no conversation with id"):
        store.messages(cid)
    with pytest.raises(ConversationError, match="needs a title"):
        store.create("   ")


def test_markdown_export_has_every_turn_and_its_citations():
    store = Conversations()
    text = store.to_markdown(fill(store))
    assert text.startswith("# How many vacation days do I get?\n")
    assert "**You:** How many vacation days do I get?" in text and "**You:** And the rent?" in text
    # the local answer quotes its first citation and only found the second; the cloud wrote from what it was sent
    assert ("Quoted from:\n1. handbook.pdf, p. 2: \u201cFull-time employees receive 25 paid vacation days.\u201d\n\n"
            "Also found:\n2. lease.md, lines 4\u20136: \u201cThe rent is $1,450 a month.\u201d\n") in text
    assert "Sources:\n1. lease.md, lines 4\u20136: \u201cThe rent is $1,450 a month.\u201d" in text
    assert "_Confidence 83%, answered on this computer._" in text
    assert "answered by the cloud model (ledger #7)" in text


def test_a_refusal_keeps_what_it_searched_apart_from_sources(tmp_path):
    import sqlite3

    from app.core import migrations
    from app.core.conversations import MIGRATIONS

    path = tmp_path / "old.sqlite"  # a history written before refusals were stored as such
    with sqlite3.connect(path, isolation_level=None) as old:
        migrations.apply(old, MIGRATIONS[:1])
        old.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('wifi', 1, 1)")
        old.execute("INSERT INTO messages (conversation, role, text, created_at) VALUES (1, 'assistant', 'an old answer', 1)")
    store = Conversations(path)
    store.add_answer(1, TaskResult(text="The documents don't say.", confidence=0.64, citations=[LINES], abstained=True))
    store.close()
    old_answer, refusal = Conversations(path).messages(1)
    assert (old_answer.abstained, refusal.abstained) == (False, True) and refusal.citations == [LINES]
    text = Conversations(path).to_markdown(1)
    assert "Searched:\n1. lease.md, lines 4\u20136" in text and "Sources:" not in text
    store = Conversations()
    assert "Quoted from:\n1. handbook.pdf" in store.to_markdown(fill(store))


def test_long_questions_make_short_titles():
    title = title_from("word " * 40)
    assert len(title) <= 60 and title.endswith("…")


def test_the_cli_lists_shows_renames_exports_and_deletes(tmp_path):
    store = Conversations()
    cid = fill(store)
    store.close()
    listed = run_cli("conversations", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [c["title"] for c in json.loads(listed.stdout)] == ["How many vacation days do I get?"]
    shown = run_cli("conversations", "show", str(cid), "--json")
    assert [m["role"] for m in json.loads(shown.stdout)["messages"]] == ["user", "assistant", "user", "assistant"]
    assert run_cli("conversations", "rename", str(cid), "Time", "off").returncode == 0
    out = tmp_path / "conv.md"
    assert run_cli("conversations", "export", str(cid), "-o", str(out)).returncode == 0
    assert out.read_text().startswith("# Time off\n") and "handbook.pdf, p. 2" in out.read_text()
    missing = run_cli("conversations", "show", "999")
    assert missing.returncode != 0 and "no conversation with id 999" in missing.stderr
    assert run_cli("conversations", "delete", str(cid)).returncode == 0
    assert json.loads(run_cli("conversations", "list", "--json").stdout) == []
