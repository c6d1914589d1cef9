"""The services both front ends use. Heavy parts (embedder, store, model) load on first use,
once, under a lock, so the GUI can start instantly and the CLI pays only for what it needs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from app.core import netpolicy, paths
from app.core import settings as settings_mod
from app.core.settings import Settings

DEFAULT_COLLECTION = "default"


def _embedder():
    from app.core.embedding import Embedder

    return Embedder()


def _store():
    from app.core.store.vectors import VectorStore

    return VectorStore(paths.store_dir())


def _catalog():
    from app.core.store.catalog import Catalog

    return Catalog(paths.catalog_db())


class Services:
    def __init__(self, settings: Settings | None = None, shared: dict[str, Any] | None = None) -> None:
        """`shared` parts (say an embedder another Services already loaded) are used, not owned."""
        self.settings = settings or settings_mod.load()
        netpolicy.install(self.settings.cloud)
        self._lock = threading.Lock()
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
    def store(self):
        return self._part("store", _store)

    @property
    def catalog(self):
        return self._part("catalog", _catalog)

    @property
    def engine(self):
        return self._part("engine", self._engine)

    def _engine(self):
        from app.core.llm.local import LocalEngine
        from app.core.models import chat_model_path

        s = self.settings
        return LocalEngine(chat_model_path(s.chat_model or None), n_ctx=s.n_ctx, n_threads=s.n_threads)

    def loaded(self, name: str) -> bool:
        return name in self._parts

    def close(self) -> None:
        with self._lock:
            for name in ("engine", "catalog"):
                if name in self._parts and name not in self._shared:
                    self._parts.pop(name).close()
