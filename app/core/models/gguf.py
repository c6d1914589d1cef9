"""A reader for GGUF headers: enough to reject a file that is not a model or is cut short,
before llama.cpp gets it (llama.cpp's own failure message is a bare 'failed to load')."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

MAGIC = b"GGUF"
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_MAX_COUNT = 1 << 24  # far above any real model; a larger count means a corrupt header


class GGUFError(ValueError):
    pass


@dataclass
class GGUFInfo:
    version: int
    tensor_count: int
    metadata: dict[str, object] = field(default_factory=dict)
    data_offset: int = 0
    max_tensor_offset: int = 0

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", ""))

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return str(value) if value is not None else None


def _read(f: BinaryIO, fmt: str) -> object:
    size = struct.calcsize(fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise GGUFError("file ends inside its header (truncated)")
    return struct.unpack(fmt, raw)[0]


def _count(f: BinaryIO) -> int:
    n = int(_read(f, "<Q"))
    if n > _MAX_COUNT:
        raise GGUFError(f"implausible count {n} in header (corrupt)")
    return n


def _string(f: BinaryIO) -> str:
    n = int(_read(f, "<Q"))
    if n > 64 << 20:
        raise GGUFError("implausible string length in header (corrupt)")
    raw = f.read(n)
    if len(raw) != n:
        raise GGUFError("file ends inside its header (truncated)")
    return raw.decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int) -> object:
    if kind in _SCALARS:
        return _read(f, _SCALARS[kind])
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item_kind = int(_read(f, "<I"))
        items = [_value(f, item_kind) for _ in range(_count(f))]
        # Token tables are huge and not needed here: keep only their length.
        return items if len(items) <= 64 else len(items)
    raise GGUFError(f"unknown metadata type {kind} (corrupt)")


def read_info(path: Path) -> GGUFInfo:
    """Parse the header, metadata and tensor table, and check the tensor data fits the file."""
    size = path.stat().st_size
    with path.open("rb") as f:
        if f.read(4) != MAGIC:
            raise GGUFError("not a GGUF file (bad magic bytes)")
        version = int(_read(f, "<I"))
        if version not in (2, 3):
            raise GGUFError(f"unsupported GGUF version {version}")
        info = GGUFInfo(version=version, tensor_count=_count(f))
        for _ in range(_count(f)):
            key = _string(f)
            info.metadata[key] = _value(f, int(_read(f, "<I")))
        for _ in range(info.tensor_count):
            _string(f)
            dims = int(_read(f, "<I"))
            for _ in range(dims):
                _read(f, "<Q")
            _read(f, "<I")
            info.max_tensor_offset = max(info.max_tensor_offset, int(_read(f, "<Q")))
        align = int(info.metadata.get("general.alignment", 32) or 32)  # type: ignore[arg-type]
        info.data_offset = (f.tell() + align - 1) // align * align
    if info.data_offset + info.max_tensor_offset >= size:
        raise GGUFError("tensor data runs past the end of the file (truncated)")
    return info
