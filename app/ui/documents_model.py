"""A collection's documents as a table model: thousands of rows cost nothing until drawn, and a
QSortFilterProxyModel sorts them by the raw values (sizes as bytes, dates as times)."""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from app.core.store.catalog import DocumentRecord

COLUMNS = ("Name", "Status", "Pages", "Chunks", "Size", "Updated", "Problem")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RECORD_ROLE = Qt.ItemDataRole.UserRole + 2
_STATUS_WORDS = {"indexed": "Indexed", "error": "Could not read", "needs password": "Needs a password",
                 "skipped": "Skipped", "pending": "Being indexed", "interrupted": "Interrupted, will redo"}


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


class DocumentsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[DocumentRecord] = []

    def set_records(self, records: list[DocumentRecord]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def records(self) -> list[DocumentRecord]:
        return list(self._rows)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt override
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, col = self._rows[index.row()], COLUMNS[index.column()]
        if role == RECORD_ROLE:
            return r
        if role == SORT_ROLE:
            return {"Name": r.name.lower(), "Status": r.status, "Pages": r.pages, "Chunks": r.chunks, "Size": r.size or 0,
                    "Updated": r.updated_at, "Problem": r.error or ""}[col]
        if role == Qt.ItemDataRole.DisplayRole:
            return {"Name": r.name, "Status": _STATUS_WORDS.get(r.status, r.status), "Pages": str(r.pages) if r.pages else "",
                    "Chunks": str(r.chunks) if r.chunks else "", "Size": human_size(r.size),
                    "Updated": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.updated_at)) if r.updated_at else "",
                    "Problem": r.error or ""}[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{r.path}\n{r.error}" if r.error else r.path
        if role == Qt.ItemDataRole.TextAlignmentRole and col in ("Pages", "Chunks", "Size"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def sorted_filtered(model: DocumentsModel, parent=None) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterKeyColumn(0)
    return proxy
