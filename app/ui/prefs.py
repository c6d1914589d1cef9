"""Window preferences that only the desktop front end has (theme, geometry, first run), kept in
an INI file in Hearth's config folder so HEARTH_HOME moves them with everything else."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from app.core import paths


def prefs() -> QSettings:
    return QSettings(str(paths.config_dir() / "window.ini"), QSettings.Format.IniFormat)
