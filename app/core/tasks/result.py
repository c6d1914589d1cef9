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
    text: str
    confidence: float
    route: str = "local"
    citations: list[Citation] = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "answer": self.text,
            "citations": [asdict(c) for c in self.citations],
            "confidence": round(self.confidence, 4),
            "route": self.route,
            "timings": self.timings,
        }
