"""System, light or dark: the Fusion style with an explicit palette, so the look is the same on
every desktop and a dark theme works where the platform offers none."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

THEMES = ("system", "light", "dark")
_R = QPalette.ColorRole
_DARK = {_R.Window: "#2b2d31", _R.WindowText: "#e8e8e8", _R.Base: "#1f2023", _R.AlternateBase: "#2f3136",
         _R.ToolTipBase: "#3a3c42", _R.ToolTipText: "#f0f0f0", _R.Text: "#e8e8e8", _R.Button: "#35373c",
         _R.ButtonText: "#e8e8e8", _R.BrightText: "#ff6b6b", _R.Highlight: "#4c8bf5", _R.HighlightedText: "#ffffff",
         _R.Link: "#8ab4f8", _R.PlaceholderText: "#9a9ca3", _R.Mid: "#44464c", _R.Midlight: "#3c3e44", _R.Dark: "#18191b"}
_LIGHT = {_R.Window: "#f4f4f5", _R.WindowText: "#1d1d1f", _R.Base: "#ffffff", _R.AlternateBase: "#f0f1f3",
          _R.ToolTipBase: "#ffffdc", _R.ToolTipText: "#1d1d1f", _R.Text: "#1d1d1f", _R.Button: "#e9e9ec",
          _R.ButtonText: "#1d1d1f", _R.BrightText: "#c62828", _R.Highlight: "#2f6fdb", _R.HighlightedText: "#ffffff",
          _R.Link: "#1a56c4", _R.PlaceholderText: "#7a7a80", _R.Mid: "#c8c8cc", _R.Midlight: "#dcdce0", _R.Dark: "#a0a0a6"}
_system_palette: QPalette | None = None
_BOXES = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorRadioButton)
_BOX_FRAME = "#8a8d96"  # a dark theme's check box and radio button frame


class _Style(QProxyStyle):
    """Fusion, with check boxes and radio buttons that stay visible on a dark theme: Fusion frames
    them in the window colour darkened, which there is the list's own background (#1f2023 on
    #1f2023), so an unticked box vanished. They are framed in a light grey instead."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element, option, painter, widget=None) -> None:
        if element in _BOXES and option.palette.color(_R.Window).lightness() < 128:
            option = type(option)(option)
            palette = QPalette(option.palette)
            palette.setColor(_R.Window, QColor(_BOX_FRAME).lighter(140))  # Fusion darkens it by 140 for the frame
            option.palette = palette
        super().drawPrimitive(element, option, painter, widget)


def apply(theme: str) -> None:
    global _system_palette
    app = QApplication.instance()
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
    if not isinstance(app.style(), _Style):
        app.setStyle(_Style())
    if theme == "system":
        app.setPalette(_system_palette)
        _restyle(app)
        return
    palette = QPalette()
    for role, color in (_DARK if theme == "dark" else _LIGHT).items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, _R.Text, QColor("#7a7a80"))
    palette.setColor(QPalette.ColorGroup.Disabled, _R.ButtonText, QColor("#7a7a80"))
    app.setPalette(palette)
    _restyle(app)


def _restyle(app: QApplication) -> None:
    # A widget with a style sheet of its own (a citation chip, a badge) keeps the palette it was
    # polished with: dark text on a dark button after switching to dark. Setting its sheet again re-polishes it.
    for widget in app.allWidgets():
        if widget.styleSheet():
            widget.setStyleSheet(widget.styleSheet())


def is_dark() -> bool:
    return QGuiApplication.palette().color(_R.Window).lightness() < 128


def highlight_color(alpha: int = 110) -> QColor:
    """The marker colour for cited words and lines, readable on either theme."""
    color = QColor("#ffd54f") if not is_dark() else QColor("#b08900")
    color.setAlpha(alpha)
    return color
