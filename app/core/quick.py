"""The quick actions offered by the tray menu, the shortcut palette, `hearth quick ACTION` and the
.desktop file's Actions: one list, so the four front ends never disagree on a name, and one
runner, so each of them goes through the same router (policy, threshold, redaction, consent,
ledger) as the window does.

    stream = run_quick(services, "summarize-clipboard", text)           # a generator of text pieces
    result = yield from stream                                            # ... returning a TaskResult

`option` is what the action needs besides the text: the question (ask), a schema name or file
(extract), a label set name (classify), a preset (transform), the file (summarize-file). Every
action but ask and summarize-file has a default, so `hearth quick NAME` works without one.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from app.core import netpolicy
from app.core import settings as settings_mod
from app.core.routing.escalation import Consent
from app.core.tasks.result import TaskError, TaskResult

# name (used on the command line and over the single-instance socket) -> menu label
ACTIONS: dict[str, str] = {
    "summarize-clipboard": "Summarize clipboard",
    "ask-clipboard": "Ask about clipboard…",
    "extract-clipboard": "Extract from clipboard…",
    "classify-clipboard": "Classify clipboard…",
    "transform-clipboard": "Transform clipboard…",
    "summarize-file": "Summarize file…",
}

# The closed label sets the Classify entry offers (the Tasks view takes any labels).
LABEL_SETS: dict[str, list[str]] = {
    "sentiment": ["positive", "negative", "neutral"],
    "support ticket": ["billing", "technical", "account"],
    "urgency": ["urgent", "normal", "low"],
    "email": ["request", "information", "complaint", "spam"],
}

ASK_INSTRUCTION = ("Answer this question from the text only, in one or two sentences, copying names and numbers "
                   "exactly. If the text does not say, reply: The text doesn't say. Question: {question}")


@dataclass(frozen=True)
class Action:
    task: str  # the router's task
    option: str  # what the option is, for messages and the CLI
    default: str | None  # None: the option must be given


def _options() -> dict[str, Action]:
    from app.core.tasks.extract import BUILTIN
    from app.core.tasks.transform import PRESETS

    return {
        "summarize-clipboard": Action("summarize", "", ""),
        "ask-clipboard": Action("transform", "question", None),
        "extract-clipboard": Action("extract", f"schema ({', '.join(BUILTIN)} or a JSON Schema file)", "contact"),
        "classify-clipboard": Action("classify", f"label set ({', '.join(LABEL_SETS)})", next(iter(LABEL_SETS))),
        "transform-clipboard": Action("transform", f"preset ({', '.join(PRESETS)})", "rewrite"),
        "summarize-file": Action("summarize", "file", None),
    }


def action(name: str) -> Action:
    if name not in ACTIONS:
        raise TaskError(f"unknown quick action {name!r} (actions: {', '.join(ACTIONS)})")
    return _options()[name]


def choices(name: str) -> list[str]:
    """The options a menu offers for an action (empty where the option is free text or a file)."""
    from app.core.tasks.extract import BUILTIN
    from app.core.tasks.transform import PRESETS

    return {"extract-clipboard": list(BUILTIN), "classify-clipboard": list(LABEL_SETS),
            "transform-clipboard": [p for p in PRESETS if p != "translate"]}.get(name, [])


def title(name: str, option: str | None = None) -> str:
    """How a run is named in the popup and the recent results: 'Classify clipboard (sentiment)'."""
    label = ACTIONS[name].rstrip("…")
    shown = Path(option).name if name == "summarize-file" and option else option
    return f"{label} ({shown})" if shown and name != "ask-clipboard" else label


def inputs(name: str, text: str, option: str | None = None) -> tuple[str, dict]:
    """The router's task and inputs for an action on a text; TaskError (one line) for a bad option."""
    act = action(name)
    option = option if option not in (None, "") else act.default
    if option is None:
        raise TaskError(f"{name} needs a {act.option}")
    if act.task == "summarize":
        return "summarize", {"text": text, "length": "short"}
    if name == "ask-clipboard":
        return "transform", {"text": text, "instruction": ASK_INSTRUCTION.format(question=option.strip())}
    if name == "extract-clipboard":
        from app.core.tasks.extract import load_schema

        return "extract", {"text": text, "schema": load_schema(option)}
    if name == "classify-clipboard":
        if option not in LABEL_SETS:
            raise TaskError(f"unknown label set {option!r} (label sets: {', '.join(LABEL_SETS)})")
        return "classify", {"text": text, "labels": LABEL_SETS[option]}
    return "transform", {"text": text, "preset": option}


def file_text(path: str | Path) -> str:
    """A file's text as ingestion parses it (in the isolated parser); TaskError names the file and why."""
    from app.core.documents.model import DocumentError
    from app.core.isolation import read_texts

    try:
        return read_texts([Path(path)])
    except DocumentError as exc:  # read_texts already names the file
        raise TaskError(str(exc)) from exc


def run_quick(services, name: str, text: str, option: str | None = None, cancel: threading.Event | None = None,
              consent: Consent | None = None, path: str | Path | None = None) -> Generator[str, None, TaskResult]:
    """Run one quick action through the router, streaming its text. With `path` (a file dropped
    on the popup, or summarize-file's option), the file's text is used instead of `text`."""
    from app.core.routing.router import run

    if name == "summarize-file":
        path = path or option
        if not path:
            raise TaskError("summarize-file needs a file")
    if path is not None:
        text = file_text(path)
    if not (text or "").strip():
        raise TaskError("the clipboard holds no text" if path is None else f"{path}: no text found in the file")
    task, request = inputs(name, text, str(path) if name == "summarize-file" else option)
    return (yield from run(services, task, request, consent=consent, cancel=cancel))


def set_paused(services, paused: bool) -> None:
    """Pause or resume cloud escalation: saved in the settings, so the CLI and the local API honour
    it too, and applied to the running services at once."""
    current = services.settings
    new = current.model_copy(update={"cloud": current.cloud.model_copy(update={"paused": paused})})
    settings_mod.save(new)
    services.settings = new
    netpolicy.install(new.cloud)
