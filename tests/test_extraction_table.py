"""How the extraction table shows a number: with the decimals the file wrote it with, right-aligned,
and the CSV export the same (the table showed the total of "EUR 4,800.00" as "4800.0")."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.core.documents.model import Document, Section
from app.core.sources import SourceText
from app.ui.extraction_model import ExtractionModel, ExtractionRow, number_text


@pytest.mark.parametrize(("value", "written", "shown"), [
    (4800.0, "4,800.00", "4800.00"),
    (325.5, "325.50", "325.50"),
    (1234.56, "1.234,56", "1234.56"),  # European notation
    (4800.0, "4,800", "4800"),  # a thousands group, not decimals
    (1234.0, "1.234", "1234"),
    (1.234, "1,234", "1.234"),  # a decimal comma
    (19.9, "EUR 19.90 incl. VAT", "19.90"),
    (4800.0, None, "4800"),  # not found in the file: no bare ".0"
    (0.25, None, "0.25"),
])
def test_a_number_keeps_the_decimals_it_was_written_with(value, written, shown):
    assert number_text(value, written) == shown


def test_the_table_and_its_csv_show_amounts_as_the_invoice_writes_them(qapp, tmp_path):
    text = "Invoice INV-7\nAmount due: EUR 4,800.00\nItems: 3\n"
    source = SourceText.of(Document(path=tmp_path / "inv.txt", kind="text", sections=[Section(text=text, line_start=1)]))
    start = text.index("4,800.00")
    model = ExtractionModel()
    model.reset(["invoice_number", "total", "items", "paid"])
    model.add(ExtractionRow("inv.txt", source.path.as_posix(), {"invoice_number": "INV-7", "total": 4800.0, "items": 3, "paid": True},
                            {"total": {"start": start, "end": start + 8}}, 0.8, "local", source))
    headers = model.headers()
    cell = {h: model.index(0, c) for c, h in enumerate(headers)}
    assert [cell[h].data() for h in ("invoice_number", "total", "items", "paid")] == ["INV-7", "4800.00", "3", "True"]
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert cell["total"].data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert cell["items"].data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert cell["invoice_number"].data(Qt.ItemDataRole.TextAlignmentRole) is None
    assert cell["paid"].data(Qt.ItemDataRole.TextAlignmentRole) is None  # a yes/no is no figure
    target = tmp_path / "out.csv"
    model.to_csv(target)
    with Path(target).open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle))[1][headers.index("total")] == "4800.00"


def test_a_value_the_local_run_is_unsure_of_is_tinted_and_its_tooltip_says_so(qapp, tmp_path):
    from app.ui.extraction_model import UNSURE

    model = ExtractionModel()
    model.reset(["invoice_number", "total", "vendor"])
    confidence = {"invoice_number": 0.97, "total": 0.42, "vendor": 0.0}
    model.add(ExtractionRow("a.txt", None, {"invoice_number": "INV-7", "total": 12.5, "vendor": None}, {}, 0.3, "local", None,
                            field_confidence=confidence))
    # the cloud answered "total" (asked because unsure): it has no local confidence, so no tint
    model.add(ExtractionRow("b.txt", None, {"invoice_number": "INV-8", "total": 9.0, "vendor": "Acme"}, {}, 0.9, "cloud", None,
                            field_confidence={"invoice_number": 0.97, "vendor": 0.95}))
    column = {h: c for c, h in enumerate(model.headers())}

    def tint(row, field):
        return model.index(row, column[field]).data(Qt.ItemDataRole.BackgroundRole)

    assert [tint(0, f) for f in ("invoice_number", "total", "vendor")] == [None, UNSURE, UNSURE]  # a value not found is unsure too
    assert [tint(1, f) for f in ("invoice_number", "total", "vendor")] == [None, None, None]
    assert model.index(0, column["File"]).data(Qt.ItemDataRole.BackgroundRole) is None
    tip = model.index(0, column["total"]).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Unsure (confidence 42%)") and "not found in the file" in tip
    assert model.index(0, column["invoice_number"]).data(Qt.ItemDataRole.ToolTipRole) == "not found in the file"
    target = tmp_path / "out.json"
    model.to_json(target)
    assert [r["field_confidence"] for r in json.loads(target.read_text())] == [confidence, {"invoice_number": 0.97, "vendor": 0.95}]
