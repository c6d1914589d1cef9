"""Applying new model settings to running services: the old engine finishes its queue and
closes, and the next request loads the new one (call this off the UI thread, then touch
`services.engine` to load it now)."""

from __future__ import annotations

from app.core import settings as settings_mod
from app.core.settings import Settings

ENGINE_FIELDS = ("chat_model", "n_ctx", "n_threads", "n_gpu_layers")


def needs_reload(old: Settings, new: Settings) -> bool:
    return any(getattr(old, f) != getattr(new, f) for f in ENGINE_FIELDS)


def apply(services, new: Settings, save: bool = True) -> bool:
    """Store the settings and swap the engine if its settings changed; True when it was swapped.
    A shared engine (tests, a second window) is left running for its owner."""
    old, services.settings = services.settings, new
    if save:
        settings_mod.save(new)
    if not needs_reload(old, new):
        return False
    services.drop_engine()
    services.engine  # noqa: B018 - load the new one now, on this (worker) thread
    return True
