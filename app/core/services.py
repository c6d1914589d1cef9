"""The services both front ends use. Heavy parts (embedder, store, model) load on first use,
once, under a lock, so the GUI can start instantly and the CLI pays only for what it needs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from app.core import netpolicy, paths
from app.core import settings as settings_mod
from app.core.settings import Settings
from app.core.store import DEFAULT_COLLECTION  # noqa: F401 - re-exported for front ends



def _embedder():
    from app.core.embedding import Embedder

    return Embedder()


def _library(settings: Settings):
    from app.core.store.library import Library

    return Library(settings.store.server_url)


def _parser():
    from app.core.isolation import ParserProcess

    return ParserProcess()


class Services:
    def __init__(self, settings: Settings | None = None, shared: dict[str, Any] | None = None) -> None:
        """`shared` parts (say an embedder another Services already loaded) are used, not owned."""
        self.settings = settings or settings_mod.load()
        netpolicy.install(self.settings.cloud)
        netpolicy.allow_store(self.settings.store.server_url)
        self._lock = threading.Lock()
        self.ingest_lock = threading.Lock()  # the watcher and the window may both ingest
        self._parts: dict[str, Any] = dict(shared or {})
        self._shared = set(self._parts)

    def _part(self, name: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._parts:
                self._parts[name] = make()
            return self._parts[name]

    @property
    def embedder(self):
        return self._part("embedder", _embedder)

    @property
    def library(self):
        """The catalog and vector store; opening it takes the data-folder lock."""
        return self._part("library", lambda: _library(self.settings))

    @property
    def parser(self):
        return self._part("parser", _parser)

    @property
    def engine(self):
        return self._part("engine", self._engine)

    def _engine(self):
        from app.core.llm.local import LocalEngine
        from app.core.models import chat_model_path

        s = self.settings
        return LocalEngine(chat_model_path(s.chat_model or None), n_ctx=s.n_ctx, n_threads=s.n_threads, n_gpu_layers=s.n_gpu_layers)

    def drop_engine(self) -> None:
        """Close the engine (after its queued work) so the next use loads one with the current
        settings; a shared engine is left running for its owner."""
        with self._lock:
            engine = self._parts.pop("engine", None)
            owned = "engine" not in self._shared
            self._shared.discard("engine")
        if engine is not None and owned:
            engine.close()

    def loaded(self, name: str) -> bool:
        return name in self._parts

    def close(self) -> None:
        with self._lock:
            for name in ("engine", "parser", "library"):
                if name in self._parts and name not in self._shared:
                    self._parts.pop(name).close()
