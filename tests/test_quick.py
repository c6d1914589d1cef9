"""The quick actions' core: each name maps to a router task, each runs on real text with the real
model, a bad option or input is named, and the pause wins over every policy at a loopback server."""

from __future__ import annotations

import pytest

from app.core import quick
from app.core import settings as settings_mod
from app.core import streams
from app.core.routing.policy import decide
from app.core.settings import CloudSettings, TaskCloudPolicy
from app.core.tasks.result import TaskError

TEXT = ("Hi Dana, the quarterly budget review moved to Thursday 14 March at 10:00 in room 4B. "
        "Please bring the revised travel figures; the board was unhappy that costs rose 12% last quarter. "
        "Call me on +44 20 7946 0958 or write to dana.price@example.com if you cannot come. Thanks, Omar Reyes")


def drain(stream):
    """The stream's pieces and its result."""
    pieces = []
    return pieces, streams.drain(stream, pieces.append)


def test_every_action_has_a_task_and_its_options_are_checked():
    assert set(quick.ACTIONS) == {"summarize-clipboard", "ask-clipboard", "extract-clipboard", "classify-clipboard",
                                  "transform-clipboard", "summarize-file"}
    assert quick.inputs("summarize-clipboard", TEXT)[0] == "summarize"
    assert quick.inputs("extract-clipboard", TEXT)[1]["schema"]["type"] == "object"  # the default schema loads
    assert quick.inputs("classify-clipboard", TEXT, "urgency")[1]["labels"] == ["urgent", "normal", "low"]
    assert quick.inputs("transform-clipboard", TEXT, "bullets")[1]["preset"] == "bullets"
    task, request = quick.inputs("ask-clipboard", TEXT, "When is the review?")
    assert task == "transform" and "When is the review?" in request["instruction"]
    with pytest.raises(TaskError, match="needs a question"):
        quick.inputs("ask-clipboard", TEXT)
    with pytest.raises(TaskError, match="unknown label set 'colours'"):
        quick.inputs("classify-clipboard", TEXT, "colours")
    with pytest.raises(TaskError, match="no schema named 'nope'"):
        quick.inputs("extract-clipboard", TEXT, "nope")
    with pytest.raises(TaskError, match="unknown quick action 'explode'"):
        quick.action("explode")
    assert quick.title("classify-clipboard", "sentiment") == "Classify clipboard (sentiment)"
    assert quick.title("summarize-file", "/tmp/a/report.pdf") == "Summarize file (report.pdf)"


@pytest.mark.slow
@pytest.mark.parametrize("name,option", [("summarize-clipboard", None), ("ask-clipboard", "Which room is the review in?"),
                                         ("extract-clipboard", "contact"), ("classify-clipboard", "sentiment"),
                                         ("transform-clipboard", "bullets")])
def test_each_action_runs_through_the_router_on_real_text(services, name, option):
    pieces, result = drain(quick.run_quick(services, name, TEXT, option))
    assert result.route == "local" and 0.0 <= result.confidence <= 1.0
    if name == "extract-clipboard":
        assert result.valid and result.data["email"] == "dana.price@example.com"
    elif name == "classify-clipboard":
        assert result.label in quick.LABEL_SETS["sentiment"]
    else:
        assert "".join(pieces).strip() and result.text.strip()


@pytest.mark.slow
def test_summarize_file_reads_the_file_and_a_missing_one_is_named(services, guide_pdf, tmp_path):
    _, result = drain(quick.run_quick(services, "summarize-file", "", str(guide_pdf)))
    assert result.task == "summarize" and result.text.strip()
    missing = tmp_path / "gone.pdf"
    with pytest.raises(TaskError, match="gone.pdf: file not found"):
        drain(quick.run_quick(services, "summarize-file", "", str(missing)))
    with pytest.raises(TaskError, match="the clipboard holds no text"):
        drain(quick.run_quick(services, "summarize-clipboard", "   "))


def test_the_pause_wins_over_every_policy():
    cloud = CloudSettings(policy="auto", threshold=1.0, base_url="http://127.0.0.1:9/v1",
                          tasks={"summarize": TaskCloudPolicy(policy="ask")})
    assert decide(cloud, "extract", 0.99) == "auto" and decide(cloud, "summarize", 0.99) == "ask"
    paused = cloud.model_copy(update={"paused": True})
    assert {decide(paused, task, 0.0) for task in ("ask", "summarize", "extract", "classify", "transform")} == {"local"}


@pytest.mark.slow
def test_paused_sends_nothing_under_auto_at_threshold_one_and_resumed_sends(services, stub_server):
    from cloud_server import Canned

    stub = stub_server(Canned(pieces=("A short", " cloud summary.")))
    services.settings = services.settings.model_copy(update={"cloud": CloudSettings(policy="auto", threshold=1.0, base_url=stub.base_url)})
    quick.set_paused(services, True)
    assert settings_mod.load().cloud.paused  # saved: a CLI or `hearth serve` started now honours it too
    _, result = drain(quick.run_quick(services, "summarize-clipboard", TEXT))
    assert result.route == "local" and stub.received == []
    quick.set_paused(services, False)
    _, result = drain(quick.run_quick(services, "summarize-clipboard", TEXT))
    assert result.route == "cloud" and result.text == "A short cloud summary." and len(stub.received) == 1
