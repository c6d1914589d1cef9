"""Every task request goes through here: the local model first, then the policy's decision.

Front ends (the CLI, the window, the eval harness) call `run` with the task's name and inputs;
the local result streams as usual, and only a decision taken in code from the calibrated
confidence can add a cloud step after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator

from app.core.routing import cloud_tasks
from app.core.routing.escalation import Consent, escalate
from app.core.routing.policy import decide
from app.core.tasks.result import TaskResult

SUMMARY_INSTRUCTIONS = {
    "short": "Summarize the document in 2 or 3 sentences, keeping the key names, numbers and decisions.",
    "medium": "Summarize the document in 4 to 6 sentences, covering all of it and keeping the key names, numbers and decisions.",
    "long": "Summarize the document in 8 to 10 sentences, covering all of it and keeping the key names, numbers and decisions.",
}


def local(services, task: str, inputs: dict, cancel: threading.Event | None = None) -> Generator[str, None, TaskResult]:
    if task == "ask":
        from app.core.tasks.ask import ask

        return (yield from ask(services, inputs["question"], inputs["collection"], cancel))
    if task == "chat":
        from app.core.tasks.chat import chat

        return (yield from chat(services, inputs["messages"], inputs.get("max_tokens"), cancel))
    if task == "classify":
        from app.core.tasks.classify import classify

        return classify(services, inputs["text"], inputs["labels"], descriptions=inputs.get("descriptions"), examples=inputs.get("examples"),
                        name=inputs.get("name"), cancel=cancel)
    if task == "extract":
        from app.core.tasks.extract import extract

        return (yield from extract(services, inputs["text"], inputs["schema"], cancel))
    if task == "summarize":
        from app.core.tasks.summarize import summarize

        return (yield from summarize(services, inputs["text"], inputs.get("length", "medium"), inputs.get("style", "paragraph"), cancel))
    if task == "transform":
        from app.core.tasks.transform import transform

        return (yield from transform(services, inputs["text"], inputs.get("preset"), inputs.get("instruction"),
                                     inputs.get("language", "English"), cancel))
    raise ValueError(f"unknown task {task!r}")


def cloud_request(services, task: str, inputs: dict, result: TaskResult) -> cloud_tasks.CloudTask:
    """The minimum the cloud model needs for this request."""
    budget = services.settings.cloud.max_input_tokens
    if task == "ask":
        from app.core.retrieval import retrieve

        hits = retrieve(services, inputs["question"], inputs["collection"], services.settings.retrieval.top_k)
        return cloud_tasks.for_ask(inputs["question"], [h.text for h in hits], result)
    if task == "chat":
        from app.core.tasks.chat import max_tokens_for

        return cloud_tasks.for_chat(inputs["messages"], budget, max_tokens_for(services.engine, inputs.get("max_tokens")))
    if task == "classify":
        return cloud_tasks.for_classify(inputs["text"], inputs["labels"], budget)
    if task == "extract":
        from app.core.tasks.extract import load_schema

        schema = inputs["schema"] if isinstance(inputs["schema"], dict) else load_schema(inputs["schema"])
        return cloud_tasks.for_extract(inputs["text"], schema, budget, result)
    if task == "summarize":
        return cloud_tasks.for_text("summarize", SUMMARY_INSTRUCTIONS[inputs.get("length", "medium")], inputs["text"], budget, 400)
    from app.core.tasks.transform import instruction_for

    how = instruction_for(inputs.get("preset"), inputs.get("instruction"), inputs.get("language", "English"))
    return cloud_tasks.for_text("transform", how, inputs["text"], budget, 400)


def run(services, task: str, inputs: dict, consent: Consent | None = None, cancel: threading.Event | None = None,
        on_cloud_text: Callable[[str], None] | None = None) -> Generator[str, None, TaskResult]:
    result = yield from local(services, task, inputs, cancel)
    route = decide(services.settings.cloud, task, result.confidence)
    if route == "local" or (cancel is not None and cancel.is_set()):
        return result
    return escalate(services, cloud_request(services, task, inputs, result), result, route, consent, cancel, on_cloud_text)
