"""Extraction over many files as a table model: one row per file, one column per schema field.
A cell's tooltip is its evidence in the file; a value the local run is unsure of is tinted, so a
reviewer of 200 invoices checks those cells, not all of them; the table exports as CSV and JSON."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from app.core.sources import SourceText
from app.core.tasks.extract import SURE

UNSURE = QColor(255, 179, 0, 70)  # translucent amber: the text on it reads on either theme


@dataclass
class ExtractionRow:
    file: str
    path: str | None
    data: dict | None
    spans: dict
    confidence: float
    route: str
    source: SourceText | None
    error: str | None = None
    field_confidence: dict[str, float] | None = None  # the local run's, per field; a field the cloud answered has none


_LAST_DIGITS = re.compile(r"[.,](\d+)\D*$")


def number_text(value: float, written: str | None) -> str:
    """A number with the decimals the document wrote it with ("EUR 4,800.00" -> "4800.00", "325.50"
    -> "325.50", where str gave "4800.0" and "325.5"); without a written form, no bare ".0". The
    last digit group counts as decimals only when the value's own decimals match it, so the
    "800" of "4,800" is a thousands group."""
    found = _LAST_DIGITS.search(written or "")
    if found:
        decimals = found.group(1)
        shown = f"{value:.{len(decimals)}f}"
        if shown.endswith("." + decimals):
            return shown
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else str(value)


def cell_text(value, written: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return number_text(value, written)
    return str(value)


class ExtractionModel(QAbstractTableModel):
    FIXED = ("File",)
    TAIL = ("Confidence", "Route")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.fields: list[str] = []
        self.rows: list[ExtractionRow] = []

    def reset(self, fields: list[str]) -> None:
        self.beginResetModel()
        self.fields, self.rows = list(fields), []
        self.endResetModel()

    def add(self, row: ExtractionRow) -> None:
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
        self.rows.append(row)
        self.endInsertRows()

    def headers(self) -> list[str]:
        return [*self.FIXED, *self.fields, *self.TAIL]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.headers())

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt override
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        return None

    def field_of(self, column: int) -> str | None:
        offset = column - len(self.FIXED)
        return self.fields[offset] if 0 <= offset < len(self.fields) else None

    def display(self, row: ExtractionRow, column: int) -> str:
        name = self.headers()[column]
        if name == "File":
            return row.file
        if name == "Confidence":
            return f"{row.confidence:.0%}" if row.error is None else ""
        if name == "Route":
            return ("sent to the cloud" if row.route == "cloud" else "on this computer") if row.error is None else row.error
        return cell_text((row.data or {}).get(name), self.written(row, name))

    @staticmethod
    def _span_for(row: ExtractionRow, field: str) -> dict | None:
        """The field's evidence; for a list or object, that of its first element found."""
        return row.spans.get(field) or next((s for k, s in row.spans.items() if k.startswith((f"{field}[", f"{field}."))), None)

    @staticmethod
    def written(row: ExtractionRow, field: str) -> str | None:
        """The field's value as the file has it."""
        span = row.spans.get(field)
        return row.source.text[span["start"]:span["end"]] if span and row.source is not None else None

    @staticmethod
    def unsure(row: ExtractionRow, field: str) -> float | None:
        """The field's confidence when it is below the bar escalation asks the cloud from (SURE)."""
        confidence = (row.field_confidence or {}).get(field)
        return confidence if confidence is not None and confidence < SURE else None

    def evidence(self, row: ExtractionRow, field: str) -> str | None:
        span = self._span_for(row, field)
        if not span or row.source is None:
            return None
        text, start, end = row.source.text, span["start"], span["end"]
        before, after = text[max(0, start - 60):start], text[end:end + 60]
        anchor = row.source.anchor(start)
        where = f"page {anchor.page}" if anchor.page else f"line {anchor.line}" if anchor.line else ""
        return f"{where}: …{' '.join(before.split())} [{text[start:end]}] {' '.join(after.split())}…"

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, field = self.rows[index.row()], self.field_of(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            value = (row.data or {}).get(field or "")
            # figures line up by their last digit (a yes/no is a bool, no figure)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter) if type(value) in (int, float) else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return UNSURE if field is not None and self.unsure(row, field) is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if field is None:
                return row.path
            where = self.evidence(row, field) or "not found in the file"
            unsure = self.unsure(row, field)
            return where if unsure is None else f"Unsure (confidence {unsure:.0%}): worth checking.\n{where}"
        return None

    def span(self, index: QModelIndex) -> tuple[ExtractionRow, dict] | None:
        """The row and evidence span behind a cell, when the value was found in the file."""
        row, field = self.rows[index.row()], self.field_of(index.column())
        if field is None:
            return None
        span = self._span_for(row, field)
        return (row, span) if span and row.source is not None else None

    # -- export --------------------------------------------------------------------------
    def to_csv(self, path: Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.headers())
            for row in self.rows:
                writer.writerow(self.display(row, c) for c in range(len(self.headers())))

    def to_json(self, path: Path) -> None:
        records = [{"file": r.file, "path": r.path, "data": r.data, "confidence": r.confidence, "field_confidence": r.field_confidence,
                    "route": r.route, "error": r.error} for r in self.rows]
        Path(path).write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
