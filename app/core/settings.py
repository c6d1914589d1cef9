"""Typed settings stored as TOML, with a schema version.

An unreadable file is set aside as a backup and the app starts on the defaults; the
warning is kept on the loaded settings so every front end can show it.
"""

from __future__ import annotations

import logging
import time
import tomllib
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from app.core import paths

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


Policy = Literal["never", "ask", "auto"]
TaskName = Literal["ask", "summarize", "extract", "classify", "transform", "chat"]  # chat: `hearth serve`


class TaskCloudPolicy(BaseModel):
    """A task's own policy or threshold; None keeps the general one."""

    model_config = ConfigDict(extra="forbid")

    policy: Policy | None = None
    threshold: float | None = Field(None, ge=0.0, le=1.0)


class CloudSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Off by default: with "never", no non-loopback socket is ever opened. "ask" previews the
    # redacted payload and waits for consent; "auto" sends when confidence < threshold.
    policy: Policy = "never"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    tasks: dict[TaskName, TaskCloudPolicy] = {}
    base_url: str = ""
    model: str = ""
    price_per_1k: float = Field(0.0, ge=0.0)
    timeout_s: float = Field(60.0, gt=0.0)
    retries: int = Field(2, ge=0, le=5)
    max_input_tokens: int = Field(3000, ge=256)  # the most that leaves for one request (summaries are cut to it)
    # The tray's "Pause cloud escalation": wins over every policy until turned back, in every front end.
    paused: bool = False

    @model_validator(mode="before")
    @classmethod
    def _drop_old_switch(cls, data):
        # Before the policy existed, an `enabled` flag stood for it; the policy now says it all.
        if isinstance(data, dict) and "enabled" in data:
            data = {k: v for k, v in data.items() if k != "enabled"}
        return data

    @property
    def enabled(self) -> bool:
        """Escalation can happen for some task: a provider is set and some policy is not never."""
        policies = {self.policy} | {t.policy for t in self.tasks.values() if t.policy}
        return bool(self.base_url) and policies != {"never"}

    def for_task(self, task: str) -> tuple[str, float]:
        own = self.tasks.get(task, TaskCloudPolicy())
        return own.policy or self.policy, self.threshold if own.threshold is None else own.threshold


class RetrievalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(4, ge=1, le=50)
    chunk_tokens: int = Field(200, ge=32, le=1000)
    chunk_overlap: int = Field(40, ge=0, le=500)


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Empty: the embedded store in the data folder. Else a Chroma server (`chroma run`) a team
    # shares, catalog and all; its token, if any, is in the keyring (see app.core.store.server).
    server_url: str = ""

    @field_validator("server_url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        if url:
            from app.core.store.server import parse_url

            parse_url(url)  # a ValueError, which pydantic reports with the field
        return url.strip().rstrip("/")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    chat_model: str = ""  # empty: the catalog's default chat model
    n_ctx: int = Field(2048, ge=256)
    n_threads: int = Field(0, ge=0)  # 0: probe the machine
    # Layers offloaded to a GPU when llama.cpp was built with a GPU backend: -1 all, 0 none (CPU only),
    # N the first N (for a GPU whose memory holds only part of the model). Ignored on a CPU-only build.
    n_gpu_layers: int = Field(-1, ge=-1)
    max_answer_tokens: int = Field(160, ge=8)
    retrieval: RetrievalSettings = RetrievalSettings()
    cloud: CloudSettings = CloudSettings()
    store: StoreSettings = StoreSettings()

    _warning: str | None = PrivateAttr(default=None)

    @property
    def warning(self) -> str | None:
        return self._warning


def load(path: Path | None = None) -> Settings:
    path = path or paths.settings_file()
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Settings.model_validate(data)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
        backup = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        path.replace(backup)
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            reason = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        else:
            reason = str(exc).splitlines()[0]
        settings = Settings()
        settings._warning = f"settings file {path} could not be read ({reason}); kept it as {backup.name} and started on defaults"
        log.warning(settings._warning)
        return settings


def save(settings: Settings, path: Path | None = None) -> None:
    path = path or paths.settings_file()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(settings.model_dump(mode="json", exclude_none=True)), encoding="utf-8")  # TOML has no null
    tmp.replace(path)  # atomic: a crash never leaves half a settings file
