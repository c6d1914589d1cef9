"""What a drag carries, in the form app.core.drops sorts: local paths, and the addresses of
non-local URLs (which core refuses with the reason rather than dropping them unseen)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData


def dropped_items(mime: QMimeData) -> list[str]:
    return [url.toLocalFile() if url.isLocalFile() else url.toString() for url in mime.urls()]
