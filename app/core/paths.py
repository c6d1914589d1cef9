"""Every place Hearth reads or writes, in one module.

`HEARTH_HOME` moves config, data, cache and logs under one folder (tests always set it).
Nothing is ever written into the working directory.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import platformdirs

APP_NAME = "hearth"
# The source checkout, when the app runs from one (None in a wheel or frozen build).
_REPO = Path(__file__).resolve().parents[2]
SOURCE_CHECKOUT: Path | None = _REPO if (_REPO / "pyproject.toml").is_file() and (_REPO / "models").is_dir() else None


def home_override() -> Path | None:
    value = os.environ.get("HEARTH_HOME")
    return Path(value).expanduser().resolve() if value else None


def _dir(kind: str, create: bool = True) -> Path:
    home = home_override()
    if home is not None:
        path = home / kind
    else:
        path = Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    return _dir("config")


def data_dir(create: bool = True) -> Path:
    """`create=False` only names it: a second launch must not touch the running one's folder."""
    return _dir("data", create)


def cache_dir() -> Path:
    return _dir("cache")


def log_dir() -> Path:
    return _dir("log")


def runtime_dir() -> Path:
    """Per-user, private (0700) and short-lived: the single-instance socket lives here, never
    under HEARTH_HOME, whose path may be longer than a Unix socket name allows."""
    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR: platformdirs falls back to /tmp and says so
        warnings.simplefilter("ignore")
        path = Path(platformdirs.user_runtime_dir(APP_NAME, appauthor=False))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def settings_file() -> Path:
    return config_dir() / "settings.toml"


def store_dir() -> Path:
    return data_dir() / "store"


def catalog_db() -> Path:
    return data_dir() / "catalog.sqlite"


def models_dir() -> Path:
    """Where fetched and imported model files are written.

    A source checkout keeps its GGUFs in the repository's git-ignored `models/`, unless
    HEARTH_HOME redirects everything (tests, portable installs).
    """
    if SOURCE_CHECKOUT is not None and home_override() is None:
        return SOURCE_CHECKOUT / "models"
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_search_dirs() -> list[Path]:
    """Where model files are looked up: the writable folder first, then the checkout's."""
    dirs = [models_dir()]
    if SOURCE_CHECKOUT is not None and SOURCE_CHECKOUT / "models" not in dirs:
        dirs.append(SOURCE_CHECKOUT / "models")
    return dirs


def model_catalog_file() -> Path:
    """The catalog of known models: the checkout's, or the one a wheel ships as `hearth_models`."""
    if SOURCE_CHECKOUT is not None:
        return SOURCE_CHECKOUT / "models" / "catalog.toml"
    from importlib import resources as importlib_resources

    return Path(str(importlib_resources.files("hearth_models") / "catalog.toml"))


def imported_models_file() -> Path:
    return data_dir() / "imported_models.toml"
