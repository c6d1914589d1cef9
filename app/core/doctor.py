"""`hearth doctor`: every check a user or a bug report needs, each with a verdict."""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict, dataclass
from importlib import metadata

from app.core import netpolicy, paths
from app.core.models import check, find
from app.core.secrets import key_needed, key_status, keyring_status
from app.core.settings import Settings


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


_PACKAGES = ["llama-cpp-python", "chromadb", "sentence-transformers", "torch", "PySide6-Essentials", "pypdf", "keyring"]
if getattr(sys, "frozen", False):  # the bundle embeds through its shipped ONNX export, without torch
    _PACKAGES = [p for p in _PACKAGES if p not in ("sentence-transformers", "torch")]


def _versions() -> dict[str, str]:
    versions = {"hearth": __import__("app").__version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def _embedder_loads() -> Check:
    try:
        from app.core.embedding import Embedder

        dim = Embedder().dimension
        return Check("embedder offline", True, f"all-MiniLM-L6-v2 loads with HF_HUB_OFFLINE=1 ({dim} dimensions)")
    except Exception as exc:  # noqa: BLE001 - report, never crash the doctor
        return Check("embedder offline", False, f"{type(exc).__name__}: {exc}")


def _telemetry() -> Check:
    from app.core.store.vectors import CHROMA_SETTINGS

    off = CHROMA_SETTINGS.anonymized_telemetry is False
    return Check("chroma telemetry", off, "off" if off else "ON: anonymized_telemetry must be False")


def _gpu_words(available: bool, layers: int) -> str:
    if not available:
        return "GPU offload not built in (CPU only; see the README's GPU section)"
    return f"GPU offload available, settings offload {'all layers' if layers < 0 else f'{layers} layers'}"


def _llama_library(settings: Settings) -> tuple[Check, dict]:
    from app.core.llm.cpu import installed_library

    lib = installed_library()
    detail = lib.problems[0] if lib.problems else (f"CPU features in use: {', '.join(lib.in_use) or 'baseline x86-64'}; "
                                                   f"{_gpu_words(lib.gpu_offload, settings.n_gpu_layers)}")
    facts = {"system_info": lib.system_info, "features": lib.features, "in_use": lib.in_use, "gpu_offload": lib.gpu_offload,
             "gpu_layers": settings.n_gpu_layers if lib.gpu_offload else 0, "cpu_missing": lib.cpu_missing, "problems": lib.problems}
    return Check("llama.cpp library", not lib.problems, detail), facts


def run(settings: Settings, load_embedder: bool = True) -> dict:
    checks: list[Check] = []
    versions = _versions()
    missing = [k for k, v in versions.items() if v == "missing"]
    checks.append(Check("packages", not missing, "all installed" if not missing else f"missing: {', '.join(missing)}; run `make run`"))
    llama_check, llama_facts = _llama_library(settings)
    checks.append(llama_check)
    for role in ("chat", "embedding"):
        entry = find(settings.chat_model or None if role == "chat" else None, role)
        status = check(entry)
        detail = status.problem or f"{status.path} ({'sha256 verified' if entry.sha256 else 'package installed'})"
        checks.append(Check(f"{role} model {entry.name}", status.verified, detail))
    if load_embedder:
        checks.append(_embedder_loads())
    store = paths.store_dir()
    checks.append(Check("store", True, f"{store}{'' if store.exists() else ' (created on first ingest)'}"))
    checks.append(Check("folders", True, f"config {paths.config_dir()}, data {paths.data_dir()}, logs {paths.log_dir()}"))
    secure, backend = keyring_status()
    keyring_detail = f"{backend} ({'secure' if secure else 'not secure: cloud escalation stays unavailable'})"
    checks.append(Check("keyring", secure, keyring_detail, required=False))
    cloud = settings.cloud
    checks.append(Check("cloud escalation", True, f"enabled, policy {cloud.policy}, {cloud.base_url}" if cloud.enabled else "off", required=False))
    if cloud.enabled:
        key = key_status(cloud.base_url)  # never the key itself
        usable = key["stored"] or not key_needed(cloud.base_url)
        detail = f"stored in {key['backend']}" if key["stored"] else key["reason"] or "not stored: run `hearth cloud set-key`"
        checks.append(Check("cloud key", usable and key["secure"], detail, required=False))
    checks.append(_telemetry())
    checks.append(Check("network policy", True, netpolicy.describe()))
    if settings.warning:
        checks.append(Check("settings", False, settings.warning, required=False))
    ok = all(c.ok for c in checks if c.required)
    return {"ok": ok, "versions": versions, "platform": f"{platform.system()} {platform.machine()}", "python": sys.executable,
            "home": str(paths.data_dir()), "llama_cpp": llama_facts, "checks": [asdict(c) for c in checks]}
