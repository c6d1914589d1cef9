"""One way to reach runtime assets from a source checkout, an installed wheel or a frozen build."""

from __future__ import annotations

import sys
from importlib import resources as importlib_resources
from pathlib import Path


def resources_root() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:  # PyInstaller unpacks data next to the executable
        return Path(frozen) / "resources"
    checkout = Path(__file__).resolve().parents[2] / "resources"
    if checkout.is_dir():
        return checkout
    # An installed wheel maps the top-level resources/ folder to this package.
    return Path(str(importlib_resources.files("hearth_resources")))


def resource_path(*parts: str) -> Path:
    path = resources_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"missing resource {'/'.join(parts)} under {resources_root()}")
    return path
