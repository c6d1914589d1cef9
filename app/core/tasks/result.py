from __future__ import annotations

from dataclasses import asdict, dataclass, field

from app.core.errors import HearthError


class TaskError(HearthError):
    """Bad input for a task (empty question, empty collection…); str() is one line."""


@dataclass(frozen=True)
class Citation:
    file: str
    path: str
    page: int | None
    line_start: int | None
    line_end: int | None
    quote: str
    score: float


@dataclass
class TaskResult:
    """One result type for every task; `as_json` gives each task's documented keys."""

    text: str
    confidence: float  # calibrated when the task has a fit (app.core.routing.confidence)
    task: str = "ask"  # ask | summarize | extract | classify | transform
    route: str = "local"
    citations: list[Citation] = field(default_factory=list)
    timings: dict = field(default_factory=dict)  # ttft_s, total_s, tokens_in, tokens_out
    data: dict | None = None  # extract: the validated JSON
    valid: bool | None = None  # extract: whether data matches the schema
    spans: dict | None = None  # extract: field -> {"start", "end", "text"} in the input, when found
    field_confidence: dict[str, float] | None = None  # extract: field -> raw confidence, so only uncertain fields need escalating
    label: str | None = None  # classify
    scores: dict[str, float] | None = None  # classify: label -> probability
    raw_confidence: float | None = None  # the signal score before calibration
    abstained: bool = False  # ask: "The documents don't say"; its confidence is how often a refusal was right on dev
    escalation: dict | None = None  # set when the cloud was considered: status sent|declined|failed, detail, ledger_id

    def as_json(self) -> dict:
        common = {"confidence": round(self.confidence, 4), "raw_confidence": self.raw_confidence, "route": self.route,
                  "timings": self.timings}
        if self.escalation is not None:
            common["escalation"] = self.escalation
        if self.task == "ask":
            return {"answer": self.text, "citations": [asdict(c) for c in self.citations], **common}
        if self.task == "extract":
            return {"data": self.data, "valid": self.valid, "spans": self.spans, "field_confidence": self.field_confidence, **common}
        if self.task == "classify":
            return {"label": self.label, "scores": self.scores, **common}
        return {"text": self.text, **common}
