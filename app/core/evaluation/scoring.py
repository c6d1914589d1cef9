"""How a result is judged against its case (the rules the harness documents)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.evaluation.cases import AskCase, ClassifyCase, ExtractCase, SummarizeCase
from app.core.tasks.ask import NOT_FOUND
from app.core.tasks.extract import field_scores
from app.core.tasks.result import TaskResult

# An honest answer to an unanswerable question, from Hearth or from a cloud model.
REFUSALS = (NOT_FOUND.lower().rstrip("."), "do not say", "not in the documents", "doesn't say", "does not say",
            "not mentioned", "no information", "don't contain", "do not contain", "doesn't contain", "does not contain")
SUMMARY_PASS = 0.5  # a summary counts as right when it keeps at least half the expected keywords


@dataclass
class Score:
    correct: bool
    value: float  # classify/ask: 0 or 1; extract: field accuracy; summarize: keyword fraction
    retrieval_hit: bool | None = None  # ask: the expected file (and page) among the citations
    fields: dict[str, bool] = field(default_factory=dict)


def refuses(answer: str) -> bool:
    answer = answer.lower()
    return any(r in answer for r in REFUSALS)


def score(case, result: TaskResult) -> Score:
    if isinstance(case, ClassifyCase):
        ok = result.label == case.expected
        return Score(ok, float(ok))
    if isinstance(case, ExtractCase):
        fields = field_scores(case.expected, result.data)
        return Score(bool(fields) and all(fields.values()), sum(fields.values()) / max(1, len(fields)), fields=fields)
    if isinstance(case, AskCase):
        return _score_ask(case, result)
    if isinstance(case, SummarizeCase):
        text = result.text.lower()
        kept = sum(k.lower() in text for k in case.expected_keywords) / len(case.expected_keywords)
        return Score(kept >= SUMMARY_PASS, kept)
    raise TypeError(f"no scoring for {type(case).__name__}")


def _score_ask(case: AskCase, result: TaskResult) -> Score:
    if case.expected_source is None:
        ok = refuses(result.text)
        return Score(ok, float(ok))
    answer = result.text.lower()
    ok = any(e.lower() in answer for e in case.expected) and not refuses(result.text)
    hit = any(c.file == case.expected_source and (case.expected_page is None or c.page == case.expected_page)
              for c in result.citations)
    return Score(ok, float(ok), retrieval_hit=hit)
