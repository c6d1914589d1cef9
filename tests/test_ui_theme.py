"""The themes as drawn: what a person must see stays visible on each (real widgets, rendered)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.ui import theme


@pytest.fixture
def themed(qapp):
    yield theme.apply
    theme.apply("system")


@pytest.mark.parametrize("name", ["dark", "light"])
def test_an_unticked_check_box_in_a_list_stands_out_from_the_list(qtbot, themed, name):
    # The task panel's document list: before the fix, Fusion framed the box in the dark window
    # colour darkened, which is the list's own background, so the unticked box could not be seen.
    themed(name)
    view = QListWidget()
    qtbot.addWidget(view)
    item = QListWidgetItem("team-handbook.pdf")
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Unchecked)
    view.addItem(item)
    view.resize(240, 80)
    view.show()
    qtbot.waitExposed(view)
    row = view.visualItemRect(item)
    image = view.viewport().grab().toImage()
    base = view.palette().color(QPalette.ColorRole.Base).lightness()
    # the box sits left of the text: the strongest contrast to the background there is its frame
    contrast = max(abs(image.pixelColor(x, y).lightness() - base)
                   for x in range(row.left(), row.left() + row.height()) for y in range(row.top(), row.bottom()))
    assert contrast >= 60
