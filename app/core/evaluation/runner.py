"""Run labelled cases through Hearth's own tasks, locally or through the cloud, and score each one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import HearthError
from app.core.evaluation.cases import AskCase, ClassifyCase, ExtractCase, SummarizeCase
from app.core.evaluation.scoring import Score, score
from app.core.routing import router
from app.core.streams import drain
from app.core.tasks.result import TaskResult

EVAL_COLLECTION = "hearth-eval"


@dataclass
class Outcome:
    case: object
    route: str  # "local" or "cloud"
    result: TaskResult | None
    score: Score | None
    latency_s: float
    error: str | None = None  # the task failed on this case: scored wrong, reported, the run goes on

    @property
    def correct(self) -> bool:
        return bool(self.score and self.score.correct)


def prepare(services, cases: list, docs: Path | None) -> None:
    """Ingest --docs into a fresh collection when any case asks questions of documents."""
    if not any(isinstance(c, AskCase) for c in cases):
        return
    if docs is None:
        raise HearthError("the dataset has ask cases: give the documents they ask about with --docs DIR")
    from app.core.ingest import ingest

    library = services.library
    if any(c.name == EVAL_COLLECTION for c in library.collections()):
        library.delete_collection(EVAL_COLLECTION)
    report = ingest(services, [docs], EVAL_COLLECTION)
    if not report.count("indexed"):
        raise HearthError(f"nothing under {docs} could be indexed for the ask cases")


def task_inputs(case, docs: Path | None) -> tuple[str, dict]:
    """The router's task name and inputs for a case."""
    if isinstance(case, ClassifyCase):
        return "classify", {"text": case.input, "labels": case.labels}
    if isinstance(case, ExtractCase):
        return "extract", {"text": case.input, "schema": case.schema_}
    if isinstance(case, AskCase):
        return "ask", {"question": case.question, "collection": EVAL_COLLECTION}
    if isinstance(case, SummarizeCase):
        from app.core.isolation import read_texts

        if docs is None:
            raise HearthError(f"case {case.id}: a summarize case names a file under --docs; give --docs DIR")
        return "summarize", {"text": read_texts([docs / case.file])}
    raise TypeError(f"no task for {type(case).__name__}")


def _timed(case, route: str, run) -> Outcome:
    started = time.perf_counter()
    try:
        result = run()
    except (HearthError, OSError, ValueError) as exc:
        return Outcome(case, route, None, None, time.perf_counter() - started, error=str(exc).splitlines()[0])
    return Outcome(case, route, result, score(case, result), time.perf_counter() - started)


def local_outcomes(services, cases: list, docs: Path | None) -> Iterator[Outcome]:
    """Each case's scored local outcome, in order; a case whose task fails is an error outcome, not the end."""
    for case in cases:
        def run(case=case) -> TaskResult:
            task, inputs = task_inputs(case, docs)
            return drain(router.local(services, task, inputs))
        yield _timed(case, "local", run)


def cloud_outcome(services, case, docs: Path | None, local: Outcome) -> Outcome:
    """The same case answered by the cloud model (redacted, recorded in the ledger); on a cloud
    failure the result is the local one, flagged, exactly as a user would get it."""
    from app.core.routing.escalation import escalate

    def run() -> TaskResult:
        task, inputs = task_inputs(case, docs)
        if local.result is None:
            raise HearthError(local.error or "the local run failed")
        return escalate(services, router.cloud_request(services, task, inputs, local.result), local.result, "auto")
    return _timed(case, "cloud", run)
