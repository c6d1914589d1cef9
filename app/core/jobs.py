"""What a front end needs to show progress of a task: how many generations a summary will take
(its map-reduce parts), and a view of the services that reports each generation as it starts."""

from __future__ import annotations

from collections.abc import Callable

from app.core.tasks import summarize as summarize_mod


def summary_parts(services, text: str, length: str = "medium") -> int:
    """The number of parts summarize() maps over, by its own rule."""
    return max(1, len(summarize_mod.plan(services.engine, text, length)))


class _ReportingEngine:
    def __init__(self, engine, on_generation: Callable[[], None]) -> None:
        self._engine, self._on_generation = engine, on_generation

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def stream(self, *args, **kwargs):
        self._on_generation()
        return self._engine.stream(*args, **kwargs)


class ReportingServices:
    """The same services, except that each generation the engine starts calls `on_generation`."""

    def __init__(self, services, on_generation: Callable[[], None]) -> None:
        self._services, self._on_generation = services, on_generation

    def __getattr__(self, name):
        return getattr(self._services, name)

    @property
    def engine(self):
        return _ReportingEngine(self._services.engine, self._on_generation)
